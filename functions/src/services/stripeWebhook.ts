/**
 * The Stripe webhook contract, independent of the HTTP framework: method, size, signature over the raw body,
 * envelope validation, mode check, then ONE durable write: the ledger entry (`stripeEvents/{id}`, status
 * `received`, holding the normalized event). Applying it happens after the answer (the ledger trigger), as Stripe
 * advises: 2xx only once the event is durably recorded; 4xx only where a retry cannot help; 5xx otherwise.
 */
import Stripe from "stripe";
import { log } from "../log.js";
import { STRIPE_API_VERSION } from "../domain/stripeVersion.js";
import { normalizeEvent, stripeEventEnvelopeSchema } from "../domain/normalize.js";
import type { LedgerStatus } from "../domain/model.js";
import type { NormalizeResult, StripeEventEnvelope } from "../domain/normalize.js";

/**
 * How far the signed timestamp may be from our clock, in either direction. stripe-node only bounds the past;
 * a timestamp far in the future would let a captured delivery be replayed for longer, so opsync bounds both.
 */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export interface WebhookRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer | undefined;
}

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

export interface WebhookDeps {
  secrets: string[];
  acceptLivemode: boolean;
  maxBodyBytes: number;
  /** Creates the ledger entry (one write); a duplicate delivery answers the status recorded so far. */
  record: (envelope: StripeEventEnvelope, normalized: NormalizeResult) => Promise<{ status: LedgerStatus; duplicate: boolean }>;
  /** Milliseconds since epoch; injectable for signature-tolerance tests. */
  nowMs?: () => number;
}

const reject = (status: number, error: string): WebhookResponse => ({ status, body: { error } });

function header(headers: WebhookRequest["headers"], name: string): string | undefined {
  const value = headers[name.toLowerCase()] ?? headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Returns the reason the signature fails, or null when one of the secrets verifies it. */
function verifySignature(raw: Buffer, signature: string, secrets: string[], nowMs: number): string | null {
  const verifier = Stripe.webhooks.signature;
  if (!verifier) throw new Error("stripe webhook signature verifier missing");
  for (const secret of secrets) {
    try {
      verifier.verifyHeader(raw, signature, secret, SIGNATURE_TOLERANCE_SECONDS, undefined, nowMs);
      const signedAt = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
      if (signedAt * 1000 - nowMs > SIGNATURE_TOLERANCE_SECONDS * 1000) {
        return `signature timestamp is outside the ${SIGNATURE_TOLERANCE_SECONDS} s tolerance (it is in the future: check the clock)`;
      }
      return null;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/Unable to extract timestamp and signatures/i.test(message)) return "Stripe-Signature header is malformed";
      if (/tolerance/i.test(message)) {
        return `signature timestamp is outside the ${SIGNATURE_TOLERANCE_SECONDS} s tolerance`;
      }
      // Try the next secret (rotation: two may be valid at once).
    }
  }
  return "signature does not match any configured webhook secret (pass the raw, unparsed request body)";
}

const INVALID_JSON = Symbol("invalid JSON");
/** Lone UTF-16 surrogates (`"\\ud800"`) parse fine but Firestore refuses to store them. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A surrogate can only reach a parsed string through a `\uD800`-`\uDFFF` JSON escape (raw UTF-8 cannot encode one;
 * invalid bytes decode to U+FFFD), so a body without such an escape skips the reviver, which costs ~10x the parse.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** JSON with every string made well-formed, or INVALID_JSON (also for nesting too deep to walk). */
function parseJson(raw: Buffer): unknown {
  try {
    const text = raw.toString("utf8");
    if (!SURROGATE_ESCAPE.test(text)) return JSON.parse(text);
    return JSON.parse(text, (_key, value: unknown) => (typeof value === "string" ? value.replace(LONE_SURROGATE, "\uFFFD") : value));
  } catch {
    // SyntaxError, or RangeError for absurd nesting: either way not an event Stripe sent.
    return INVALID_JSON;
  }
}

export type CheckedEvent =
  | { ok: true; event: StripeEventEnvelope; normalized: NormalizeResult }
  | { ok: false; problem: string; wrongMode: boolean; event: StripeEventEnvelope | null };

/**
 * What happens to an event's JSON once it is trusted (signature verified, or fetched from the Stripe API by the
 * admin API's replayEvent): envelope validation, the mode check, then normalization against the pinned version.
 */
export function checkStripeEvent(json: unknown, acceptLivemode: boolean): CheckedEvent {
  const envelope = stripeEventEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return { ok: false, wrongMode: false, event: null, problem: `not a Stripe event: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}` };
  }
  const event = envelope.data;
  if (event.livemode !== acceptLivemode) {
    const got = event.livemode ? "live-mode" : "test-mode";
    const want = acceptLivemode ? "live" : "test";
    return { ok: false, wrongMode: true, event, problem: `${got} event ${event.id} refused: this project accepts ${want}-mode events only` };
  }
  return { ok: true, event, normalized: normalizeEvent(event, STRIPE_API_VERSION) };
}

export async function handleStripeWebhook(req: WebhookRequest, deps: WebhookDeps): Promise<WebhookResponse> {
  if (req.method !== "POST") {
    return reject(405, `method ${req.method} not allowed; Stripe delivers with POST`);
  }
  const declared = Number(header(req.headers, "content-length") ?? "0");
  const raw = req.rawBody;
  if (declared > deps.maxBodyBytes || (raw && raw.length > deps.maxBodyBytes)) {
    return reject(413, `body larger than ${deps.maxBodyBytes} bytes`);
  }
  if (!raw || raw.length === 0) return reject(400, "empty body; send the raw Stripe event JSON");
  const signature = header(req.headers, "stripe-signature");
  if (!signature) return reject(400, "missing Stripe-Signature header");

  const now = deps.nowMs?.() ?? Date.now();
  const signatureProblem = verifySignature(raw, signature, deps.secrets, now);
  if (signatureProblem) {
    log.webhookRejected(signatureProblem);
    return reject(400, signatureProblem);
  }

  const json = parseJson(raw);
  if (json === INVALID_JSON) return reject(400, "body is not valid JSON");
  const checked = checkStripeEvent(json, deps.acceptLivemode);
  if (!checked.ok) {
    if (checked.wrongMode && checked.event) log.webhookWrongMode(checked.event.id, checked.event.type, checked.event.livemode);
    return reject(400, checked.problem);
  }
  const { event, normalized } = checked;
  try {
    const result = await deps.record(event, normalized);
    // The ledger entry is the record of every delivery; the log carries only what someone may need to look at.
    if (result.duplicate || result.status !== "received") {
      log.eventRecorded({ eventId: event.id, type: event.type, status: result.status, duplicate: result.duplicate, attempts: 1, reason: null });
    }
    return { status: 200, body: { received: true, eventId: event.id, status: result.status, duplicate: result.duplicate } };
  } catch (error) {
    // Nothing was written (one create), so Stripe's retry starts clean.
    log.eventFailed(event.id, event.type, error);
    return reject(500, `event ${event.id} could not be recorded; Stripe will retry`);
  }
}
