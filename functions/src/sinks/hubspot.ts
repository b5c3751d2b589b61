/**
 * HubSpot adapters for the CRM and helpdesk ports, on @hubspot/api-client.
 *
 * Idempotency comes from HubSpot's batch/upsert keyed on opsync's own unique properties (opsync_uid,
 * opsync_deal_key, opsync_request_id), never from email or search (search is eventually consistent and limited
 * to 4 requests/s). The SDK's own retries and limiter are off: the sync queue owns retries, and in-memory
 * limiters do not survive a function instance. Every failure leaves as TransientError or PermanentError.
 */
import { Client } from "@hubspot/api-client";
import { PropertyCreateFieldTypeEnum, PropertyCreateTypeEnum } from "@hubspot/api-client/lib/codegen/crm/properties/index.js";
import { OpsyncError, PermanentError, TransientError } from "../domain/errors.js";
import { parseRetryAfter } from "../domain/retry.js";
import type { ContactState, CrmPort, DealStage, DealState, HelpdeskPort, TicketRequest } from "./ports.js";

export interface HubspotConfig {
  accessToken: string;
  /** Defaults to https://api.hubapi.com; tests point it at a local server. */
  basePath?: string;
  /** The SDK has no request timeout of its own; a hung call would otherwise hold the queue worker. */
  timeoutMs?: number;
}

const OBJECT_TYPES = ["contacts", "deals", "tickets"] as const;
type ObjectType = (typeof OBJECT_TYPES)[number];

const DEFAULT_TIMEOUT_MS = 20_000;

export const HUBSPOT_DEAL_STAGES: Record<DealStage, string> = {
  open: "appointmentscheduled",
  won: "closedwon",
  lost: "closedlost",
  canceled: "closedlost",
  // Custom stages: they must exist in the deal pipeline before deals can move to them.
  refunded: "opsync_refunded",
  partially_refunded: "opsync_partially_refunded",
};

const TICKET_PRIORITY: Record<TicketRequest["priority"], string> = {
  low: "LOW",
  normal: "MEDIUM",
  high: "HIGH",
  urgent: "URGENT",
};

// ---- errors ------------------------------------------------------------------------------------------------

/** What the SDK's ApiException carries: `code` is the HTTP status, headers are lower-cased. */
interface SdkHttpError {
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

/** One input of a batch answered 207 with an error instead of a result. */
class BatchItemError extends Error {
  constructor(
    readonly category: string,
    readonly detail: string,
  ) {
    super(`batch item failed: ${category}`);
  }
}

function isSdkHttpError(err: unknown): err is SdkHttpError {
  return (
    err instanceof Error &&
    "code" in err &&
    typeof err.code === "number" &&
    "headers" in err &&
    typeof err.headers === "object" &&
    err.headers !== null
  );
}

function bodyField(body: unknown, field: string): string | null {
  if (typeof body !== "object" || body === null || !(field in body)) return null;
  const value: unknown = Reflect.get(body, field);
  return typeof value === "string" ? value : null;
}

/** Retry-After is seconds or an HTTP date; HubSpot's 10-second policy often omits it, so fall back to its window. */
function retryAfterMs(err: SdkHttpError): number | null {
  const fromHeader = parseRetryAfter(err.headers["retry-after"]?.trim(), Date.now());
  if (fromHeader !== null) return fromHeader;
  const policy = bodyField(err.body, "policyName");
  if (policy === "TEN_SECONDLY_ROLLING") return 10_000;
  if (policy === "SECONDLY") return 1_000;
  return null;
}

function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Maps anything the SDK throws to opsync's typed errors. Messages hold the operation, status and HubSpot's
 * category only: HubSpot's own message can echo property values (emails), and errors get logged.
 */
export function toVendorError(err: unknown, op: string): TransientError | PermanentError {
  if (err instanceof TransientError || err instanceof PermanentError) return err;
  if (isSdkHttpError(err)) {
    const vendorRequestId = err.headers["x-hubspot-correlation-id"] ?? bodyField(err.body, "correlationId");
    const category = bodyField(err.body, "category") ?? "unknown";
    const detail = { httpStatus: err.code, vendorRequestId };
    const message = `hubspot ${op} failed: HTTP ${err.code} ${category}`;
    return isTransientStatus(err.code)
      ? new TransientError(message, retryAfterMs(err), detail)
      : new PermanentError(message, detail);
  }
  if (err instanceof BatchItemError) return new PermanentError(`hubspot ${op} failed: ${err.message}`);
  if (err instanceof OpsyncError) return new PermanentError(`hubspot ${op} failed: ${err.name}`);
  // No HTTP status: connection refused/reset, DNS, an unparsable response. A retry may succeed.
  const name = err instanceof Error ? err.name : "unknown error";
  return new TransientError(`hubspot ${op} failed: ${name} (no response)`);
}

/** The existing contact id from HubSpot's duplicate-email answer, or null for any other error. */
function existingContactId(err: unknown): string | null {
  let message: string | null = null;
  if (isSdkHttpError(err) && err.code === 409) message = bodyField(err.body, "message");
  else if (err instanceof BatchItemError && err.category === "CONFLICT") message = err.detail;
  const match = message?.match(/Existing ID:\s*(\d+)/);
  return match?.[1] ?? null;
}

function isNotFound(err: unknown): boolean {
  return isSdkHttpError(err) && err.code === 404;
}

// ---- client session ----------------------------------------------------------------------------------------

function withTimeout<T>(work: Promise<T>, ms: number, op: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError(`hubspot ${op} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Owns the lazily built SDK client; `call` adds the timeout and the error mapping to every request. */
class HubspotSession {
  private client: Client | null = null;

  constructor(private readonly config: HubspotConfig) {}

  async call<T>(op: string, fn: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(this.sdk()), this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS, op);
    } catch (err) {
      throw toVendorError(err, op);
    }
  }

  /** Built on first use, never at module load, so cold starts of functions that never sync stay cheap. */
  private sdk(): Client {
    if (!this.client) {
      const { accessToken, basePath } = this.config;
      this.client = new Client({ accessToken, numberOfApiCallRetries: 0, ...(basePath ? { basePath } : {}) });
    }
    return this.client;
  }
}

function batchApi(client: Client, type: ObjectType) {
  if (type === "contacts") return client.crm.contacts.batchApi;
  if (type === "deals") return client.crm.deals.batchApi;
  return client.crm.tickets.batchApi;
}

/** Upserts one object keyed on a unique property; a 207 item error is thrown so callers see one shape. */
async function upsertOne(
  client: Client,
  type: ObjectType,
  idProperty: string,
  id: string,
  properties: Record<string, string>,
): Promise<{ id: string; isNew: boolean }> {
  const response = await batchApi(client, type).upsert({ inputs: [{ id, idProperty, properties }] });
  const result = response.results[0];
  if (result) return { id: result.id, isNew: result._new };
  const failure = "errors" in response ? response.errors?.[0] : undefined;
  if (failure) throw new BatchItemError(failure.category, failure.message);
  // Nothing came back: the write may or may not have happened, and repeating it is safe.
  throw new TransientError(`hubspot ${type} upsert returned no result`);
}

async function associateWithContact(session: HubspotSession, fromType: "deals" | "tickets", fromId: string, contactId: string) {
  // v4 "default" association is idempotent: repeating it for the same pair changes nothing.
  await session.call(`${fromType}.associate`, (c) => c.crm.associations.v4.basicApi.createDefault(fromType, fromId, "contacts", contactId));
}

// ---- CRM -----------------------------------------------------------------------------------------------------

function contactProperties(contact: ContactState): Record<string, string> {
  // opsync owns its own properties, so null clears them ("" clears a HubSpot property)...
  const properties: Record<string, string> = {
    lifecyclestage: contact.lifecycleStage,
    opsync_plan: contact.plan ?? "",
    opsync_subscription_status: contact.subscriptionStatus ?? "",
    opsync_mrr: contact.mrr === null ? "" : String(contact.mrr),
    opsync_last_payment_at: contact.lastPaymentAt?.toISOString() ?? "",
    opsync_stripe_customer_id: contact.stripeCustomerId ?? "",
  };
  // ...but a null email or name means "unknown", and must not wipe what someone typed into HubSpot.
  if (contact.email) properties.email = contact.email;
  if (contact.firstName) properties.firstname = contact.firstName;
  if (contact.lastName) properties.lastname = contact.lastName;
  return properties;
}

function dealProperties(deal: DealState): Record<string, string> {
  const properties: Record<string, string> = {
    dealname: deal.name,
    amount: deal.amount === null ? "" : String(deal.amount),
    dealstage: HUBSPOT_DEAL_STAGES[deal.stage],
    pipeline: "default",
  };
  if (deal.currency) properties.deal_currency_code = deal.currency.toUpperCase();
  return properties;
}

export class HubspotCrm implements CrmPort {
  private readonly session: HubspotSession;

  constructor(config: HubspotConfig) {
    this.session = new HubspotSession(config);
  }

  async upsertContact(contact: ContactState): Promise<{ contactId: string }> {
    const properties = contactProperties(contact);
    const outcome = await this.session.call("contacts.upsert", async (c): Promise<{ id: string; conflict: boolean }> => {
      try {
        const { id } = await upsertOne(c, "contacts", "opsync_uid", contact.uid, properties);
        return { id, conflict: false };
      } catch (err) {
        const existingId = existingContactId(err);
        if (existingId === null) throw err;
        return { id: existingId, conflict: true };
      }
    });
    if (!outcome.conflict) return { contactId: outcome.id };
    return { contactId: await this.linkExisting(outcome.id, contact.uid, properties) };
  }

  /**
   * The email already belongs to a contact (made by hand, a form, an import): link that contact to the uid
   * instead of creating a second one, unless it is already linked to a different uid.
   */
  private async linkExisting(contactId: string, uid: string, properties: Record<string, string>): Promise<string> {
    const existing = await this.session.call("contacts.read", (c) => c.crm.contacts.basicApi.getById(contactId, ["opsync_uid"]));
    const owner = existing.properties.opsync_uid;
    if (owner && owner !== uid) {
      throw new PermanentError(`hubspot contact ${contactId} has this email and is linked to another uid`, { httpStatus: 409 });
    }
    await this.session.call("contacts.link", (c) =>
      c.crm.contacts.basicApi.update(contactId, { properties: { ...properties, opsync_uid: uid } }),
    );
    return contactId;
  }

  async upsertDeal(deal: DealState): Promise<{ dealId: string }> {
    const { id } = await this.session.call("deals.upsert", (c) => upsertOne(c, "deals", "opsync_deal_key", deal.key, dealProperties(deal)));
    if (deal.contactId) await associateWithContact(this.session, "deals", id, deal.contactId);
    return { dealId: id };
  }
}

// ---- Tickets -------------------------------------------------------------------------------------------------

function billingContextText(ticket: TicketRequest): string {
  const ctx = ticket.context;
  const lines = [
    `opsync uid: ${ctx.uid ?? "unknown"}`,
    `Stripe customer: ${ctx.stripeCustomerId ?? "none"}`,
    `Plan: ${ctx.plan ?? "none"}`,
    `Subscription status: ${ctx.subscriptionStatus ?? "none"}`,
    `Last payment: ${ctx.lastPaymentAt?.toISOString() ?? "never"}`,
    `Open orders: ${ctx.openOrders.length > 0 ? ctx.openOrders.join(", ") : "none"}`,
  ];
  return lines.join("\n");
}

function ticketProperties(ticket: TicketRequest): Record<string, string> {
  return {
    subject: ticket.subject,
    content: `${ticket.body}\n\n--- Billing context (opsync) ---\n${billingContextText(ticket)}`,
    hs_ticket_priority: TICKET_PRIORITY[ticket.priority],
    hs_pipeline: "0",
    hs_pipeline_stage: "1",
    opsync_tags: ticket.tags.join(";"),
  };
}

export class HubspotTickets implements HelpdeskPort {
  readonly name = "hubspot" as const;
  private readonly session: HubspotSession;

  constructor(config: HubspotConfig) {
    this.session = new HubspotSession(config);
  }

  async createTicket(ticket: TicketRequest): Promise<{ ticketId: string; created: boolean }> {
    // Read first: an upsert on a repeat would rewrite the ticket (stage, subject) after an agent has worked it.
    const existingId = await this.findTicket(ticket.requestId);
    const { id, isNew } =
      existingId !== null
        ? { id: existingId, isNew: false }
        : await this.session.call("tickets.upsert", (c) => upsertOne(c, "tickets", "opsync_request_id", ticket.requestId, ticketProperties(ticket)));
    // Also on a repeat: the earlier attempt may have created the ticket and failed before associating it.
    if (ticket.contactId) await associateWithContact(this.session, "tickets", id, ticket.contactId);
    return { ticketId: id, created: isNew };
  }

  private findTicket(requestId: string): Promise<string | null> {
    return this.session.call("tickets.read", async (c) => {
      try {
        const found = await c.crm.tickets.basicApi.getById(requestId, ["opsync_request_id"], undefined, undefined, false, "opsync_request_id");
        return found.id;
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    });
  }
}

// ---- setup: custom properties and scopes -------------------------------------------------------------------

interface PropertySpec {
  name: string;
  label: string;
  type: PropertyCreateTypeEnum;
  fieldType: PropertyCreateFieldTypeEnum;
  unique?: boolean;
}

const text = (name: string, label: string, unique = false): PropertySpec => ({
  name,
  label,
  type: PropertyCreateTypeEnum.String,
  fieldType: PropertyCreateFieldTypeEnum.Text,
  unique,
});

export const HUBSPOT_PROPERTIES: Record<ObjectType, PropertySpec[]> = {
  contacts: [
    text("opsync_uid", "opsync user id", true),
    text("opsync_plan", "opsync plan"),
    text("opsync_subscription_status", "opsync subscription status"),
    { name: "opsync_mrr", label: "opsync MRR", type: PropertyCreateTypeEnum.Number, fieldType: PropertyCreateFieldTypeEnum.Number },
    { name: "opsync_last_payment_at", label: "opsync last payment", type: PropertyCreateTypeEnum.Datetime, fieldType: PropertyCreateFieldTypeEnum.Date },
    text("opsync_stripe_customer_id", "opsync Stripe customer id"),
  ],
  deals: [text("opsync_deal_key", "opsync deal key", true)],
  tickets: [text("opsync_request_id", "opsync request id", true), text("opsync_tags", "opsync tags")],
};

const PROPERTY_GROUP: Record<ObjectType, string> = {
  contacts: "contactinformation",
  deals: "dealinformation",
  tickets: "ticketinformation",
};

async function ensureProperty(session: HubspotSession, type: ObjectType, spec: PropertySpec): Promise<"created" | "existing"> {
  const created = await session.call(`properties.create ${type}.${spec.name}`, async (c) => {
    try {
      const { name, label, type: propertyType, fieldType } = spec;
      await c.crm.properties.coreApi.create(type, { name, label, type: propertyType, fieldType, groupName: PROPERTY_GROUP[type], hasUniqueValue: spec.unique ?? false });
      return true;
    } catch (err) {
      if (isSdkHttpError(err) && err.code === 409) return false;
      throw err;
    }
  });
  if (created) return "created";
  // It exists; upsert needs it unique, and HubSpot cannot make an existing property unique later.
  const existing = await session.call(`properties.read ${type}.${spec.name}`, (c) => c.crm.properties.coreApi.getByName(type, spec.name));
  if (spec.unique && !existing.hasUniqueValue) {
    throw new PermanentError(`hubspot property ${type}.${spec.name} exists but is not unique; batch upsert needs a unique property`);
  }
  return "existing";
}

/** Creates opsync's custom properties; safe to run on every deploy (existing ones are left alone). */
export async function ensureHubspotProperties(config: HubspotConfig): Promise<{ created: string[]; existing: string[] }> {
  const session = new HubspotSession(config);
  const result: { created: string[]; existing: string[] } = { created: [], existing: [] };
  for (const type of OBJECT_TYPES) {
    // One at a time: setup shares the portal's rate limit with every other app.
    for (const spec of HUBSPOT_PROPERTIES[type]) {
      const outcome = await ensureProperty(session, type, spec);
      result[outcome].push(`${type}.${spec.name}`);
    }
  }
  return result;
}

export const REQUIRED_HUBSPOT_SCOPES = [
  "crm.objects.contacts.read",
  "crm.objects.contacts.write",
  "crm.objects.deals.read",
  "crm.objects.deals.write",
  "tickets",
  "crm.schemas.contacts.write",
  "crm.schemas.deals.write",
];

/** Reads the token's scopes and names the ones opsync needs but lacks. */
export async function checkHubspotScopes(config: HubspotConfig): Promise<{ ok: boolean; missing: string[]; granted: string[] }> {
  const session = new HubspotSession(config);
  const info = await session.call("oauth.tokenInfo", (c) => c.oauth.accessTokensApi.get(config.accessToken));
  const granted = [...info.scopes].sort();
  const missing = REQUIRED_HUBSPOT_SCOPES.filter((s) => !granted.includes(s));
  return { ok: missing.length === 0, missing, granted };
}
