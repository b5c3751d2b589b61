/**
 * Pure builders: what each sink should hold, derived from the canonical records as they are when the job runs
 * (sync by state, so repeated or reordered jobs converge on the same result).
 */
import type { BillingDoc, CustomerDoc, OrderDoc } from "./model.js";
import type { BillingContext, ContactState, DealStage, DealState, TicketRequest } from "./syncModel.js";

const PAYING = ["active", "trialing", "past_due"];

function splitName(name: string | null): { firstName: string | null; lastName: string | null } {
  if (!name) return { firstName: null, lastName: null };
  const parts = name.trim().split(/\s+/);
  return { firstName: parts[0] ?? null, lastName: parts.length > 1 ? parts.slice(1).join(" ") : null };
}

function currentMrr(c: CustomerDoc, billing: BillingDoc | null): number | null {
  if (!c.subscriptionId || !PAYING.includes(c.subscriptionStatus ?? "")) return c.subscriptionId ? 0 : null;
  const cents = billing?.subscriptions[c.subscriptionId]?.mrr;
  return cents == null ? null : cents / 100;
}

export function contactState(c: CustomerDoc, billing: BillingDoc | null): ContactState {
  return {
    uid: c.uid,
    email: c.email,
    ...splitName(c.name),
    lifecycleStage: PAYING.includes(c.subscriptionStatus ?? "") || c.lastPaymentAt ? "customer" : "lead",
    plan: c.plan,
    subscriptionStatus: c.subscriptionStatus,
    mrr: currentMrr(c, billing),
    lastPaymentAt: c.lastPaymentAt,
    stripeCustomerId: c.stripeCustomerId,
  };
}

const SUBSCRIPTION_STAGE: Record<string, DealStage> = {
  active: "won",
  trialing: "open",
  past_due: "won",
  unpaid: "lost",
  paused: "open",
  canceled: "canceled",
  incomplete: "open",
  incomplete_expired: "lost",
};

export function subscriptionDeal(c: CustomerDoc, billing: BillingDoc | null, subscriptionId: string): DealState {
  const sub = billing?.subscriptions[subscriptionId];
  const status = sub?.status ?? (c.subscriptionId === subscriptionId ? c.subscriptionStatus : null) ?? "incomplete";
  return {
    key: `subscription:${subscriptionId}`,
    name: `${sub?.plan ?? c.plan ?? "Subscription"} — ${c.email ?? c.uid}`,
    stage: SUBSCRIPTION_STAGE[status] ?? "open",
    amount: sub?.mrr == null ? null : sub.mrr / 100,
    currency: sub?.currency ?? null,
    contactId: c.crmContactId,
  };
}

const ORDER_STAGE: Record<OrderDoc["status"], DealStage> = {
  pending_payment: "open",
  paid: "won",
  in_fulfillment: "won",
  completed: "won",
  refunded: "refunded",
  partially_refunded: "partially_refunded",
  payment_failed: "lost",
  canceled: "canceled",
};

export function orderDeal(o: OrderDoc, buyerContactId: string | null): DealState {
  return {
    key: `order:${o.orderId}`,
    name: `Order ${o.orderId}`,
    stage: ORDER_STAGE[o.status],
    amount: o.amount == null ? null : (o.amount - o.amountRefunded) / 100,
    currency: o.currency,
    contactId: buyerContactId,
  };
}

export function billingContext(c: CustomerDoc | null, openOrders: string[]): BillingContext {
  return {
    uid: c?.uid ?? null,
    stripeCustomerId: c?.stripeCustomerId ?? null,
    plan: c?.plan ?? null,
    subscriptionStatus: c?.subscriptionStatus ?? null,
    lastPaymentAt: c?.lastPaymentAt ?? null,
    openOrders,
  };
}

/** Rules: a paying customer's ticket is high priority; payment failures and disputes are tagged `billing`. */
export function ticketFor(input: {
  requestId: string;
  reason: string | null;
  customer: CustomerDoc | null;
  order: OrderDoc | null;
  openOrders: string[];
  detail: { invoiceId?: string; disputeId?: string };
  /** An in-app support request: its own subject and message. */
  request?: { subject: string; message: string; category: string } | null;
}): TicketRequest {
  const { customer: c, order, reason, detail, request } = input;
  const paying = PAYING.includes(c?.subscriptionStatus ?? "") || c?.supportTier === "priority";
  const billingIssue = reason === "failed_renewal" || reason === "dispute" || request?.category === "billing";
  const subject = request
    ? request.subject
    : reason === "failed_renewal"
      ? `Renewal payment failed${c?.plan ? ` (${c.plan})` : ""}`
      : reason === "dispute"
        ? `Payment disputed${order ? ` for order ${order.orderId}` : ""}`
        : `Support request ${input.requestId}`;
  const lines = [
    request ? request.message : subject + ".",
    detail.invoiceId ? `Invoice: ${detail.invoiceId}` : null,
    detail.disputeId ? `Dispute: ${detail.disputeId}` : null,
    order ? `Order: ${order.orderId} (${order.status})` : null,
  ].filter((l): l is string => l !== null);
  return {
    requestId: input.requestId,
    subject,
    body: lines.join("\n"),
    priority: reason === "dispute" ? "urgent" : paying ? "high" : "normal",
    tags: [...new Set(["opsync", ...(billingIssue ? ["billing"] : []), ...(reason ? [reason] : []), ...(request ? [request.category] : [])])],
    requester: { email: c?.email ?? null, name: c?.name ?? null },
    contactId: c?.crmContactId ?? null,
    context: billingContext(c, input.openOrders),
  };
}
