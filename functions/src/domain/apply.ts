/**
 * Applying one normalized Stripe event (or an object fetched from the Stripe API): update the snapshot of the
 * object it carries, then re-derive the canonical records from all of the owner's snapshots and plan the jobs and
 * audit entries the change calls for. Pure: no I/O, no clock (the caller passes `now`).
 */
import { deepEqual, diffFields } from "./diff.js";
import { deriveBilling, deriveCustomer, type CustomerKeep } from "./deriveCustomer.js";
import { deriveOrderFacts, impliedStatus, orderStatus } from "./deriveOrder.js";
import { sameSet } from "./entitlements.js";
import type { Owner } from "./identity.js";
import { jobId } from "./jobs.js";
import { SINK_OF_JOB } from "./model.js";
import type { AuditSpec, BillingDoc, CustomerDoc, JobSpec, LedgerStatus, OrderDoc, ReviewSpec, StripeObjectDoc } from "./model.js";
import type { NormalizedEvent, Subject } from "./normalize.js";
import { transition, transitionThrough } from "./orders.js";
import { API_EVENT_TYPE, emptySet, learnPastDue, nextSnapshot, orderAgainst, putSnapshot, type Snapshot, type SnapshotMark, type SnapshotSet } from "./snapshots.js";

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

const MAX_ORDER_HISTORY = 50;
/** Fields that change on every write or are bookkeeping; they do not make a CRM resync worthwhile. */
const CUSTOMER_BOOKKEEPING = ["updatedAt", "createdAt", "sync", "stripeState", "claimsVersion"] as const;
/** The claims opsync owns (docs/data-model.md): a change to any of them plans a claims job. */
const CLAIMS_FIELDS = ["entitlements", "plan", "supportTier"] as const;

function emptyPlan(status: LedgerStatus, reason: string | null, cause: string): ApplyPlan {
  return { status, reason, customer: null, billing: null, order: null, snapshots: null, mapping: null, objects: [], jobs: [], audits: [], review: null, cause };
}

function review(reason: string, detail: string, cause: string): ApplyPlan {
  return { ...emptyPlan("needs_review", detail, cause), review: { reason, detail } };
}

export function newCustomer(uid: string, now: Date): CustomerDoc {
  return {
    uid, email: null, name: null, stripeCustomerId: null, stripeCustomerDeleted: false, crmContactId: null, helpdeskIds: {},
    plan: null, priceId: null, productId: null, subscriptionId: null, subscriptionStatus: null, currentPeriodEnd: null,
    cancelAtPeriodEnd: false, cancelAt: null, trialEnd: null, delinquent: false, lastPaymentAt: null, pastDueSince: null,
    entitlements: [], entitlementsGraceUntil: null, supportTier: "free", sync: {}, stripeState: {}, claimsVersion: 0, createdAt: now, updatedAt: now,
  };
}

/** The snapshot an event carries: its object as of `event.created`. */
function eventMark(event: NormalizedEvent): SnapshotMark {
  return { created: event.meta.created, eventId: event.meta.id, eventType: event.meta.type, source: "event" };
}

export function applyEvent(input: ApplyInput): ApplyPlan {
  const { event, owner } = input;
  const cause = event.meta.id;
  if (owner.conflict) return review("uid_conflict", owner.conflict, cause);
  if (!owner.order && !owner.uid) {
    const customer = owner.stripeCustomerId;
    return review(
      "unmapped_customer",
      customer
        ? `No Firebase uid for Stripe customer ${customer}: set metadata.firebaseUid or client_reference_id, or map it by hand`
        : `No Firebase uid and no Stripe customer on ${event.subject.kind} ${event.subject.objectId}`,
      cause,
    );
  }
  const incoming = { subject: event.subject, mark: eventMark(event) };
  const current = input.snapshots?.objects[event.subject.objectId];
  const ordering = orderAgainst(incoming, current);
  if (ordering === "older" || ordering === "same" || ordering === "uncertain") {
    const what =
      ordering === "same"
        ? "the same state is already recorded"
        : ordering === "older"
          ? `older than ${current?.mark.eventId ?? "an API read"} already applied`
          : `same-second tie with ${current?.mark.eventId ?? "an API read"}; revalidating from the Stripe API`;
    // A late subscription event still tells when a past_due spell began (grace counts from there).
    const learned = current && owner.uid && !owner.order && event.subject.kind === "subscription" ? learnPastDue(current, event.subject.status, event.meta.created) : null;
    const plan = learned
      ? { ...applyToCustomer(customerCtx(input), owner.uid as string, { subject: learned.subject, mark: learned.mark }, cause, learned), status: "stale" as const }
      : emptyPlan("stale", null, cause);
    plan.reason = `${what} for ${event.subject.objectId}${learned ? "; its status was kept for the past_due spell" : ""}`;
    // Same second, same lifecycle step, different content: ask Stripe instead of guessing.
    if (ordering === "uncertain") plan.jobs.push(revalidateJob(event.subject, owner, event.meta.type));
    return plan;
  }
  return owner.order ? applyToOrder(orderCtx(input, owner.order), incoming, cause) : applyToCustomer(customerCtx(input), owner.uid as string, incoming, cause);
}

/** What deriving a customer needs besides the snapshot that changed. */
interface CustomerCtx {
  now: Date;
  graceDays: number;
  customer: CustomerDoc | null;
  billing: BillingDoc | null;
  snapshots: SnapshotSet | null;
  mappingUid: string | null;
  stripeCustomerId: string | null;
}

interface OrderCtx {
  now: Date;
  order: OrderDoc | null;
  snapshots: SnapshotSet | null;
  facts: NonNullable<Owner["order"]>;
}

function customerCtx(input: Omit<ApplyInput, "event">): CustomerCtx {
  const { now, graceDays, customer, billing, snapshots, mappingUid } = input;
  return { now, graceDays, customer, billing, snapshots, mappingUid, stripeCustomerId: input.owner.stripeCustomerId };
}

function orderCtx(input: Omit<ApplyInput, "event">, facts: NonNullable<Owner["order"]>): OrderCtx {
  return { now: input.now, order: input.order, snapshots: input.snapshots, facts };
}

function revalidateJob(subject: Subject, owner: Owner, why: string): JobSpec {
  return {
    kind: "stripe.object.revalidate",
    target: { stripeObjectId: subject.objectId, stripeObjectKind: subject.kind, ...(owner.uid ? { uid: owner.uid } : {}), ...(owner.order ? { orderId: owner.order.orderId } : {}) },
    idempotencyKey: `revalidate:${subject.objectId}`,
    reason: why,
  };
}

/**
 * An object read from the Stripe API settles the second in doubt: it replaces the snapshot with Stripe's content but
 * keeps the snapshot's second as its watermark (`source: "api"`). Events of later seconds are newer than what was in
 * doubt and still apply (the last one Stripe sends is the object's final state), and times derived from the
 * snapshot (pastDueSince, eventCreated, recency) stay the event's, not the moment opsync happened to ask. With no
 * snapshot to settle, the read is as of `fetchedAt`. A read equal to what is recorded changes nothing.
 */
export function applyApiObject(input: Omit<ApplyInput, "event"> & { subject: Subject; fetchedAt: number; cause: string }): ApplyPlan {
  const current = input.snapshots?.objects[input.subject.objectId];
  if (current && current.mark.created > input.fetchedAt) return emptyPlan("stale", `an event newer than the API read was applied to ${input.subject.objectId}`, input.cause);
  if (current && deepEqual(current.subject, input.subject)) return emptyPlan("stale", `the Stripe API shows the state already recorded for ${input.subject.objectId}`, input.cause);
  const mark: SnapshotMark = { created: current ? current.mark.created : input.fetchedAt, eventId: null, eventType: API_EVENT_TYPE, source: "api" };
  const incoming = { subject: input.subject, mark };
  if (input.owner.order) return applyToOrder(orderCtx(input, input.owner.order), incoming, input.cause);
  if (!input.owner.uid) return emptyPlan("failed", `nobody owns ${input.subject.objectId}`, input.cause);
  return applyToCustomer(customerCtx(input), input.owner.uid, incoming, input.cause);
}

/** Re-derives a customer with nothing new from Stripe: time alone changed something (past-due grace ended). */
export function recomputeCustomer(input: Pick<ApplyInput, "now" | "graceDays" | "customer" | "billing" | "snapshots"> & { uid: string; cause: string }): ApplyPlan {
  const ctx: CustomerCtx = { ...input, mappingUid: input.uid, stripeCustomerId: input.customer?.stripeCustomerId ?? null };
  return applyToCustomer(ctx, input.uid, null, input.cause);
}

function applyToCustomer(
  input: CustomerCtx,
  uid: string,
  incoming: { subject: Subject; mark: SnapshotMark } | null,
  cause: string,
  /** The snapshot to store when it is not simply the next one (a late event refined what is known). */
  snapshot?: Snapshot,
): ApplyPlan {
  const { now } = input;
  const before = input.customer;
  const setBefore = input.snapshots ?? emptySet();
  const set = incoming ? putSnapshot(setBefore, snapshot ?? nextSnapshot(incoming.subject, incoming.mark, setBefore.objects[incoming.subject.objectId])) : setBefore;
  const base = before ? structuredClone(before) : newCustomer(uid, now);
  const keep: CustomerKeep = { email: base.email, name: base.name, supportTier: base.supportTier, supportTierSource: base.supportTierSource };
  const c: CustomerDoc = { ...base, ...deriveCustomer(set, keep, now, input.graceDays) };
  c.claimsVersion = base.claimsVersion ?? 0;
  const billingBefore = input.billing;
  const billingAfter: BillingDoc = { ...deriveBilling(set, uid, c.stripeCustomerId), updatedAt: billingBefore?.updatedAt ?? now };

  const s = incoming?.subject ?? null;
  const eventType = incoming?.mark.eventType ?? "";
  const jobs: JobSpec[] = [];
  const customerDiff = diffFields(before, c, CUSTOMER_BOOKKEEPING);
  if (customerDiff || !before) jobs.push({ kind: "crm.contact.upsert", target: { uid }, idempotencyKey: `contact:${uid}`, reason: eventType || "recompute" });
  if (s?.kind === "subscription") {
    jobs.push({ kind: "crm.deal.upsert", target: { uid, subscriptionId: s.objectId }, idempotencyKey: `subscription:${s.objectId}`, reason: eventType });
  }
  if (s?.kind === "invoice" && eventType === "invoice.payment_failed" && s.billingReason === "subscription_cycle") {
    jobs.push({
      kind: "helpdesk.ticket.create",
      target: { uid, invoiceId: s.objectId, ...(s.subscriptionId ? { subscriptionId: s.subscriptionId } : {}) },
      // One ticket per failed renewal, however many retries Stripe makes on the invoice.
      idempotencyKey: `failed-renewal:${s.objectId}`,
      reason: "failed_renewal",
    });
  }
  if (s?.kind === "dispute" && eventType === "charge.dispute.created") {
    jobs.push({ kind: "helpdesk.ticket.create", target: { uid, disputeId: s.objectId }, idempotencyKey: `dispute:${s.objectId}`, reason: "dispute" });
  }
  const claimsChanged = CLAIMS_FIELDS.some((f) => (f === "entitlements" ? !sameSet(before?.entitlements ?? [], c.entitlements) : (before?.[f] ?? (f === "supportTier" ? "free" : null)) !== c[f]));
  if (claimsChanged) {
    // A version the claims job compares with what it wrote: a later change always leads to a later write.
    c.claimsVersion += 1;
    jobs.push({ kind: "auth.claims.update", target: { uid }, idempotencyKey: `claims:${uid}`, reason: "claims changed" });
  }
  for (const job of jobs) c.sync[SINK_OF_JOB[job.kind]] = { status: "pending", jobId: jobId(cause, job), at: now };

  const billingDiff = diffFields(billingBefore, billingAfter, ["updatedAt"]);
  if (billingDiff) billingAfter.updatedAt = now;
  const audits: AuditSpec[] = [];
  const changed = Boolean(customerDiff || !before || jobs.length);
  if (changed) c.updatedAt = now;
  if (customerDiff || !before) {
    audits.push({ action: before ? "customer.update" : "customer.create", target: `customers/${uid}`, before: customerDiff?.before ?? null, after: customerDiff?.after ?? null });
  }
  if (billingDiff) {
    audits.push({ action: billingBefore ? "billing.update" : "billing.create", target: `customers/${uid}/private/billing`, before: billingDiff.before, after: billingDiff.after });
  }
  const customerId = input.stripeCustomerId;
  const mapping = customerId && !input.mappingUid ? { stripeCustomerId: customerId, uid } : null;
  if (mapping) audits.push({ action: "stripeCustomer.map", target: `stripeCustomers/${customerId}`, before: null, after: { uid } });
  return {
    status: "applied",
    reason: null,
    customer: changed ? { before, after: c } : null,
    billing: billingDiff ? { before: billingBefore, after: billingAfter } : null,
    order: null,
    snapshots: incoming ? { owner: "customer", id: uid, set } : null,
    mapping,
    objects: s ? objectLinks(s, { uid, stripeCustomerId: customerId }) : [],
    jobs,
    audits,
    review: null,
    cause,
  };
}

function objectLinks(s: Subject, fields: { uid?: string | null; orderId?: string | null; stripeCustomerId?: string | null }): ObjectLinkWrite[] {
  const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v)) as ObjectLinkWrite["fields"];
  const links: ObjectLinkWrite[] = [{ id: s.objectId, objectType: s.kind, fields: clean }];
  // Refunds and disputes name only the payment intent/charge; record who it belongs to for them.
  if ("paymentIntentId" in s && s.paymentIntentId && s.kind !== "refund" && s.kind !== "dispute") {
    links.push({ id: s.paymentIntentId, objectType: "payment_intent", fields: clean });
  }
  return links;
}

function newOrder(orderId: string, now: Date): OrderDoc {
  return {
    orderId, buyerUid: null, sellerUid: null, status: "pending_payment", amount: null, currency: null, amountRefunded: 0, refunds: {},
    paymentIntentId: null, checkoutSessionId: null, dispute: null, history: [], rejectedTransitions: [], stripeState: null, createdAt: now, updatedAt: now,
  };
}

function applyToOrder(input: OrderCtx, incoming: { subject: Subject; mark: SnapshotMark }, cause: string): ApplyPlan {
  const { now } = input;
  const facts = input.facts;
  const s = incoming.subject;
  const eventType = incoming.mark.eventType;
  const before = input.order;
  const set = putSnapshot(input.snapshots ?? emptySet(), { ...incoming, pastDueSince: null });
  const o: OrderDoc = before ? structuredClone(before) : newOrder(facts.orderId, now);
  o.buyerUid ??= facts.buyerUid;
  o.sellerUid ??= facts.sellerUid;
  const derived = deriveOrderFacts(set);
  const { amount, currency, amountRefunded, refunds, paymentIntentId, checkoutSessionId, dispute } = derived;
  Object.assign(o, { amount, currency, amountRefunded, refunds, paymentIntentId, checkoutSessionId, dispute });
  const target = orderStatus(before, derived);
  const by = incoming.mark.eventId ? `stripe:${incoming.mark.eventId}` : `stripe:${cause}`;
  const jobs: JobSpec[] = [];
  const audits: AuditSpec[] = [];
  let reviewSpec: ReviewSpec | null = null;
  const reject = (from: OrderDoc["status"], to: OrderDoc["status"], reason: string) => {
    o.rejectedTransitions = [...o.rejectedTransitions, { from, to, by, at: now }].slice(-MAX_ORDER_HISTORY);
    reviewSpec = { reason: "illegal_order_transition", detail: `${eventType} on order ${o.orderId}: ${reason}` };
    audits.push({ action: "order.transition_rejected", target: `orders/${o.orderId}`, before: { status: from }, after: { status: from, rejected: to, reason } });
  };
  const move = transitionThrough(before ? before.status : null, target);
  if (move.kind === "moved") {
    o.status = target;
    o.history = [...o.history, { from: move.from, to: target, by, at: now }].slice(-MAX_ORDER_HISTORY);
  } else if (move.kind === "illegal") {
    reject(move.from, target, move.reason);
  }
  // An event whose own meaning the state machine forbids (a payment failing on a refunded order) is flagged
  // for a person even when the derived status does not move — but only when it is the newest word about the order:
  // a failed attempt delivered after the refund that followed it is history, not a new failure.
  const implied = impliedStatus(s, eventType);
  const newest = Object.values(set.objects).every((other) => other.subject.objectId === s.objectId || other.mark.created <= incoming.mark.created);
  // A late "paid" for an order already paid and moving on (fulfilment, a partial refund) is news to nobody.
  const alreadyPaid = implied === "paid" && before !== null && ["paid", "in_fulfillment", "completed", "partially_refunded"].includes(before.status);
  if (before && implied && newest && implied !== o.status && move.kind !== "illegal" && !alreadyPaid) {
    const check = transition(before.status, implied);
    if (check.kind === "illegal") reject(check.from, implied, check.reason);
  }
  const dealWorthy = ["paid", "refunded", "partially_refunded"].includes(o.status);
  if (dealWorthy && (o.status !== before?.status || o.amountRefunded !== before?.amountRefunded)) {
    jobs.push({ kind: "crm.deal.upsert", target: { orderId: o.orderId, ...(o.buyerUid ? { uid: o.buyerUid } : {}) }, idempotencyKey: `order:${o.orderId}`, reason: `order ${o.status}` });
  }
  if (s.kind === "dispute" && eventType === "charge.dispute.created") {
    jobs.push({ kind: "helpdesk.ticket.create", target: { orderId: o.orderId, disputeId: s.objectId, ...(o.buyerUid ? { uid: o.buyerUid } : {}) }, idempotencyKey: `dispute:${s.objectId}`, reason: "dispute" });
  }
  const diff = diffFields(before, o, ["updatedAt", "createdAt", "stripeState", "history", "rejectedTransitions"]);
  if (diff) {
    o.updatedAt = now;
    audits.unshift({ action: before ? "order.update" : "order.create", target: `orders/${o.orderId}`, before: diff.before, after: diff.after });
  }
  return {
    status: reviewSpec ? "needs_review" : "applied",
    reason: (reviewSpec as ReviewSpec | null)?.detail ?? null,
    customer: null,
    billing: null,
    order: { before, after: o },
    snapshots: { owner: "order", id: o.orderId, set },
    mapping: null,
    objects: objectLinks(s, { orderId: o.orderId, uid: o.buyerUid }),
    jobs,
    audits,
    review: reviewSpec,
    cause,
  };
}
