/** What the sync queue sends to the outside systems: built from the canonical records when a job runs. */

/** Current state of a customer, sent whole every time (sync by state, not by delta). */
export interface ContactState {
  uid: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  lifecycleStage: "lead" | "customer" | "other";
  plan: string | null;
  subscriptionStatus: string | null;
  /** Monthly recurring revenue in major units (e.g. dollars), null when unknown. */
  mrr: number | null;
  lastPaymentAt: Date | null;
  stripeCustomerId: string | null;
}

export type DealStage = "open" | "won" | "refunded" | "partially_refunded" | "lost" | "canceled";

export interface DealState {
  /** Unique deal key: `order:<orderId>` or `subscription:<subscriptionId>`. */
  key: string;
  name: string;
  stage: DealStage;
  /** Major units. */
  amount: number | null;
  currency: string | null;
  contactId: string | null;
  /**
   * The deal id an earlier completed run stored (already associated with `contactId`): when the upsert finds that
   * same deal, the association call is skipped. Null or absent: always associate.
   */
  knownDealId?: string | null;
}

export interface BillingContext {
  uid: string | null;
  stripeCustomerId: string | null;
  plan: string | null;
  subscriptionStatus: string | null;
  lastPaymentAt: Date | null;
  openOrders: string[];
}

export interface TicketRequest {
  /** Idempotency key: the same request id never creates a second ticket. */
  requestId: string;
  subject: string;
  body: string;
  priority: "low" | "normal" | "high" | "urgent";
  tags: string[];
  requester: { email: string | null; name: string | null };
  contactId: string | null;
  context: BillingContext;
}


/**
 * The CRM's ids for opsync's refund deal stages, found or created by `npm run hubspot:setup` and stored in
 * `ops/hubspot`. HubSpot gives a stage created in its UI or API a generated id, so names cannot be sent.
 */
export interface RefundStageIds {
  pipelineId: string;
  stages: { refunded: string; partially_refunded: string };
}
