/**
 * A marketplace order's payment facts as a pure function of its Stripe snapshots (session, payment intents,
 * charges, refunds, dispute), combined with the fulfilment steps people took (`in_fulfillment`, `completed`).
 * A late refund counts whenever it arrives: refunds are their own snapshots, summed, never dropped.
 */
import type { OrderDoc, OrderStatus } from "./model.js";
import { refundStatus } from "./orders.js";
import type { Subject } from "./normalize.js";
import { saw, snapshotsOf, type SnapshotSet } from "./snapshots.js";

export type DerivedOrderFacts = Pick<
  OrderDoc,
  "amount" | "currency" | "amountRefunded" | "refunds" | "paymentIntentId" | "checkoutSessionId" | "dispute"
> & { paymentStatus: OrderStatus };

const FULFILMENT: readonly OrderStatus[] = ["in_fulfillment", "completed"];

export function deriveOrderFacts(set: SnapshotSet | null): DerivedOrderFacts {
  const checkouts = snapshotsOf(set, "checkout");
  const intents = snapshotsOf(set, "payment_intent");
  const charges = snapshotsOf(set, "charge");
  const refunds = snapshotsOf(set, "refund");
  const disputes = snapshotsOf(set, "dispute").sort((a, b) => b.mark.created - a.mark.created);
  const checkout = checkouts.sort((a, b) => a.mark.created - b.mark.created)[0]?.subject ?? null;
  const succeeded = intents.find((s) => s.subject.status === "succeeded")?.subject ?? null;
  const intent = succeeded ?? intents.sort((a, b) => a.mark.created - b.mark.created)[0]?.subject ?? null;
  const charge = charges[0]?.subject ?? null;
  const amount = checkout?.amount ?? intent?.amount ?? charge?.amount ?? null;
  const refundMap: OrderDoc["refunds"] = {};
  for (const r of refunds) refundMap[r.subject.objectId] = { amount: r.subject.amount, status: r.subject.status };
  const refundSum = refunds.filter((r) => r.subject.status !== "failed" && r.subject.status !== "canceled").reduce((acc, r) => acc + r.subject.amount, 0);
  const amountRefunded = Math.max(refundSum, ...charges.map((c) => c.subject.amountRefunded), 0);
  const dispute = disputes[0]?.subject ?? null;

  // A session's async failure is an event-only fact (saw): an API read of it shows `unpaid`, like one still waiting.
  const asyncFailed = checkouts.some((s) => saw(s, "checkout.session.async_payment_failed"));
  const paid =
    Boolean(succeeded) ||
    charges.length > 0 ||
    checkouts.some((s) => (s.subject.paymentStatus === "paid" || s.subject.paymentStatus === "no_payment_required") && !saw(s, "checkout.session.async_payment_failed")) ||
    checkouts.some((s) => s.mark.eventType === "checkout.session.async_payment_succeeded");
  const failed = asyncFailed || intents.some((s) => s.mark.eventType === "payment_intent.payment_failed" || (s.subject.status === "requires_payment_method" && s.subject.failureCode !== null));
  const canceled = intents.length > 0 && intents.every((s) => s.subject.status === "canceled");
  const paymentStatus: OrderStatus =
    refundStatus(amount, amountRefunded) ?? (paid ? "paid" : failed ? "payment_failed" : canceled ? "canceled" : "pending_payment");
  return {
    amount,
    currency: checkout?.currency ?? intent?.currency ?? charge?.currency ?? null,
    amountRefunded,
    refunds: refundMap,
    paymentIntentId: intent?.objectId ?? checkout?.paymentIntentId ?? charge?.paymentIntentId ?? null,
    checkoutSessionId: checkout?.objectId ?? null,
    dispute: dispute ? { id: dispute.objectId, status: dispute.status, reason: dispute.reason, amount: dispute.amount } : null,
    paymentStatus,
  };
}

/**
 * The order's status: what the payments say, except that a fulfilment step people took stands while the payment
 * facts behind it are unchanged (paid, or the same partial refund).
 */
export function orderStatus(before: OrderDoc | null, facts: DerivedOrderFacts): OrderStatus {
  const stage = before && FULFILMENT.includes(before.status) ? before.status : null;
  if (stage && facts.paymentStatus === "paid") return stage;
  if (stage && facts.paymentStatus === "partially_refunded" && before && facts.amountRefunded === before.amountRefunded) return stage;
  return facts.paymentStatus;
}

/** The status one event, on its own, would move the order to (to flag moves the state machine forbids). */
export function impliedStatus(subject: Subject, eventType: string): OrderStatus | null {
  if (subject.kind === "checkout") {
    if (eventType === "checkout.session.async_payment_failed") return "payment_failed";
    return subject.paymentStatus === "paid" || subject.paymentStatus === "no_payment_required" ? "paid" : null;
  }
  if (subject.kind === "payment_intent") {
    if (eventType === "payment_intent.succeeded") return "paid";
    if (eventType === "payment_intent.payment_failed") return "payment_failed";
    if (eventType === "payment_intent.canceled") return "canceled";
  }
  return null;
}
