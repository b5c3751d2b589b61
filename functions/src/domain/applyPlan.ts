/**
 * What applying a Stripe event (or an API read) decides: the plan the store writes in one transaction. Shared by
 * the customer and the order halves of the apply (apply.ts, applyOrder.ts).
 */
import type { Owner } from "./identity.js";
import type { AuditSpec, BillingDoc, CustomerDoc, JobSpec, LedgerStatus, OrderDoc, ReviewSpec, StripeObjectDoc } from "./model.js";
import type { NormalizedEvent, Subject } from "./normalize.js";
import type { SnapshotSet } from "./snapshots.js";

export interface ApplyInput {
  event: NormalizedEvent;
  now: Date;
  graceDays: number;
  owner: Owner;
  mappingUid: string | null;
  customer: CustomerDoc | null;
  billing: BillingDoc | null;
  order: OrderDoc | null;
  /** `customers/{uid}/private/stripe` or `orders/{orderId}/private/stripe`, as read in the transaction. */
  snapshots: SnapshotSet | null;
}

export interface ObjectLinkWrite {
  id: string;
  objectType: string;
  fields: Partial<Pick<StripeObjectDoc, "uid" | "orderId" | "stripeCustomerId">>;
}

export interface DocChange<T> {
  before: T | null;
  after: T;
}

export interface ApplyPlan {
  status: LedgerStatus;
  reason: string | null;
  customer: DocChange<CustomerDoc> | null;
  billing: DocChange<BillingDoc> | null;
  order: DocChange<OrderDoc> | null;
  /** The owner's snapshot set to store (customer or order), when a snapshot changed. */
  snapshots: { owner: "customer" | "order"; id: string; set: SnapshotSet } | null;
  mapping: { stripeCustomerId: string; uid: string } | null;
  /** Who a payment intent / charge belongs to, so refunds and disputes naming only them find their owner. */
  objects: ObjectLinkWrite[];
  jobs: JobSpec[];
  audits: AuditSpec[];
  review: ReviewSpec | null;
  /** Cause the job ids derive from: the event id, or e.g. `revalidate_<jobId>`. */
  cause: string;
}

export function emptyPlan(status: LedgerStatus, reason: string | null, cause: string): ApplyPlan {
  return { status, reason, customer: null, billing: null, order: null, snapshots: null, mapping: null, objects: [], jobs: [], audits: [], review: null, cause };
}

export function objectLinks(s: Subject, fields: { uid?: string | null; orderId?: string | null; stripeCustomerId?: string | null }): ObjectLinkWrite[] {
  const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v)) as ObjectLinkWrite["fields"];
  const links: ObjectLinkWrite[] = [{ id: s.objectId, objectType: s.kind, fields: clean }];
  // Refunds and disputes name only the payment intent/charge; record who it belongs to for them.
  if ("paymentIntentId" in s && s.paymentIntentId && s.kind !== "refund" && s.kind !== "dispute") {
    links.push({ id: s.paymentIntentId, objectType: "payment_intent", fields: clean });
  }
  return links;
}
