/**
 * Applying one normalized Stripe event (or an object fetched from the Stripe API): update the snapshot of the
 * object it carries, then re-derive the canonical records from all of the owner's snapshots and plan the jobs and
 * audit entries the change calls for. Pure: no I/O, no clock (the caller passes `now`).
 */
import { deepEqual, diffFields } from "./diff.js";
import { deriveBilling, deriveCustomer, type CustomerKeep } from "./deriveCustomer.js";
import { sameSet } from "./entitlements.js";
import type { Owner } from "./identity.js";
import { jobId } from "./jobIds.js";
import { SINK_OF_JOB } from "./model.js";
import type { AuditSpec, BillingDoc, CustomerDoc, JobSpec } from "./model.js";
import type { NormalizedEvent, Subject } from "./normalize.js";
import { applyToOrder, type OrderCtx } from "./applyOrder.js";
import { emptyPlan, objectLinks, type ApplyInput, type ApplyPlan } from "./applyPlan.js";
import { subscriptionDeal } from "./syncPlan.js";
import { API_EVENT_TYPE, emptySet, learnFact, learnPastDue, nextSnapshot, orderAgainst, putSnapshot, type Snapshot, type SnapshotMark, type SnapshotSet } from "./snapshots.js";

export type { ApplyInput, ApplyPlan, DocChange, ObjectLinkWrite } from "./applyPlan.js";

/** Fields that change on every write or are bookkeeping; they do not make a CRM resync worthwhile. */
const CUSTOMER_BOOKKEEPING = ["updatedAt", "createdAt", "sync", "stripeState", "claimsVersion"] as const;
/** The claims opsync owns (docs/data-model.md): a change to any of them plans a claims job. */
const CLAIMS_FIELDS = ["entitlements", "plan", "supportTier"] as const;

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
    // A late subscription event still tells when a past_due spell began (grace counts from there); a late or tied
    // event still carries what only its type says (an async payment failed), which no API read would show.
    const pastDue = current && owner.uid && !owner.order && event.subject.kind === "subscription" ? learnPastDue(current, event.subject.status, event.meta.created) : null;
    const learned = pastDue ?? (current ? learnFact(current, event.meta.type) : null);
    const kept = { subject: learned?.subject ?? event.subject, mark: learned?.mark ?? incoming.mark };
    const plan = !learned
      ? emptyPlan("stale", null, cause)
      : owner.order
        ? staleUnlessReview(applyToOrder(orderCtx(input, owner.order), kept, cause, learned))
        : staleUnlessReview(applyToCustomer(customerCtx(input), owner.uid as string, kept, cause, learned));
    const note = pastDue ? "; its status was kept for the past_due spell" : learned ? `; ${event.meta.type} was kept as a fact` : "";
    if (!plan.review) plan.reason = `${what} for ${event.subject.objectId}${note}`;
    // Same second, same lifecycle step, different content: ask Stripe instead of guessing.
    if (ordering === "uncertain") plan.jobs.push(revalidateJob(event.subject, owner, event.meta.type));
    return plan;
  }
  return owner.order ? applyToOrder(orderCtx(input, owner.order), incoming, cause) : applyToCustomer(customerCtx(input), owner.uid as string, incoming, cause);
}

/** A late event that refined a snapshot is still `stale`, unless what it refined needs a person. */
function staleUnlessReview(plan: ApplyPlan): ApplyPlan {
  return { ...plan, status: plan.review ? "needs_review" : "stale" };
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

function dealChanged(before: CustomerDoc | null, billingBefore: BillingDoc | null, after: CustomerDoc, billingAfter: BillingDoc, subscriptionId: string): boolean {
  if (!before || !billingBefore?.subscriptions?.[subscriptionId]) return true;
  return !deepEqual(subscriptionDeal(before, billingBefore, subscriptionId), subscriptionDeal(after, billingAfter, subscriptionId));
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
  // A subscription's deal is synced when what the deal shows (stage, amount, currency, name, contact) changed, or
  // when opsync has not recorded the subscription before: a renewal moves the contact's last payment, not the deal.
  if (s?.kind === "subscription" && dealChanged(before, billingBefore, c, billingAfter, s.objectId)) {
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
