/**
 * Ports for the outside systems the sync queue drives. Adapters (HubSpot, Zendesk, Firebase Auth, Slack) and
 * in-memory fakes implement these; the queue and its tests depend only on the interfaces.
 *
 * Every method is idempotent for the same input (keyed on opsync's ids, never on email), and throws
 * TransientError (retry, maybe after `retryAfterMs`) or PermanentError (do not retry) from domain/errors.
 */
import type { PermanentError, TransientError } from "../domain/errors.js";
import type { ContactState, DealStage, DealState, TicketRequest } from "../domain/syncModel.js";
import type { StripeObjectKind } from "./stripeApi.js";

export type { BillingContext, ContactState, DealState, DealStage, RefundStageIds, TicketRequest } from "../domain/syncModel.js";

export interface CrmPort {
  /** Creates or updates the contact keyed on the uid; links an existing contact with the same email (409). */
  upsertContact(contact: ContactState): Promise<{ contactId: string }>;
  /**
   * Upserts several contacts in one call. A batch can partly fail (HubSpot answers 207): each input gets its own
   * outcome, a contact id or the typed error that input failed with; the call itself throws only when nothing could
   * be attempted (auth, rate limit, network).
   */
  upsertContacts(contacts: ContactState[]): Promise<ContactOutcome[]>;
  /** Refund stages need their CRM stage ids (ops/hubspot); without them this throws PermanentError naming the fix. */
  upsertDeal(deal: DealState): Promise<{ dealId: string }>;
}

/** A contact as the CRM holds it: opsync's own properties (`opsync_plan`, `opsync_subscription_status`, …). */
export interface CrmContactRecord {
  id: string;
  uid: string;
  properties: Record<string, string | null>;
}

export interface CrmDealRecord {
  id: string;
  key: string;
  /** The CRM's stage id (compare with `dealStageId`). */
  stageId: string | null;
  /** The deal's `amount` property as the CRM holds it (major units, as opsync writes it), or null. */
  amount: string | null;
}

/** Reconciliation's read side of the CRM: batched reads by opsync's unique keys (never search, never email). */
export interface CrmReadPort {
  /** Contacts by `opsync_uid`, at most 100 per call; a uid the CRM does not have is absent from the map. */
  readContacts(uids: string[]): Promise<Map<string, CrmContactRecord>>;
  /** Deals by `opsync_deal_key`, at most 100 per call; absent keys are missing. */
  readDeals(keys: string[]): Promise<Map<string, CrmDealRecord>>;
  /** The stage id a deal in `stage` carries in the CRM (refund stages need ops/hubspot; null when unknown). */
  dealStageId(stage: DealStage): Promise<string | null>;
}

/** The properties of a contact opsync writes, as `readContacts` reports them. */
export const CRM_CONTACT_PROPERTIES = ["opsync_plan", "opsync_subscription_status", "opsync_stripe_customer_id", "opsync_mrr"] as const;

/** Most ids one batched read takes (HubSpot's batch limit; Firebase Auth's getUsers). */
export const READ_BATCH = 100;

export type ContactOutcome = { uid: string; contactId: string } | { uid: string; error: TransientError | PermanentError };

export interface HelpdeskPort {
  readonly name: "hubspot" | "zendesk" | "memory";
  createTicket(ticket: TicketRequest): Promise<{ ticketId: string; created: boolean }>;
}

export interface ClaimsPort {
  /** Sets opsync's claims (entitlements, plan, supportTier) and keeps every claim opsync does not own. */
  setClaims(uid: string, owned: { entitlements: string[]; plan: string | null; supportTier: string }): Promise<void>;
}

/** Reconciliation's read side of the claims: each uid's custom claims, null when Auth has no such user. */
export interface ClaimsReadPort {
  readClaims(uids: string[]): Promise<Map<string, Record<string, unknown> | null>>;
}

export interface NotifyPort {
  /** Posts one message; `key` identifies what it is about so a retry never posts a second one. */
  post(message: { key: string; text: string }): Promise<void>;
}

/** The Stripe API's read side for one object (revalidation): the object as Stripe holds it now, or null. */
export interface StripeObjectsPort {
  retrieveObject(kind: StripeObjectKind, id: string): Promise<Record<string, unknown> | null>;
}

/** Every adapter the sync runner calls, behind its port. */
export interface Sinks {
  crm: CrmPort;
  helpdesk: HelpdeskPort;
  claims: ClaimsPort;
  /** null when no Slack webhook is configured: notifications are then skipped, not failed. */
  notify: NotifyPort | null;
  /** The Stripe API read side, for revalidation; null when no key is configured (those jobs then fail clearly). */
  stripe: StripeObjectsPort | null;
}
