/**
 * The order half of the apply: a marketplace order's snapshot set changes, its payment facts are re-derived
 * (deriveOrder.ts) and its status moves through the state machine; moves it forbids are recorded for a person.
 */
import { diffFields } from "./diff.js";
import { deriveOrderFacts, impliedStatus, orderStatus } from "./deriveOrder.js";
import type { Owner } from "./identity.js";
import type { AuditSpec, JobSpec, OrderDoc, ReviewSpec } from "./model.js";
import type { Subject } from "./normalize.js";
import { transition, transitionThrough } from "./orders.js";
import { objectLinks, type ApplyPlan } from "./applyPlan.js";
import { emptySet, nextSnapshot, putSnapshot, type Snapshot, type SnapshotMark, type SnapshotSet } from "./snapshots.js";

const MAX_ORDER_HISTORY = 50;

export interface OrderCtx {
  now: Date;
  order: OrderDoc | null;
  snapshots: SnapshotSet | null;
  facts: NonNullable<Owner["order"]>;
}

function newOrder(orderId: string, now: Date): OrderDoc {
  return {
    orderId, buyerUid: null, sellerUid: null, status: "pending_payment", amount: null, currency: null, amountRefunded: 0, refunds: {},
    paymentIntentId: null, checkoutSessionId: null, dispute: null, history: [], rejectedTransitions: [], stripeState: null, createdAt: now, updatedAt: now,
  };
}

export function applyToOrder(
  input: OrderCtx,
  incoming: { subject: Subject; mark: SnapshotMark },
  cause: string,
  /** The snapshot to store when it is not simply the next one (a late event added a fact). */
  snapshot?: Snapshot,
): ApplyPlan {
  const { now } = input;
  const facts = input.facts;
  const s = incoming.subject;
  const eventType = incoming.mark.eventType;
  const before = input.order;
  const setBefore = input.snapshots ?? emptySet();
  const set = putSnapshot(setBefore, snapshot ?? nextSnapshot(s, incoming.mark, setBefore.objects[s.objectId]));
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
