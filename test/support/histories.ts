/**
 * Realistic Stripe histories for the derivation property test: what Stripe emits, in the order it happened, for a few
 * customers (subscriptions with trials, plan switches, past_due spells and recoveries, cancellations, renewal invoices,
 * one-off payments with refunds and disputes, same-second updates) and one marketplace order. A history is generated
 * as plain data by fast-check (so it shrinks), then rendered into signed-shape Stripe events and normalized.
 */
import fc from "fast-check";
import { normalizeEvent, stripeEventEnvelopeSchema, type NormalizedEvent } from "../../functions/src/domain/normalize";
import { STRIPE_API_VERSION } from "../../functions/src/domain/stripeVersion";
import { charge, customer, dispute, invoice, paymentIntent, price, refund, stripeEvent, subscription } from "./stripeFixtures";

export const T0 = 1_780_000_000;
/** Three prices: entitlements differ and overlap; pro carries a support tier. */
export const PRICES = {
  basic: price({ id: "price_basic", lookupKey: "basic", entitlements: "basic" }),
  pro: price({ id: "price_pro", lookupKey: "pro", entitlements: "basic,reports", supportTier: "priority" }),
  team: price({ id: "price_team", lookupKey: "team", entitlements: "reports,seats" }),
} as const;
export type PlanName = keyof typeof PRICES;

export type Op =
  | { op: "activate" }
  | { op: "pastDue" }
  | { op: "recover" }
  | { op: "renew" }
  | { op: "cancelAtPeriodEnd"; value: boolean }
  /** Plan switch: the current subscription is deleted and a new one created, same second or the new one a second older. */
  | { op: "switch"; plan: PlanName; newOneSecondOlder: boolean }
  | { op: "cancel" }
  /** Two customer.subscription.updated of one second with different content; the last listed is Stripe's truth. */
  | { op: "tie"; last: "active" | "past_due" }
  | { op: "oneOff"; amount: number; refund: "none" | "partial" | "full"; dispute: boolean };

export interface CustomerHistorySpec {
  plan: PlanName;
  start: "trialing" | "active" | "incomplete";
  ops: Array<{ gap: number; step: Op }>;
}

export interface OrderHistorySpec {
  failedFirst: boolean;
  amount: number;
  partialRefund: number;
  dispute: boolean;
  /** A refund after the dispute (the rest of the amount, or a part of it). */
  lateRefund: "none" | "rest" | "part";
  gaps: number[];
}

const gap = fc.constantFrom(1, 1, 2, 7, 60, 3600);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ op: "activate" }),
  fc.constant<Op>({ op: "pastDue" }),
  fc.constant<Op>({ op: "recover" }),
  fc.constant<Op>({ op: "renew" }),
  fc.boolean().map<Op>((value) => ({ op: "cancelAtPeriodEnd", value })),
  fc.record({ plan: fc.constantFrom<PlanName>("basic", "pro", "team"), newOneSecondOlder: fc.boolean() }).map<Op>((r) => ({ op: "switch", ...r })),
  fc.constant<Op>({ op: "cancel" }),
  fc.constantFrom<"active" | "past_due">("active", "past_due").map<Op>((last) => ({ op: "tie", last })),
  fc
    .record({ amount: fc.constantFrom(1000, 2500), refund: fc.constantFrom<"none" | "partial" | "full">("none", "partial", "full"), dispute: fc.boolean() })
    .map<Op>((r) => ({ op: "oneOff", ...r })),
);

export const customerHistorySpec: fc.Arbitrary<CustomerHistorySpec> = fc.record({
  plan: fc.constantFrom<PlanName>("basic", "pro", "team"),
  start: fc.constantFrom<"trialing" | "active" | "incomplete">("trialing", "active", "incomplete"),
  ops: fc.array(fc.record({ gap, step: op }), { minLength: 1, maxLength: 9 }),
});

export const orderHistorySpec: fc.Arbitrary<OrderHistorySpec> = fc.record({
  failedFirst: fc.boolean(),
  amount: fc.constantFrom(5000, 8000),
  partialRefund: fc.constantFrom(0, 1000),
  dispute: fc.boolean(),
  lateRefund: fc.constantFrom<"none" | "rest" | "part">("none", "rest", "part"),
  gaps: fc.array(gap, { minLength: 8, maxLength: 8 }),
});

function norm(event: object): NormalizedEvent {
  const r = normalizeEvent(stripeEventEnvelopeSchema.parse(event), STRIPE_API_VERSION);
  if (r.outcome !== "normalized") throw new Error(`fixture did not normalize: ${JSON.stringify(r)}`);
  return r.event;
}

const PERIOD_END = T0 + 40 * 86_400;

/** The events Stripe emitted for one customer, in true order (`created` never decreases). */
export function customerHistory(k: number, spec: CustomerHistorySpec): NormalizedEvent[] {
  const uid = `u${k}`;
  const cus = `cus_${k}`;
  const events: NormalizedEvent[] = [];
  let t = T0;
  let n = 0;
  const id = (prefix: string) => `${prefix}_${k}_${(n += 1)}`;
  const emit = (type: Parameters<typeof stripeEvent>[0], object: object, created = t) =>
    events.push(norm(stripeEvent(type, object as never, { id: id("evt"), created })));
  let sub = { id: id("sub"), plan: spec.plan, status: spec.start as string, cancelAtPeriodEnd: false, live: true };
  const subObject = (s: typeof sub) => ({
    ...subscription({ id: s.id, customer: cus, uid, status: s.status as "active", price: PRICES[s.plan], periodEnd: PERIOD_END, cancelAtPeriodEnd: s.cancelAtPeriodEnd }),
    trial_end: s.status === "trialing" ? T0 + 14 * 86_400 : null,
  });
  const invoiceFor = (inv: string, status: "paid" | "open", attempt: number) =>
    invoice({ id: inv, customer: cus, uid, subscription: sub.id, status, attempt, paidAt: status === "paid" ? t : undefined, billingReason: "subscription_cycle" });
  let openInvoice: string | null = null;

  emit("customer.created", customer({ id: cus, uid, email: `${uid}@example.com` }));
  t += 1;
  emit("customer.subscription.created", subObject(sub));
  for (const { gap: g, step } of spec.ops) {
    t += g;
    if (!sub.live && step.op !== "oneOff") continue;
    switch (step.op) {
      case "activate":
        sub = { ...sub, status: "active" };
        emit("customer.subscription.updated", subObject(sub));
        break;
      case "pastDue":
        if (sub.status === "past_due") break;
        openInvoice = id("in");
        emit("invoice.payment_failed", invoiceFor(openInvoice, "open", 1));
        sub = { ...sub, status: "past_due" };
        emit("customer.subscription.updated", subObject(sub));
        break;
      case "recover":
        if (openInvoice) emit("invoice.paid", invoiceFor(openInvoice, "paid", 2));
        openInvoice = null;
        sub = { ...sub, status: "active" };
        emit("customer.subscription.updated", subObject(sub));
        break;
      case "renew":
        if (sub.status !== "active") break;
        emit("invoice.paid", invoiceFor(id("in"), "paid", 1));
        break;
      case "cancelAtPeriodEnd":
        sub = { ...sub, cancelAtPeriodEnd: step.value };
        emit("customer.subscription.updated", subObject(sub));
        break;
      case "switch": {
        const next = { id: id("sub"), plan: step.plan, status: "active", cancelAtPeriodEnd: false, live: true };
        const old = { ...sub, status: "canceled", live: false };
        if (step.newOneSecondOlder) {
          emit("customer.subscription.created", subObject(next), t);
          t += 1;
          emit("customer.subscription.deleted", subObject(old), t);
        } else {
          emit("customer.subscription.deleted", subObject(old), t);
          emit("customer.subscription.created", subObject(next), t);
        }
        sub = next;
        openInvoice = null;
        break;
      }
      case "cancel":
        sub = { ...sub, status: "canceled", live: false };
        emit("customer.subscription.deleted", subObject(sub));
        break;
      case "tie": {
        const first = step.last === "active" ? "past_due" : "active";
        emit("customer.subscription.updated", subObject({ ...sub, status: first }));
        sub = { ...sub, status: step.last };
        emit("customer.subscription.updated", subObject(sub));
        break;
      }
      case "oneOff": {
        const meta = { firebaseUid: uid };
        const pi = id("pi");
        const ch = id("ch");
        emit("payment_intent.succeeded", paymentIntent({ id: pi, customer: cus, status: "succeeded", amount: step.amount, metadata: meta }));
        const refunded = step.refund === "full" ? step.amount : step.refund === "partial" ? Math.floor(step.amount / 4) : 0;
        if (step.dispute) {
          t += 1;
          emit("charge.dispute.created", dispute({ id: id("dp"), charge: ch, paymentIntent: pi, amount: step.amount, status: "needs_response", metadata: meta }));
        }
        if (refunded) {
          t += 1;
          emit("refund.created", refund({ id: id("re"), charge: ch, paymentIntent: pi, amount: refunded, metadata: meta }));
          emit("charge.refunded", charge({ id: ch, paymentIntent: pi, customer: cus, amount: step.amount, amountRefunded: refunded, metadata: meta }));
        }
        break;
      }
    }
  }
  return events;
}

/** A marketplace order's events in true order: payment (maybe after a failed attempt), refunds, a dispute, a late refund. */
export function orderHistory(spec: OrderHistorySpec): NormalizedEvent[] {
  const meta = { orderId: "order_1", buyerUid: "buyer_1", sellerUid: "seller_1" };
  const events: NormalizedEvent[] = [];
  let t = T0 + 100;
  let i = 0;
  const next = () => (t += spec.gaps[i++ % spec.gaps.length] ?? 1);
  const emit = (type: Parameters<typeof stripeEvent>[0], object: object) =>
    events.push(norm(stripeEvent(type, object as never, { id: `evt_o_${events.length + 1}`, created: t })));
  const pi = "pi_order_1";
  const ch = "ch_order_1";
  if (spec.failedFirst) {
    emit("payment_intent.payment_failed", paymentIntent({ id: pi, status: "requires_payment_method", amount: spec.amount, metadata: meta, declineCode: "insufficient_funds" }));
    next();
  }
  emit("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: spec.amount, metadata: meta }));
  let refunded = 0;
  const refundOf = (amount: number) => {
    next();
    refunded += amount;
    emit("refund.created", refund({ id: `re_order_${refunded}`, charge: ch, paymentIntent: pi, amount, metadata: meta }));
    emit("charge.refunded", charge({ id: ch, paymentIntent: pi, amount: spec.amount, amountRefunded: refunded, metadata: meta }));
  };
  if (spec.partialRefund) refundOf(spec.partialRefund);
  if (spec.dispute) {
    next();
    emit("charge.dispute.created", dispute({ id: "dp_order_1", charge: ch, paymentIntent: pi, amount: spec.amount - refunded, status: "needs_response", metadata: meta }));
    next();
    emit("charge.dispute.closed", dispute({ id: "dp_order_1", charge: ch, paymentIntent: pi, amount: spec.amount - refunded, status: "won", metadata: meta }));
  }
  if (spec.lateRefund !== "none") refundOf(spec.lateRefund === "rest" ? spec.amount - refunded : 500);
  return events;
}
