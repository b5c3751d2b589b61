/**
 * Shapes of the documents opsync owns (docs/data-model.md describes every field). Dates are `Date` in the
 * domain; the store converts Firestore Timestamps at the boundary.
 */
import type { Watermark } from "./ordering.js";

export const LEDGER_STATUSES = ["received", "applied", "ignored", "stale", "needs_review", "failed"] as const;
/** Where a ledger entry came from. */
export const LEDGER_SOURCES = ["webhook", "sweep", "replay", "backfill"] as const;
export type LedgerSource = (typeof LEDGER_SOURCES)[number];
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

export const JOB_STATUSES = ["pending", "running", "retrying", "succeeded", "dead", "paused"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const JOB_KINDS = [
  "crm.contact.upsert",
  "crm.deal.upsert",
  "auth.claims.update",
  "helpdesk.ticket.create",
  "notify.slack",
  "stripe.object.revalidate",
] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Which sink a job kind belongs to, for the per-sink status on the canonical record. */
export const SINK_NAMES = ["crm", "claims", "helpdesk", "notify", "stripe"] as const;
export type SinkName = (typeof SINK_NAMES)[number];

export const SINK_OF_JOB: Record<JobKind, SinkName> = {
  "crm.contact.upsert": "crm",
  "crm.deal.upsert": "crm",
  "auth.claims.update": "claims",
  "helpdesk.ticket.create": "helpdesk",
  "notify.slack": "notify",
  "stripe.object.revalidate": "stripe",
};

export interface SinkSyncStatus {
  status: "pending" | "synced" | "failed";
  jobId: string | null;
  at: Date;
}

export interface CustomerDoc {
  uid: string;
  email: string | null;
  name: string | null;
  stripeCustomerId: string | null;
  stripeCustomerDeleted: boolean;
  crmContactId: string | null;
  /** CRM deal ids by subscription id, written when a deal job completed (its contact association included). */
  crmDealIds?: Record<string, string>;
  helpdeskIds: Record<string, string>;
  plan: string | null;
  priceId: string | null;
  productId: string | null;
  subscriptionId: string | null;
  subscriptionStatus: string | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: Date | null;
  trialEnd: Date | null;
  delinquent: boolean;
  lastPaymentAt: Date | null;
  pastDueSince: Date | null;
  entitlements: string[];
  entitlementsGraceUntil: Date | null;
  supportTier: string;
  /** `staff` once a person set supportTier: plan changes then leave it alone. */
  supportTierSource?: "plan" | "staff";
  sync: Record<string, SinkSyncStatus>;
  /** Bumped whenever a claims-owned field (entitlements, plan, supportTier) changes. */
  claimsVersion: number;
  /** Field-group watermarks: state derived from different Stripe objects must not regress either. */
  stripeState: Partial<Record<"customer" | "subscription" | "payment", Watermark>>;
  createdAt: Date;
  updatedAt: Date;
}

export interface InvoiceSummary {
  status: string | null;
  billingReason: string | null;
  amountPaid: number;
  amountDue: number;
  currency: string;
  number: string | null;
  hostedInvoiceUrl: string | null;
  attemptCount: number;
  paidAt: Date | null;
  nextPaymentAttempt: Date | null;
  subscriptionId: string | null;
  eventCreated: number;
}

export interface BillingDoc {
  uid: string;
  stripeCustomerId: string | null;
  invoices: Record<string, InvoiceSummary>;
  subscriptions: Record<
    string,
    { status: string; plan: string | null; currentPeriodEnd: Date | null; mrr: number | null; currency: string | null; eventCreated: number }
  >;
  payments: Record<string, { status: string; amount: number; currency: string; failureCode: string | null; eventCreated: number }>;
  refunds: Record<string, { amount: number; currency: string; status: string | null; chargeId: string | null; eventCreated: number }>;
  disputes: Record<string, { amount: number; currency: string; status: string; reason: string | null; chargeId: string | null; eventCreated: number }>;
  lastPaymentFailure: { invoiceId: string | null; paymentIntentId: string | null; code: string | null; at: Date } | null;
  actionRequired: { invoiceId: string; hostedInvoiceUrl: string | null; at: Date } | null;
  updatedAt: Date;
}

export const ORDER_STATUSES = [
  "pending_payment",
  "paid",
  "in_fulfillment",
  "completed",
  "refunded",
  "partially_refunded",
  "payment_failed",
  "canceled",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderTransition {
  from: OrderStatus | null;
  to: OrderStatus;
  by: string;
  at: Date;
}

export interface OrderDoc {
  orderId: string;
  buyerUid: string | null;
  sellerUid: string | null;
  status: OrderStatus;
  amount: number | null;
  currency: string | null;
  amountRefunded: number;
  refunds: Record<string, { amount: number; status: string | null }>;
  paymentIntentId: string | null;
  checkoutSessionId: string | null;
  dispute: { id: string; status: string; reason: string | null; amount: number } | null;
  history: OrderTransition[];
  rejectedTransitions: OrderTransition[];
  stripeState: Watermark | null;
  createdAt: Date;
  updatedAt: Date;
}

/** `stripeObjects/{id}`: the per-object watermark plus who the object belongs to (for refunds/disputes). */
export interface StripeObjectDoc {
  objectType: string;
  watermark: Watermark | null;
  uid: string | null;
  orderId: string | null;
  stripeCustomerId: string | null;
  updatedAt: Date;
}

export interface JobTarget {
  uid?: string;
  orderId?: string;
  subscriptionId?: string;
  invoiceId?: string;
  disputeId?: string;
  alertId?: string;
  /** Notifications: what kind of notice it is (`automation` notices run even while automation is paused). */
  notice?: string;
  ticketRequestId?: string;
  supportRequestId?: string;
  /** Revalidation: the Stripe object to fetch and its kind (`subscription`, `invoice`, …). */
  stripeObjectId?: string;
  stripeObjectKind?: string;
}

export interface JobSpec {
  kind: JobKind;
  target: JobTarget;
  /** Stable across replays of the same cause, so a sink can make its write idempotent. */
  idempotencyKey: string;
  reason: string | null;
  /** Only for notifications: the text to post, fixed when the job is planned. */
  text?: string;
}

export interface AuditSpec {
  action: string;
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface ReviewSpec {
  reason: string;
  detail: string;
}
