/**
 * HubSpot adapters for the CRM and helpdesk ports, on @hubspot/api-client (session and error mapping in
 * hubspotSession.ts, portal setup in hubspotSetup.ts).
 *
 * Idempotency comes from HubSpot's batch/upsert keyed on opsync's own unique properties (opsync_uid,
 * opsync_deal_key, opsync_request_id), never from email or search (search is eventually consistent and limited
 * to 4 requests/s). HubSpot does not serialize concurrent upserts of one new unique value: the loser gets a
 * unique-value conflict, which is retried once at once (the winner's object is there by then) and otherwise leaves
 * as TransientError. Every failure leaves as TransientError or PermanentError.
 */
import type { Client } from "@hubspot/api-client";
import { z } from "zod";
import { PermanentError, TransientError } from "../domain/errors.js";
import {
  BatchItemError,
  HubspotSession,
  bodyField,
  isRaceConflict,
  isSdkHttpError,
  toVendorError,
  type HubspotConfig,
  type ObjectType,
} from "./hubspotSession.js";
import {
  CRM_CONTACT_PROPERTIES,
  READ_BATCH,
  type ContactOutcome,
  type ContactState,
  type CrmContactRecord,
  type CrmDealRecord,
  type CrmPort,
  type CrmReadPort,
  type DealStage,
  type DealState,
  type HelpdeskPort,
  type RefundStageIds,
  type TicketRequest,
} from "./ports.js";

export type { HubspotConfig } from "./hubspotSession.js";
export { toVendorError } from "./hubspotSession.js";

/** Stage ids of HubSpot's default deal pipeline (documented, stable). Refund stages have generated ids: see below. */
export const DEFAULT_PIPELINE_ID = "default";
export const DEFAULT_PIPELINE_STAGES: Record<Exclude<DealStage, "refunded" | "partially_refunded">, string> = {
  open: "appointmentscheduled",
  won: "closedwon",
  lost: "closedlost",
  canceled: "closedlost",
};

export interface HubspotCrmConfig extends HubspotConfig {
  /**
   * Reads the refund stage ids `npm run hubspot:setup` stored (ops/hubspot), or null if it never ran. Called lazily,
   * only for deals; a found answer is kept for `stageCacheMs` (default 5 min) so a deal job costs no extra read.
   */
  refundStages: () => Promise<RefundStageIds | null>;
  stageCacheMs?: number;
}

const TICKET_PRIORITY: Record<TicketRequest["priority"], string> = { low: "LOW", normal: "MEDIUM", high: "HIGH", urgent: "URGENT" };

/** lifecyclestage values opsync sets, in HubSpot's (forward-only) order. */
const LIFECYCLE_RANK: Record<ContactState["lifecycleStage"], number> = { lead: 1, customer: 5, other: 7 };

function batchApi(client: Client, type: ObjectType) {
  if (type === "contacts") return client.crm.contacts.batchApi;
  if (type === "deals") return client.crm.deals.batchApi;
  return client.crm.tickets.batchApi;
}

type ItemOutcome = { id: string; isNew: boolean } | { error: BatchItemError };

/** Batch upsert keyed on a unique property; a 207's per-item errors come back per input, in input order. */
async function upsertMany(session: HubspotSession, client: Client, type: ObjectType, idProperty: string, inputs: Array<{ id: string; properties: Record<string, string> }>) {
  const response = session.seen(await batchApi(client, type).upsertWithHttpInfo({ inputs: inputs.map((i) => ({ ...i, idProperty })) }));
  const byId = new Map<string, ItemOutcome>();
  for (const r of response.results) {
    const key = r.properties[idProperty];
    if (key) byId.set(key, { id: r.id, isNew: r._new });
  }
  const errors = "errors" in response ? (response.errors ?? []) : [];
  for (const e of errors) {
    const ids = e.context?.ids ?? [];
    const subCategory = typeof e.subCategory === "string" ? e.subCategory : null;
    for (const id of ids) byId.set(id, { error: new BatchItemError(e.category, e.message, subCategory) });
  }
  // A single input's result may not echo the key (some portals omit it): then the one result is that input's.
  const only = response.results[0];
  if (inputs.length === 1 && only && byId.size === 0) byId.set(inputs[0]?.id ?? "", { id: only.id, isNew: only._new });
  return inputs.map((i): ItemOutcome => byId.get(i.id) ?? { error: new BatchItemError("NO_RESULT", "no result for this input", null) });
}

/** Upserts one object; a unique-value conflict (a concurrent create of the same key) is retried once at once. */
async function upsertOne(session: HubspotSession, op: string, type: ObjectType, idProperty: string, id: string, properties: Record<string, string>) {
  const attempt = () =>
    session.call(op, async (c) => {
      const [outcome] = await upsertMany(session, c, type, idProperty, [{ id, properties }]);
      if (!outcome || "error" in outcome) throw outcome?.error ?? new TransientError(`hubspot ${op} returned no result`);
      return outcome;
    });
  try {
    return await attempt();
  } catch (err) {
    if (!isRaceConflict(err)) throw err;
    return attempt();
  }
}

async function associateWithContact(session: HubspotSession, fromType: "deals" | "tickets", fromId: string, contactId: string) {
  // v4 "default" association is idempotent: repeating it for the same pair changes nothing.
  await session.call(`${fromType}.associate`, async (c) => session.seen(await c.crm.associations.v4.basicApi.createDefaultWithHttpInfo(fromType, fromId, "contacts", contactId)));
}

/** The existing contact id from HubSpot's duplicate-email answer (create/upsert with an email another contact has). */
function existingContactId(err: unknown): string | null {
  const message = isSdkHttpError(err) && err.code === 409 ? bodyField(err.body, "message") : err instanceof BatchItemError && err.category === "CONFLICT" ? err.detail : null;
  return message?.match(/Existing ID:\s*(\d+)/)?.[1] ?? null;
}

// ---- CRM -----------------------------------------------------------------------------------------------------

/**
 * opsync's own state lives in opsync_* properties (null clears them); `lifecyclestage` is HubSpot's shared funnel
 * field, which only moves forward. opsync sends it only as a forward move it owns: `customer` whenever the state
 * says so (HubSpot ignores it for a contact already past customer), and `lead` only when creating the contact.
 * It never sends a backward value: a churned customer stays `customer` in HubSpot, with opsync_subscription_status
 * saying `canceled`.
 */
function contactProperties(contact: ContactState, creating: boolean): Record<string, string> {
  const properties: Record<string, string> = {
    opsync_plan: contact.plan ?? "",
    opsync_subscription_status: contact.subscriptionStatus ?? "",
    opsync_mrr: contact.mrr === null ? "" : String(contact.mrr),
    opsync_last_payment_at: contact.lastPaymentAt?.toISOString() ?? "",
    opsync_stripe_customer_id: contact.stripeCustomerId ?? "",
  };
  if (contact.lifecycleStage === "customer" || (creating && LIFECYCLE_RANK[contact.lifecycleStage] > 0)) properties.lifecyclestage = contact.lifecycleStage;
  // A null email or name means "unknown", and must not wipe what someone typed into HubSpot.
  if (contact.email) properties.email = contact.email;
  if (contact.firstName) properties.firstname = contact.firstName;
  if (contact.lastName) properties.lastname = contact.lastName;
  return properties;
}

const batchReadSchema = z.object({
  results: z.array(z.object({ id: z.string(), properties: z.record(z.string(), z.string().nullable()) })).default([]),
});

/**
 * batch/read by a unique property: 100 ids per call; ids HubSpot does not have come back as per-item errors (207),
 * which here simply means "absent".
 */
async function readMany(session: HubspotSession, type: "contacts" | "deals", idProperty: string, ids: string[], properties: readonly string[]) {
  if (ids.length > READ_BATCH) throw new PermanentError(`hubspot ${type}.read takes at most ${READ_BATCH} ids per call`);
  if (ids.length === 0) return [];
  const body = { idProperty, inputs: ids.map((id) => ({ id })), properties: [idProperty, ...properties], propertiesWithHistory: [] };
  const answer = await session.request(`${type}.batchRead`, "POST", `/crm/v3/objects/${type}/batch/read`, body);
  const parsed = batchReadSchema.safeParse(answer);
  if (!parsed.success) throw new TransientError(`hubspot ${type}.batchRead answered an unexpected body`);
  return parsed.data.results;
}

export class HubspotCrm implements CrmPort, CrmReadPort {
  private readonly session: HubspotSession;
  private stageCache: { ids: RefundStageIds; at: number } | null = null;

  constructor(private readonly config: HubspotCrmConfig) {
    this.session = new HubspotSession(config);
  }

  async upsertContact(contact: ContactState): Promise<{ contactId: string }> {
    const [outcome] = await this.upsertContacts([contact]);
    if (!outcome) throw new TransientError("hubspot contacts.upsert returned no outcome");
    if ("error" in outcome) throw outcome.error;
    return { contactId: outcome.contactId };
  }

  async upsertContacts(contacts: ContactState[]): Promise<ContactOutcome[]> {
    const inputs = contacts.map((c) => ({ id: c.uid, properties: contactProperties(c, false) }));
    const outcomes = await this.session.call("contacts.upsert", async (c) => {
      try {
        return await upsertMany(this.session, c, "contacts", "opsync_uid", inputs);
      } catch (err) {
        // Every input failed, so HubSpot answered with a plain error; a conflict is then that one input's outcome.
        if (!isSdkHttpError(err) || err.code !== 409 || inputs.length !== 1) throw err;
        return [{ error: new BatchItemError("CONFLICT", bodyField(err.body, "message") ?? "", bodyField(err.body, "subCategory")) }];
      }
    });
    return Promise.all(
      contacts.map(async (contact, i): Promise<ContactOutcome> => {
        const outcome = outcomes[i];
        try {
          if (outcome && !("error" in outcome)) {
            if (outcome.isNew && contact.lifecycleStage === "lead") await this.setCreatedLifecycle(outcome.id, contact);
            return { uid: contact.uid, contactId: outcome.id };
          }
          const existingId = existingContactId(outcome?.error);
          if (existingId !== null) return { uid: contact.uid, contactId: await this.linkExisting(existingId, contact) };
          if (outcome && isRaceConflict(toVendorError(outcome.error, "contacts.upsert"))) {
            // Lost a create race to a concurrent writer: the contact exists now, so the single path finds it.
            return { uid: contact.uid, contactId: (await upsertOne(this.session, "contacts.upsert", "contacts", "opsync_uid", contact.uid, contactProperties(contact, false))).id };
          }
          return { uid: contact.uid, error: toVendorError(outcome?.error ?? new TransientError("no result"), "contacts.upsert") };
        } catch (err) {
          return { uid: contact.uid, error: toVendorError(err, "contacts.upsert") };
        }
      }),
    );
  }

  /** A contact opsync just created starts as a lead (sent after creation, so it never moves an existing one back). */
  private async setCreatedLifecycle(contactId: string, contact: ContactState): Promise<void> {
    await this.session.call("contacts.lifecycle", async (c) =>
      this.session.seen(await c.crm.contacts.basicApi.updateWithHttpInfo(contactId, { properties: { lifecyclestage: contact.lifecycleStage } })),
    );
  }

  /**
   * The email already belongs to a contact (made by hand, a form, an import): link that contact to the uid
   * instead of creating a second one, unless it is already linked to a different uid.
   */
  private async linkExisting(contactId: string, contact: ContactState): Promise<string> {
    const existing = await this.session.call("contacts.read", async (c) => this.session.seen(await c.crm.contacts.basicApi.getByIdWithHttpInfo(contactId, ["opsync_uid"])));
    const owner = existing.properties.opsync_uid;
    if (owner && owner !== contact.uid) {
      throw new PermanentError(`hubspot contact ${contactId} has this email and is linked to another uid`, { httpStatus: 409 });
    }
    const properties = { ...contactProperties(contact, false), opsync_uid: contact.uid };
    try {
      await this.session.call("contacts.link", async (c) => this.session.seen(await c.crm.contacts.basicApi.updateWithHttpInfo(contactId, { properties })));
    } catch (err) {
      // The uid already has its own contact and this email is on another one: opsync never merges two contacts.
      if (err instanceof TransientError && isRaceConflict(err)) {
        throw new PermanentError(`hubspot contact ${contactId} has this email, and the uid already has another contact`, { httpStatus: 409 });
      }
      throw err;
    }
    return contactId;
  }

  async upsertDeal(deal: DealState): Promise<{ dealId: string }> {
    const { pipeline, dealstage } = await this.stageFor(deal.stage);
    const properties: Record<string, string> = { dealname: deal.name, amount: deal.amount === null ? "" : String(deal.amount), dealstage, pipeline };
    if (deal.currency) properties.deal_currency_code = deal.currency.toUpperCase();
    const { id, isNew } = await upsertOne(this.session, "deals.upsert", "deals", "opsync_deal_key", deal.key, properties);
    // A known, completed deal is associated already: one HubSpot call less per subscription change.
    const linked = !isNew && deal.knownDealId === id;
    if (deal.contactId && !linked) await associateWithContact(this.session, "deals", id, deal.contactId);
    return { dealId: id };
  }

  async readContacts(uids: string[]): Promise<Map<string, CrmContactRecord>> {
    const found = await readMany(this.session, "contacts", "opsync_uid", uids, CRM_CONTACT_PROPERTIES);
    const out = new Map<string, CrmContactRecord>();
    for (const r of found) {
      const uid = r.properties.opsync_uid;
      if (uid) out.set(uid, { id: r.id, uid, properties: Object.fromEntries(CRM_CONTACT_PROPERTIES.map((p) => [p, r.properties[p] ?? null])) });
    }
    return out;
  }

  async readDeals(keys: string[]): Promise<Map<string, CrmDealRecord>> {
    const found = await readMany(this.session, "deals", "opsync_deal_key", keys, ["dealstage", "pipeline", "amount"]);
    const out = new Map<string, CrmDealRecord>();
    for (const r of found) {
      const key = r.properties.opsync_deal_key;
      if (key) out.set(key, { id: r.id, key, stageId: r.properties.dealstage ?? null, amount: r.properties.amount || null });
    }
    return out;
  }

  async dealStageId(stage: DealStage): Promise<string | null> {
    if (stage !== "refunded" && stage !== "partially_refunded") return DEFAULT_PIPELINE_STAGES[stage];
    return (await this.refundStageIds())?.stages[stage] ?? null;
  }

  private async stageFor(stage: DealStage): Promise<{ pipeline: string; dealstage: string }> {
    if (stage !== "refunded" && stage !== "partially_refunded") return { pipeline: DEFAULT_PIPELINE_ID, dealstage: DEFAULT_PIPELINE_STAGES[stage] };
    const ids = await this.refundStageIds();
    const dealstage = ids?.stages[stage];
    if (!ids || !dealstage) {
      throw new PermanentError(`hubspot deal stage "${stage}" has no HubSpot stage id: run \`npm run hubspot:setup\` (it creates the refund stages and stores their ids in ops/hubspot), then retry the job`);
    }
    return { pipeline: ids.pipelineId, dealstage };
  }

  private async refundStageIds(): Promise<RefundStageIds | null> {
    const ttl = this.config.stageCacheMs ?? 5 * 60_000;
    if (this.stageCache && Date.now() - this.stageCache.at < ttl) return this.stageCache.ids;
    let ids: RefundStageIds | null;
    try {
      ids = await this.config.refundStages();
    } catch (err) {
      throw new TransientError(`reading ops/hubspot failed: ${err instanceof Error ? err.name : "unknown"}`);
    }
    // Only a found answer is kept: after someone runs setup, the next job sees the ids.
    this.stageCache = ids ? { ids, at: Date.now() } : null;
    return ids;
  }
}

// ---- Tickets -------------------------------------------------------------------------------------------------

function billingContextText(ticket: TicketRequest): string {
  const ctx = ticket.context;
  return [
    `opsync uid: ${ctx.uid ?? "unknown"}`,
    `Stripe customer: ${ctx.stripeCustomerId ?? "none"}`,
    `Plan: ${ctx.plan ?? "none"}`,
    `Subscription status: ${ctx.subscriptionStatus ?? "none"}`,
    `Last payment: ${ctx.lastPaymentAt?.toISOString() ?? "never"}`,
    `Open orders: ${ctx.openOrders.length > 0 ? ctx.openOrders.join(", ") : "none"}`,
  ].join("\n");
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
        : await upsertOne(this.session, "tickets.upsert", "tickets", "opsync_request_id", ticket.requestId, ticketProperties(ticket));
    // Also on a repeat: the earlier attempt may have created the ticket and failed before associating it.
    if (ticket.contactId) await associateWithContact(this.session, "tickets", id, ticket.contactId);
    return { ticketId: id, created: isNew };
  }

  private findTicket(requestId: string): Promise<string | null> {
    return this.session.call("tickets.read", async (c) => {
      try {
        const found = this.session.seen(await c.crm.tickets.basicApi.getByIdWithHttpInfo(requestId, ["opsync_request_id"], undefined, undefined, false, "opsync_request_id"));
        return found.id;
      } catch (err) {
        if (isSdkHttpError(err) && err.code === 404) {
          this.session.observe(err.headers);
          return null;
        }
        throw err;
      }
    });
  }
}
