/**
 * Ports for the outside systems the sync queue drives. Adapters (HubSpot, Zendesk, Firebase Auth, Slack) and
 * in-memory fakes implement these; the queue and its tests depend only on the interfaces.
 *
 * Every method is idempotent for the same input (keyed on opsync's ids, never on email), and throws
 * TransientError (retry, maybe after `retryAfterMs`) or PermanentError (do not retry) from domain/errors.
 */
import type { PermanentError, TransientError } from "../domain/errors.js";
import type { ContactState, DealState, TicketRequest } from "../domain/syncModel.js";
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

export type ContactOutcome = { uid: string; contactId: string } | { uid: string; error: TransientError | PermanentError };

export interface HelpdeskPort {
  readonly name: "hubspot" | "zendesk" | "memory";
  createTicket(ticket: TicketRequest): Promise<{ ticketId: string; created: boolean }>;
}

export interface ClaimsPort {
  /** Sets opsync's claims (entitlements, plan, supportTier) and keeps every claim opsync does not own. */
  setClaims(uid: string, owned: { entitlements: string[]; plan: string | null; supportTier: string }): Promise<void>;
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
