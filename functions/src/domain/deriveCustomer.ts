/**
 * The canonical customer record and its billing detail as a pure function of the customer's Stripe snapshots,
 * the staff's own fields and the clock (past-due grace ends on time). docs/data-model.md ("Derivation rules")
 * states the same rules in prose.
 */
import type { BillingDoc, CustomerDoc, InvoiceSummary } from "./model.js";
import type { Subject } from "./normalize.js";
import { saw, snapshotsOf, type Snapshot, type SnapshotSet } from "./snapshots.js";

const DAY_MS = 86_400_000;
/** Best first: the subscription that governs plan and status when a customer has several. */
const STATUS_RANK = ["active", "trialing", "past_due", "unpaid", "paused", "incomplete", "canceled", "incomplete_expired"];
const ACCESS = ["active", "trialing"];

type Sub = Extract<Subject, { kind: "subscription" }>;

/** The fields of `customers/{uid}` that Stripe decides. */
export type DerivedCustomer = Pick<
  CustomerDoc,
  | "email" | "name" | "stripeCustomerId" | "stripeCustomerDeleted" | "plan" | "priceId" | "productId" | "subscriptionId"
  | "subscriptionStatus" | "currentPeriodEnd" | "cancelAtPeriodEnd" | "cancelAt" | "trialEnd" | "delinquent"
  | "lastPaymentAt" | "pastDueSince" | "entitlements" | "entitlementsGraceUntil" | "supportTier"
>;

/** What the derivation keeps from the record as it is: fields people or Firebase Auth own. */
export interface CustomerKeep {
  email: string | null;
  name: string | null;
  supportTier: string;
  supportTierSource: "plan" | "staff" | undefined;
}

const date = (seconds: number | null | undefined): Date | null => (seconds == null ? null : new Date(seconds * 1000));

function rank(s: Snapshot & { subject: Sub }): number {
  const r = STATUS_RANK.indexOf(s.subject.status);
  return r < 0 ? STATUS_RANK.length : r;
}

/** Governing subscription: best status, then the most recently changed, then the id (stable). */
export function governingSubscription(set: SnapshotSet | null): (Snapshot & { subject: Sub }) | null {
  const subs = snapshotsOf(set, "subscription");
  subs.sort((a, b) => rank(a) - rank(b) || b.mark.created - a.mark.created || (a.subject.objectId < b.subject.objectId ? -1 : 1));
  return subs[0] ?? null;
}

/** When a past_due subscription's grace ends, or null when it grants nothing. */
function graceEnd(s: Snapshot & { subject: Sub }, graceDays: number): Date | null {
  if (s.subject.status !== "past_due" || graceDays <= 0) return null;
  return new Date((s.pastDueSince ?? s.mark.created) * 1000 + graceDays * DAY_MS);
}

/** Entitlements: the union over every subscription that grants access now (active, trialing, past_due in grace). */
function access(set: SnapshotSet | null, now: Date, graceDays: number): { entitlements: string[]; graceUntil: Date | null; tierFrom: Sub | null } {
  const granted = new Set<string>();
  let graceUntil: Date | null = null;
  let tierFrom: Sub | null = null;
  const subs = snapshotsOf(set, "subscription").sort((a, b) => rank(a) - rank(b) || b.mark.created - a.mark.created);
  for (const s of subs) {
    const end = graceEnd(s, graceDays);
    const inGrace = end !== null && now.getTime() < end.getTime();
    if (!ACCESS.includes(s.subject.status) && !inGrace) continue;
    s.subject.entitlements.forEach((e) => granted.add(e));
    if (inGrace && end && (!graceUntil || end < graceUntil)) graceUntil = end;
    tierFrom ??= s.subject;
  }
  return { entitlements: [...granted].sort(), graceUntil, tierFrom };
}

/** The most recent snapshot; within one second the larger object id, so the answer never depends on storage order. */
function newest<T extends Snapshot>(items: T[]): T | null {
  const later = (a: T, b: T) => a.mark.created > b.mark.created || (a.mark.created === b.mark.created && a.subject.objectId > b.subject.objectId);
  return items.reduce<T | null>((best, s) => (!best || later(s, best) ? s : best), null);
}

function latestDate(dates: Array<Date | null>): Date | null {
  return dates.reduce<Date | null>((best, d) => (d && (!best || d > best) ? d : best), null);
}

export function deriveCustomer(set: SnapshotSet | null, keep: CustomerKeep, now: Date, graceDays: number): DerivedCustomer {
  const stripeCustomer = snapshotsOf(set, "customer")[0] ?? null;
  const checkouts = snapshotsOf(set, "checkout");
  const invoices = snapshotsOf(set, "invoice");
  const payments = snapshotsOf(set, "payment_intent");
  const latestCheckout = newest(checkouts);
  const gov = governingSubscription(set);
  const { entitlements, graceUntil, tierFrom } = access(set, now, graceDays);
  const stripeCustomerId =
    stripeCustomer?.subject.customerId ??
    gov?.subject.customerId ??
    [...checkouts, ...invoices, ...payments].map((s) => s.subject.customerId).find((id): id is string => Boolean(id)) ??
    null;

  // Delinquent: the customer object says so when it is the newest word; else the newest invoice does.
  const lastInvoice = newest(invoices);
  const invoiceSaysDelinquent = lastInvoice ? isFailedInvoice(lastInvoice) : null;
  const delinquent =
    stripeCustomer?.subject.delinquent != null && (!lastInvoice || stripeCustomer.mark.created >= lastInvoice.mark.created)
      ? stripeCustomer.subject.delinquent
      : (invoiceSaysDelinquent ?? false);

  const paidAt = [
    ...invoices.map((s) => (s.subject.status === "paid" ? (date(s.subject.paidAt) ?? date(s.mark.created)) : null)),
    ...payments.map((s) => (s.subject.status === "succeeded" ? date(s.mark.created) : null)),
    ...checkouts.map((s) => (s.subject.paymentStatus === "paid" && !saw(s, "checkout.session.async_payment_failed") ? date(s.mark.created) : null)),
  ];
  const g = gov?.subject ?? null;
  return {
    email: stripeCustomer?.subject.email ?? latestCheckout?.subject.email ?? keep.email,
    name: stripeCustomer?.subject.name ?? latestCheckout?.subject.name ?? keep.name,
    stripeCustomerId,
    stripeCustomerDeleted: stripeCustomer?.subject.deleted ?? false,
    plan: g?.plan ?? null,
    priceId: g?.priceId ?? null,
    productId: g?.productId ?? null,
    subscriptionId: g?.objectId ?? latestCheckout?.subject.subscriptionId ?? null,
    subscriptionStatus: g?.status ?? null,
    currentPeriodEnd: date(g?.currentPeriodEnd),
    cancelAtPeriodEnd: g?.cancelAtPeriodEnd ?? false,
    cancelAt: date(g?.cancelAt),
    trialEnd: date(g?.trialEnd),
    delinquent,
    lastPaymentAt: latestDate(paidAt),
    pastDueSince: gov && gov.subject.status === "past_due" ? date(gov.pastDueSince ?? gov.mark.created) : null,
    entitlements,
    entitlementsGraceUntil: graceUntil,
    supportTier: keep.supportTierSource === "staff" ? keep.supportTier : entitlements.length ? (tierFrom?.supportTier ?? "standard") : "free",
  };
}

function isFailedInvoice(s: Snapshot & { subject: Extract<Subject, { kind: "invoice" }> }): boolean {
  if (s.subject.status === "paid" || s.subject.status === "void") return false;
  return s.mark.eventType === "invoice.payment_failed" || (s.subject.status === "open" && s.subject.attemptCount > 0);
}

/** `customers/{uid}/private/billing`: what finance reads, derived from the same snapshots. */
export function deriveBilling(set: SnapshotSet | null, uid: string, stripeCustomerId: string | null): Omit<BillingDoc, "updatedAt"> {
  const invoices: Record<string, InvoiceSummary> = {};
  for (const s of snapshotsOf(set, "invoice")) {
    const i = s.subject;
    invoices[i.objectId] = {
      status: i.status, billingReason: i.billingReason, amountPaid: i.amountPaid, amountDue: i.amountDue, currency: i.currency,
      number: i.number, hostedInvoiceUrl: i.hostedInvoiceUrl, attemptCount: i.attemptCount, paidAt: date(i.paidAt),
      nextPaymentAttempt: date(i.nextPaymentAttempt), subscriptionId: i.subscriptionId, eventCreated: s.mark.created,
    };
  }
  const subscriptions: BillingDoc["subscriptions"] = {};
  for (const s of snapshotsOf(set, "subscription")) {
    const x = s.subject;
    subscriptions[x.objectId] = { status: x.status, plan: x.plan, currentPeriodEnd: date(x.currentPeriodEnd), mrr: x.monthlyAmount, currency: x.currency, eventCreated: s.mark.created };
  }
  const payments: BillingDoc["payments"] = {};
  for (const s of snapshotsOf(set, "payment_intent")) {
    payments[s.subject.objectId] = { status: s.subject.status, amount: s.subject.amount, currency: s.subject.currency, failureCode: s.subject.failureCode, eventCreated: s.mark.created };
  }
  const refunds: BillingDoc["refunds"] = {};
  for (const s of snapshotsOf(set, "refund")) {
    refunds[s.subject.objectId] = { amount: s.subject.amount, currency: s.subject.currency, status: s.subject.status, chargeId: s.subject.chargeId, eventCreated: s.mark.created };
  }
  for (const s of snapshotsOf(set, "charge")) {
    if (s.subject.amountRefunded > 0) {
      refunds[`charge:${s.subject.objectId}`] = { amount: s.subject.amountRefunded, currency: s.subject.currency, status: "refunded", chargeId: s.subject.objectId, eventCreated: s.mark.created };
    }
  }
  const disputes: BillingDoc["disputes"] = {};
  for (const s of snapshotsOf(set, "dispute")) {
    const d = s.subject;
    disputes[d.objectId] = { amount: d.amount, currency: d.currency, status: d.status, reason: d.reason, chargeId: d.chargeId, eventCreated: s.mark.created };
  }
  return { uid, stripeCustomerId, invoices, subscriptions, payments, refunds, disputes, lastPaymentFailure: lastFailure(set), actionRequired: actionRequired(set) };
}

function lastFailure(set: SnapshotSet | null): BillingDoc["lastPaymentFailure"] {
  const failures: Array<{ at: number; value: NonNullable<BillingDoc["lastPaymentFailure"]> }> = [];
  for (const s of snapshotsOf(set, "invoice")) {
    if (isFailedInvoice(s)) failures.push({ at: s.mark.created, value: { invoiceId: s.subject.objectId, paymentIntentId: s.subject.paymentIntentId, code: null, at: new Date(s.mark.created * 1000) } });
  }
  for (const s of snapshotsOf(set, "payment_intent")) {
    if (s.mark.eventType === "payment_intent.payment_failed" || (s.subject.status === "requires_payment_method" && s.subject.failureCode)) {
      failures.push({ at: s.mark.created, value: { invoiceId: null, paymentIntentId: s.subject.objectId, code: s.subject.failureCode, at: new Date(s.mark.created * 1000) } });
    }
  }
  for (const s of snapshotsOf(set, "checkout")) {
    if (saw(s, "checkout.session.async_payment_failed")) {
      failures.push({ at: s.mark.created, value: { invoiceId: null, paymentIntentId: s.subject.paymentIntentId, code: null, at: new Date(s.mark.created * 1000) } });
    }
  }
  // A failure the customer has since paid is over.
  const paidAfter = (at: number) => snapshotsOf(set, "invoice").some((s) => s.subject.status === "paid" && s.mark.created > at);
  const open = failures.filter((f) => !(f.value.invoiceId === null && paidAfter(f.at)));
  return open.sort((a, b) => b.at - a.at)[0]?.value ?? null;
}

function actionRequired(set: SnapshotSet | null): BillingDoc["actionRequired"] {
  const waiting = snapshotsOf(set, "invoice").filter((s) => saw(s, "invoice.payment_action_required") && s.subject.status !== "paid");
  const s = newest(waiting);
  return s ? { invoiceId: s.subject.objectId, hostedInvoiceUrl: s.subject.hostedInvoiceUrl, at: new Date(s.mark.created * 1000) } : null;
}
