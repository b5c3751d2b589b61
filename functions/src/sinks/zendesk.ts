/**
 * Zendesk Support adapter for HelpdeskPort: one ticket per opsync support request id.
 *
 * Idempotency, in two layers:
 *  1. `GET /api/v2/tickets.json?external_id=<requestId>` first (a direct lookup, not the search index, so it
 *     sees a ticket created a moment ago). Zendesk forgets idempotency keys after about 2 hours, while the
 *     queue may retry for longer; the lookup covers that window. Disable with `lookupByExternalId: false`.
 *  2. `POST /api/v2/tickets.json` with `Idempotency-Key: <requestId>` and `external_id: <requestId>`, which
 *     covers two attempts racing each other. Zendesk replays the first answer with
 *     `x-idempotency-lookup: hit`, so `created` is false then.
 * Zendesk answers 400 to a reused key with a different body. Formatting here is deterministic, but the sync
 * runner rebuilds the TicketRequest from current state on every attempt, so a retry's body can differ (open
 * orders, contact). The lookup answers such a repeat before any POST; a race that still reaches the 400 is
 * resolved by the same lookup.
 *
 * CRM contact link: Zendesk has no field for another system's contact id without admin setup, so the ticket
 * carries the tag `crm_contact_<contactId>` (searchable: `tags:crm_contact_501`) and a "CRM contact:" line in
 * the body. When a repeat finds the ticket without that tag (the first attempt had no contact yet), the tag is
 * added with Zendesk's additive `PUT /api/v2/tickets/{id}/tags.json`; nothing else on the ticket is rewritten.
 *
 * Errors: network failure, timeout, 408, 409 (Zendesk's "retry this write" conflict), 429 and 5xx are
 * TransientError (429/503 with `Retry-After` in ms); other 4xx are PermanentError. Both carry the HTTP status
 * and Zendesk's `x-request-id`. Messages never contain the API token or the Authorization header.
 */
import { zendeskRateSignal, type RateSignal } from "../domain/budget.js";
import { PermanentError, TransientError } from "../domain/errors.js";
import { parseRetryAfter } from "../domain/retry.js";
import type { BillingContext, HelpdeskPort, TicketRequest } from "./ports.js";

export interface ZendeskOptions {
  /** e.g. https://acme.zendesk.com (no trailing /api/v2). */
  baseUrl: string;
  /** Agent email the API token belongs to. */
  email: string;
  apiToken: string;
  /** Per HTTP request, including reading the body. Default 10 s. */
  timeoutMs?: number;
  /** Look for an existing ticket with external_id = requestId before creating one. Default true. */
  lookupByExternalId?: boolean;
  /**
   * Whether the ticket's first comment (the request body plus billing context) is public. Default false:
   * the context names internal ids (Firebase uid, Stripe customer), and a public first comment is usually
   * emailed to the requester by Zendesk triggers.
   */
  publicComment?: boolean;
  /** Told what every answer's rate-limit headers say (the account budget, List Tickets' own limit). */
  observeRate?: (signal: RateSignal | null) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_ORDERS_LISTED = 20;

interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Zendesk tags are lowercase words; a space would split one tag into two. */
export function zendeskTags(tags: string[]): string[] {
  const out: string[] = [];
  for (const tag of tags) {
    const t = tag.trim().toLowerCase().replace(/\s+/g, "_");
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

export const CRM_CONTACT_TAG_PREFIX = "crm_contact_";

/** The tag linking a ticket to the CRM contact (lowercase; characters Zendesk tags do not keep become `_`). */
export function crmContactTag(contactId: string): string {
  return `${CRM_CONTACT_TAG_PREFIX}${contactId.trim().toLowerCase().replace(/[^a-z0-9_-]/g, "_")}`;
}

function formatDate(d: Date | null): string {
  if (d === null || Number.isNaN(d.getTime())) return "unknown";
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The billing context as plain text lines, for an agent reading the ticket. */
export function formatBillingContext(ctx: BillingContext): string {
  const n = ctx.openOrders.length;
  const more = n > MAX_ORDERS_LISTED ? `, and ${n - MAX_ORDERS_LISTED} more` : "";
  const orders = n === 0 ? ": none" : ` (${n}): ${ctx.openOrders.slice(0, MAX_ORDERS_LISTED).join(", ")}${more}`;
  return [
    `Plan: ${ctx.plan ?? "none"}`,
    `Subscription status: ${ctx.subscriptionStatus ?? "none"}`,
    `Last payment: ${formatDate(ctx.lastPaymentAt)}`,
    `Open orders${orders}`,
    `Firebase uid: ${ctx.uid ?? "unknown"}`,
    `Stripe customer: ${ctx.stripeCustomerId ?? "unknown"}`,
  ].join("\n");
}

/** The ticket's first comment: the request text, then the billing context. Deterministic for one request. */
export function formatTicketBody(ticket: TicketRequest): string {
  const requester =
    ticket.requester.email || ticket.requester.name
      ? [ticket.requester.name, ticket.requester.email ? `<${ticket.requester.email}>` : null].filter(Boolean).join(" ")
      : "unknown";
  const lines = [
    ticket.body.trim(),
    "",
    "--- Billing context (opsync) ---",
    formatBillingContext(ticket.context),
    `Requester: ${requester}`,
  ];
  if (ticket.contactId) lines.push(`CRM contact: ${ticket.contactId}`);
  lines.push(`opsync request: ${ticket.requestId}`);
  return lines.join("\n");
}


/** A short description from Zendesk's error body: `error`, `description` and field details. */
function vendorMessage(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text.replace(/\s+/g, " ").trim().slice(0, 200);
  }
  if (!isRecord(parsed)) return "";
  const parts: string[] = [];
  const err = parsed.error;
  if (typeof err === "string") parts.push(err);
  else if (isRecord(err)) {
    if (typeof err.title === "string") parts.push(err.title);
    if (typeof err.message === "string") parts.push(err.message);
  }
  if (typeof parsed.description === "string") parts.push(parsed.description);
  if (isRecord(parsed.details)) {
    for (const list of Object.values(parsed.details)) {
      if (!Array.isArray(list)) continue;
      for (const d of list) if (isRecord(d) && typeof d.description === "string") parts.push(d.description);
    }
  }
  return parts.join(": ").slice(0, 300);
}

export class ZendeskHelpdesk implements HelpdeskPort {
  readonly name = "zendesk" as const;
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly lookupByExternalId: boolean;
  private readonly publicComment: boolean;
  private readonly secrets: string[];
  private readonly observeRate: ((signal: RateSignal | null) => void) | undefined;

  constructor(opts: ZendeskOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "").replace(/\/api\/v2$/, "");
    const credentials = Buffer.from(`${opts.email}/token:${opts.apiToken}`).toString("base64");
    this.authorization = `Basic ${credentials}`;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.lookupByExternalId = opts.lookupByExternalId ?? true;
    this.publicComment = opts.publicComment ?? false;
    this.secrets = [opts.apiToken, credentials].filter((s) => s.length >= 4);
    this.observeRate = opts.observeRate;
  }

  async createTicket(ticket: TicketRequest): Promise<{ ticketId: string; created: boolean }> {
    const linkTag = ticket.contactId ? crmContactTag(ticket.contactId) : null;
    if (this.lookupByExternalId) {
      const existing = await this.findExisting(ticket.requestId);
      if (existing !== null) return this.repeat(existing, linkTag);
    }
    const requester = ticket.requester.email
      ? { requester: { email: ticket.requester.email, name: ticket.requester.name ?? ticket.requester.email } }
      : {};
    const payload = {
      ticket: {
        subject: ticket.subject,
        comment: { body: formatTicketBody(ticket), public: this.publicComment },
        priority: ticket.priority,
        tags: zendeskTags(linkTag ? [...ticket.tags, linkTag] : ticket.tags),
        external_id: ticket.requestId,
        ...requester,
      },
    };
    const what = "POST /api/v2/tickets.json";
    const res = await this.send("POST", "/api/v2/tickets.json", payload, { "idempotency-key": ticket.requestId });
    if (res.status === 400 && /idempot/i.test(res.text)) {
      // Same key, different body: an earlier attempt got through with other content. Resolve by external_id.
      const existing = await this.findExisting(ticket.requestId);
      if (existing !== null) return this.repeat(existing, linkTag);
    }
    this.throwIfFailed(what, res);
    const body = this.parseJson(what, res);
    const id = isRecord(body) && isRecord(body.ticket) ? body.ticket.id : undefined;
    if (typeof id !== "number" && typeof id !== "string") {
      throw new PermanentError(`zendesk ${what}: response has no ticket id`, this.detail(res));
    }
    return { ticketId: String(id), created: res.headers.get("x-idempotency-lookup")?.toLowerCase() !== "hit" };
  }

  /** The id of the oldest ticket whose external_id is exactly `externalId`, or null. */
  async findByExternalId(externalId: string): Promise<string | null> {
    const found = await this.findExisting(externalId);
    return found === null ? null : String(found.id);
  }

  private async findExisting(externalId: string): Promise<{ id: number; tags: string[] } | null> {
    const path = `/api/v2/tickets.json?external_id=${encodeURIComponent(externalId)}`;
    const what = "GET /api/v2/tickets.json?external_id";
    const res = await this.send("GET", path, undefined, {});
    this.throwIfFailed(what, res);
    const body = this.parseJson(what, res);
    const list = isRecord(body) && Array.isArray(body.tickets) ? body.tickets : [];
    const found = list
      .filter((t): t is Record<string, unknown> => isRecord(t) && t.external_id === externalId)
      .flatMap((t) => {
        const tags = Array.isArray(t.tags) ? t.tags.filter((x): x is string => typeof x === "string") : [];
        return typeof t.id === "number" ? [{ id: t.id, tags }] : [];
      })
      .sort((a, b) => a.id - b.id);
    return found[0] ?? null;
  }

  /** A repeat of a request whose ticket exists: only add the CRM contact tag if it is missing. */
  private async repeat(existing: { id: number; tags: string[] }, linkTag: string | null): Promise<{ ticketId: string; created: false }> {
    if (linkTag !== null && !existing.tags.includes(linkTag)) {
      const what = "PUT /api/v2/tickets/{id}/tags.json";
      this.throwIfFailed(what, await this.send("PUT", `/api/v2/tickets/${existing.id}/tags.json`, { tags: [linkTag] }, {}));
    }
    return { ticketId: String(existing.id), created: false };
  }

  private async send(method: "GET" | "POST" | "PUT", path: string, body: unknown, extra: Record<string, string>): Promise<HttpResult> {
    const headers: Record<string, string> = { authorization: this.authorization, accept: "application/json", ...extra };
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: "manual",
      });
      this.observeRate?.(zendeskRateSignal((name) => res.headers.get(name)));
      return { status: res.status, headers: res.headers, text: await res.text() };
    } catch (err) {
      const what = `${method} ${path.split("?")[0] ?? path}`;
      const reason =
        err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")
          ? `timed out after ${this.timeoutMs} ms`
          : `network error: ${this.scrub(describeNetworkError(err))}`;
      throw new TransientError(`zendesk ${what}: ${reason}`, null, {});
    }
  }

  private detail(res: HttpResult) {
    return { httpStatus: res.status, vendorRequestId: res.headers.get("x-request-id") };
  }

  private throwIfFailed(what: string, res: HttpResult): void {
    if (res.status >= 200 && res.status < 300) return;
    const message = this.scrub(`zendesk ${what}: HTTP ${res.status}${vendorSuffix(vendorMessage(res.text))}`);
    if (res.status === 408 || res.status === 409 || res.status === 429 || res.status >= 500) {
      throw new TransientError(message, parseRetryAfter(res.headers.get("retry-after"), Date.now()), this.detail(res));
    }
    throw new PermanentError(message, this.detail(res));
  }

  private parseJson(what: string, res: HttpResult): unknown {
    try {
      return JSON.parse(res.text);
    } catch {
      throw new PermanentError(`zendesk ${what}: HTTP ${res.status} with a body that is not JSON`, this.detail(res));
    }
  }

  private scrub(text: string): string {
    return this.secrets.reduce((t, s) => t.split(s).join("***"), text);
  }
}

const vendorSuffix = (m: string) => (m ? ` ${m}` : "");

/** `fetch failed` hides the reason in `cause` (ECONNREFUSED, ECONNRESET...). */
export function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 200);
  const cause: unknown = err.cause;
  const code = isRecord(cause) && typeof cause.code === "string" ? cause.code : null;
  const causeMessage = cause instanceof Error ? cause.message : null;
  return [err.message, code ?? causeMessage].filter(Boolean).join(": ").slice(0, 200);
}
