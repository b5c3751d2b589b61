/** Signed deliveries to a function in the emulator, and what each target's 200 must look like. */
import { performance } from "node:perf_hooks";
import { signedDelivery } from "../../test/support/stripeFixtures";
import { runChains, type Delivery } from "./workload";

export const PROJECT_ID = "demo-opsync";
export const FUNCTIONS_BASE = `http://127.0.0.1:5001/${PROJECT_ID}/us-central1`;
export const REQUEST_TIMEOUT_MS = 30_000;
export const WARMUP_TIMEOUT_MS = 45_000;

export type TargetName = "webhook" | "floor" | "extension" | "floorTrigger";

/** `handlerError`: a 200 whose body says the work failed (the extension answers handler errors 200 `{error}`). */
export type Verdict = "ok" | "handlerError" | "bad";

export interface Target {
  name: TargetName;
  /** The function's name in the emulator (its workers carry it as FUNCTION_TARGET). */
  fn: string;
  url: string;
  verdict: (body: unknown) => Verdict;
}

const record = (v: unknown): Record<string, unknown> | null => (v && typeof v === "object" ? (v as Record<string, unknown>) : null);

export interface WebhookAck {
  received: true;
  eventId: string;
  status: string;
  duplicate: boolean;
}

export function webhookAck(body: unknown): WebhookAck | null {
  const v = record(body);
  if (!v || v.received !== true || typeof v.eventId !== "string" || typeof v.status !== "string" || typeof v.duplicate !== "boolean") return null;
  return { received: true, eventId: v.eventId, status: v.status, duplicate: v.duplicate };
}

export const TARGETS: Record<TargetName, Target> = {
  webhook: {
    name: "webhook",
    fn: "stripeWebhook",
    url: process.env.OPSYNC_WEBHOOK_URL ?? `${FUNCTIONS_BASE}/stripeWebhook`,
    verdict: (body) => (webhookAck(body) ? "ok" : "bad"),
  },
  floor: { name: "floor", fn: "benchAckFloor", url: `${FUNCTIONS_BASE}/benchAckFloor`, verdict: (body) => (record(body)?.received === true ? "ok" : "bad") },
  floorTrigger: {
    name: "floorTrigger",
    fn: "benchAckFloorTriggered",
    url: `${FUNCTIONS_BASE}/benchAckFloorTriggered`,
    verdict: (body) => (record(body)?.received === true ? "ok" : "bad"),
  },
  extension: {
    name: "extension",
    fn: "benchExtensionWebhook",
    url: `${FUNCTIONS_BASE}/benchExtensionWebhook`,
    verdict: (body) => {
      const v = record(body);
      return v?.received === true ? "ok" : typeof v?.error === "string" ? "handlerError" : "bad";
    },
  },
};

export interface Posted {
  ms: number;
  httpStatus: number;
  body: unknown;
  error: string | null;
  /** Wall clock (Date.now()) when the whole response had arrived: compared with Firestore and vendor timestamps. */
  doneAt: number;
  /** Wall clock when the request was sent. */
  sentAt: number;
}

/** One signed delivery of any event. Signed at send time (Stripe signs each attempt), outside the timed span. */
export async function postEvent(url: string, secret: string, event: object, timeoutMs: number): Promise<Posted> {
  const { body, signature } = signedDelivery(event, secret);
  const sentAt = Date.now();
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the verdict says "bad"
    }
    return { ms, httpStatus: res.status, body: parsed, error: res.status === 200 ? null : `HTTP ${res.status}: ${text.slice(0, 300)}`, doneAt: Date.now(), sentAt };
  } catch (err) {
    const ms = performance.now() - started;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { ms, httpStatus: 0, body: null, error: message, doneAt: Date.now(), sentAt };
  }
}

export interface Sample extends Posted {
  delivery: Delivery;
  verdict: Verdict;
}

/** Delivers the chains to one target (chains in parallel up to `concurrency`, each in order). */
export async function deliverAll(target: Target, secret: string, chains: Delivery[][], concurrency: number, timeoutMs: number) {
  const samples: Sample[] = [];
  const wallMs = await runChains(chains, concurrency, async (delivery) => {
    const posted = await postEvent(target.url, secret, delivery.event, timeoutMs);
    const verdict = posted.httpStatus === 200 ? target.verdict(posted.body) : "bad";
    samples.push({ ...posted, delivery, verdict, error: posted.error ?? (verdict === "bad" ? `unexpected body ${JSON.stringify(posted.body).slice(0, 200)}` : null) });
  });
  return { samples, wallMs };
}
