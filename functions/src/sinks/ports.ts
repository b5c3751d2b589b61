/**
 * Ports for the outside systems the sync queue drives. Adapters (HubSpot, Zendesk, Firebase Auth, Slack) and
 * in-memory fakes implement these; the queue and its tests depend only on the interfaces.
 *
 * Every method is idempotent for the same input (keyed on opsync's ids, never on email), and throws
 * TransientError (retry, maybe after `retryAfterMs`) or PermanentError (do not retry) from domain/errors.
 */
import type { ContactState, DealState, TicketRequest } from "../domain/syncModel.js";

export type { BillingContext, ContactState, DealState, DealStage, TicketRequest } from "../domain/syncModel.js";

export interface CrmPort {
  /** Creates or updates the contact keyed on the uid; links an existing contact with the same email (409). */
  upsertContact(contact: ContactState): Promise<{ contactId: string }>;
  upsertDeal(deal: DealState): Promise<{ dealId: string }>;
}

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
  retrieveObject(kind: string, id: string): Promise<Record<string, unknown> | null>;
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
