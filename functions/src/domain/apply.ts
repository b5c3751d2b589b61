/**
 * The event reducer: given one normalized Stripe event and the documents it touches (as read inside the
 * transaction), decide the new documents, the follow-up jobs and the audit entries. Pure: no I/O, no clock.
 */
import { capMap, diffFields } from "./diff.js";
import { entitlementsFor, sameSet } from "./entitlements.js";
import type { Owner } from "./identity.js";
import { jobId } from "./jobs.js";
import { SINK_OF_JOB } from "./model.js";
import type {
  AuditSpec,
  BillingDoc,
  CustomerDoc,
  JobSpec,
  LedgerStatus,
  OrderDoc,
  OrderStatus,
  ReviewSpec,
  StripeObjectDoc,
} from "./model.js";
import type { NormalizedEvent, Subject } from "./normalize.js";
import { isStale, type Watermark } from "./ordering.js";
import { refundStatus, transition } from "./orders.js";

export interface ApplyInput {
  event: NormalizedEvent;
  now: Date;
  graceDays: number;
  owner: Owner;
  mappingUid: string | null;
  objectMark: Watermark | null;
  customer: CustomerDoc | null;
  billing: BillingDoc | null;
  order: OrderDoc | null;
}

export interface ObjectMarkWrite {
  id: string;
  objectType: string;
  /** Omitted for links: recording an owner must not move another object's watermark. */
  watermark?: Watermark;
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
  mapping: { stripeCustomerId: string; uid: string } | null;
  objects: ObjectMarkWrite[];
  jobs: JobSpec[];
  audits: AuditSpec[];
  review: ReviewSpec | null;
}

const MAX_BILLING_ENTRIES = 25;
const MAX_ORDER_HISTORY = 50;
const LIVE_SUBSCRIPTION = ["active", "trialing", "past_due", "paused", "unpaid"];
/** Fields that change on every write or are bookkeeping; they do not make a CRM resync worthwhile. */
const CUSTOMER_BOOKKEEPING = ["updatedAt", "createdAt", "sync", "stripeState"] as const;

function emptyPlan(status: LedgerStatus, reason: string | null): ApplyPlan {
  return {
    status,
    reason,
    customer: null,
    billing: null,
    order: null,
    mapping: null,
    objects: [],
    jobs: [],
    audits: [],
    review: null,
  };
}

function review(reason: string, detail: string): ApplyPlan {
  return { ...emptyPlan("needs_review", detail), review: { reason, detail } };
}

export function newCustomer(uid: string, now: Date): CustomerDoc {
  return {
    uid,
    email: null,
    name: null,
    stripeCustomerId: null,
    stripeCustomerDeleted: false,
    crmContactId: null,
    helpdeskIds: {},
    plan: null,
    priceId: null,
    productId: null,
    subscriptionId: null,
    subscriptionStatus: null,
    currentPeriodEnd: null,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    trialEnd: null,
    delinquent: false,
    lastPaymentAt: null,
    pastDueSince: null,
    entitlements: [],
    entitlementsGraceUntil: null,
    supportTier: "free",
    sync: {},
    stripeState: {},
    createdAt: now,
    updatedAt: now,
  };
}

function newBilling(uid: string, now: Date): BillingDoc {
  return {
    uid,
    stripeCustomerId: null,
    invoices: {},
    subscriptions: {},
    payments: {},
    refunds: {},
    disputes: {},
    lastPaymentFailure: null,
    actionRequired: null,
    updatedAt: now,
  };
}

const toDate = (seconds: number | null): Date | null => (seconds === null ? null : new Date(seconds * 1000));
const later = (a: Date | null, b: Date | null): Date | null => (!a ? b : !b ? a : a.getTime() >= b.getTime() ? a : b);

/** Adds an entry to a billing map, keeping only the newest entries so the document stays small. */
function putCapped<T extends { eventCreated: number }>(map: Record<string, T>, id: string, entry: T): Record<string, T> {
  return capMap({ ...map, [id]: entry }, MAX_BILLING_ENTRIES, (v) => v.eventCreated);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

export function applyEvent(input: ApplyInput): ApplyPlan {
  const { event, owner } = input;
  if (owner.conflict) return review("uid_conflict", owner.conflict);
  if (owner.order) return applyToOrder(input, owner.order);
  if (!owner.uid) {
    const customer = owner.stripeCustomerId;
    return review(
      "unmapped_customer",
      customer
        ? `No Firebase uid for Stripe customer ${customer}: set metadata.firebaseUid or client_reference_id, or map it by hand`
        : `No Firebase uid and no Stripe customer on ${event.subject.kind} ${event.subject.objectId}`,
    );
  }
  const mark: Watermark = { created: event.meta.created, eventId: event.meta.id, eventType: event.meta.type };
  if (isStale(mark, input.objectMark)) {
    return emptyPlan("stale", `older than ${input.objectMark?.eventId} already applied to ${event.subject.objectId}`);
  }
  return applyToCustomer(input, owner.uid, mark);
}

function applyToCustomer(input: ApplyInput, uid: string, mark: Watermark): ApplyPlan {
  const { event, now } = input;
  const s = event.subject;
  const eventAt = new Date(event.meta.created * 1000);
  const before = input.customer;
  const c = before ? clone(before) : newCustomer(uid, now);
  const billingBefore = input.billing;
  const b = billingBefore ? clone(billingBefore) : newBilling(uid, now);
  const jobs: JobSpec[] = [];
  const customerId = input.owner.stripeCustomerId;
  const fresh = (group: "customer" | "subscription" | "payment") => !isStale(mark, c.stripeState[group]);

  if (customerId && !c.stripeCustomerId) c.stripeCustomerId = customerId;
  if (customerId && !b.stripeCustomerId) b.stripeCustomerId = customerId;

  switch (s.kind) {
    case "customer": {
      if (fresh("customer")) {
        if (s.email) c.email = s.email;
        if (s.name) c.name = s.name;
        c.stripeCustomerId = s.customerId;
        c.stripeCustomerDeleted = s.deleted;
        c.stripeState.customer = mark;
      }
      if (s.delinquent !== null && fresh("payment")) c.delinquent = s.delinquent;
      break;
    }
    case "checkout": {
      if (!c.email && s.email) c.email = s.email;
      if (!c.name && s.name) c.name = s.name;
      if (s.mode === "subscription" && s.subscriptionId && !c.subscriptionId) c.subscriptionId = s.subscriptionId;
      const paid = s.paymentStatus === "paid" && event.meta.type !== "checkout.session.async_payment_failed";
      if (paid) c.lastPaymentAt = later(c.lastPaymentAt, eventAt);
      if (event.meta.type === "checkout.session.async_payment_failed") {
        b.lastPaymentFailure = { invoiceId: null, paymentIntentId: s.paymentIntentId, code: null, at: eventAt };
      }
      break;
    }
    case "subscription": {
      b.subscriptions = putCapped(b.subscriptions, s.objectId, {
        status: s.status,
        plan: s.plan,
        currentPeriodEnd: toDate(s.currentPeriodEnd),
        mrr: s.monthlyAmount,
        currency: s.currency,
        eventCreated: event.meta.created,
      });
      const current = c.subscriptionId;
      const becomesCurrent =
        !current ||
        current === s.objectId ||
        (fresh("subscription") && (!LIVE_SUBSCRIPTION.includes(c.subscriptionStatus ?? "") || LIVE_SUBSCRIPTION.includes(s.status)));
      if (becomesCurrent && fresh("subscription")) {
        const ent = entitlementsFor({
          status: s.status,
          granted: s.entitlements,
          eventAt,
          previousPastDueSince: c.subscriptionId === s.objectId ? c.pastDueSince : null,
          graceDays: input.graceDays,
        });
        c.subscriptionId = s.objectId;
        c.subscriptionStatus = s.status;
        c.plan = s.plan;
        c.priceId = s.priceId;
        c.productId = s.productId;
        c.currentPeriodEnd = toDate(s.currentPeriodEnd);
        c.cancelAtPeriodEnd = s.cancelAtPeriodEnd;
        c.cancelAt = toDate(s.cancelAt);
        c.trialEnd = toDate(s.trialEnd);
        c.pastDueSince = ent.pastDueSince;
        c.entitlementsGraceUntil = ent.graceUntil;
        if (!sameSet(c.entitlements, ent.entitlements)) c.entitlements = ent.entitlements;
        if (c.supportTierSource !== "staff") c.supportTier = ent.entitlements.length ? (s.supportTier ?? "standard") : "free";
        c.stripeState.subscription = mark;
        jobs.push({
          kind: "crm.deal.upsert",
          target: { uid, subscriptionId: s.objectId },
          idempotencyKey: `subscription:${s.objectId}`,
          reason: event.meta.type,
        });
      }
      break;
    }
    case "invoice": {
      b.invoices = putCapped(b.invoices, s.objectId, {
        status: s.status,
        billingReason: s.billingReason,
        amountPaid: s.amountPaid,
        amountDue: s.amountDue,
        currency: s.currency,
        number: s.number,
        hostedInvoiceUrl: s.hostedInvoiceUrl,
        attemptCount: s.attemptCount,
        paidAt: toDate(s.paidAt),
        nextPaymentAttempt: toDate(s.nextPaymentAttempt),
        subscriptionId: s.subscriptionId,
        eventCreated: event.meta.created,
      });
      if (event.meta.type === "invoice.paid") {
        c.lastPaymentAt = later(c.lastPaymentAt, toDate(s.paidAt) ?? eventAt);
        if (fresh("payment")) {
          c.delinquent = false;
          c.stripeState.payment = mark;
        }
        if (b.lastPaymentFailure?.invoiceId === s.objectId) b.lastPaymentFailure = null;
        if (b.actionRequired?.invoiceId === s.objectId) b.actionRequired = null;
      } else if (event.meta.type === "invoice.payment_failed") {
        if (fresh("payment")) {
          c.delinquent = true;
          c.stripeState.payment = mark;
        }
        b.lastPaymentFailure = { invoiceId: s.objectId, paymentIntentId: s.paymentIntentId, code: null, at: eventAt };
        if (s.billingReason === "subscription_cycle") {
          jobs.push({
            kind: "helpdesk.ticket.create",
            target: { uid, invoiceId: s.objectId, ...(s.subscriptionId ? { subscriptionId: s.subscriptionId } : {}) },
            // One ticket per failed renewal, however many retries Stripe makes on the invoice.
            idempotencyKey: `failed-renewal:${s.objectId}`,
            reason: "failed_renewal",
          });
        }
      } else {
        b.actionRequired = { invoiceId: s.objectId, hostedInvoiceUrl: s.hostedInvoiceUrl, at: eventAt };
      }
      break;
    }
    case "payment_intent": {
      b.payments = putCapped(b.payments, s.objectId, {
        status: s.status,
        amount: s.amount,
        currency: s.currency,
        failureCode: s.failureCode,
        eventCreated: event.meta.created,
      });
      if (event.meta.type === "payment_intent.succeeded") c.lastPaymentAt = later(c.lastPaymentAt, eventAt);
      if (event.meta.type === "payment_intent.payment_failed") {
        b.lastPaymentFailure = { invoiceId: null, paymentIntentId: s.objectId, code: s.failureCode, at: eventAt };
      }
      break;
    }
    case "charge": {
      const entry = { amount: s.amountRefunded, currency: s.currency, status: "refunded", chargeId: s.objectId, eventCreated: event.meta.created };
      b.refunds = putCapped(b.refunds, `charge:${s.objectId}`, entry);
      break;
    }
    case "refund": {
      const entry = { amount: s.amount, currency: s.currency, status: s.status, chargeId: s.chargeId, eventCreated: event.meta.created };
      b.refunds = putCapped(b.refunds, s.objectId, entry);
      break;
    }
    case "dispute": {
      b.disputes = putCapped(b.disputes, s.objectId, {
        amount: s.amount,
        currency: s.currency,
        status: s.status,
        reason: s.reason,
        chargeId: s.chargeId,
        eventCreated: event.meta.created,
      });
      if (event.meta.type === "charge.dispute.created") {
        jobs.push({
          kind: "helpdesk.ticket.create",
          target: { uid, disputeId: s.objectId },
          idempotencyKey: `dispute:${s.objectId}`,
          reason: "dispute",
        });
      }
      break;
    }
  }

  const customerDiff = diffFields(before, c, CUSTOMER_BOOKKEEPING);
  if (customerDiff || !before) {
    jobs.unshift({ kind: "crm.contact.upsert", target: { uid }, idempotencyKey: `contact:${uid}`, reason: event.meta.type });
  }
  if (!sameSet(before?.entitlements ?? [], c.entitlements)) {
    jobs.push({ kind: "auth.claims.update", target: { uid }, idempotencyKey: `claims:${uid}`, reason: "entitlements changed" });
  }
  for (const job of jobs) {
    c.sync[SINK_OF_JOB[job.kind]] = { status: "pending", jobId: jobId(event.meta.id, job), at: now };
  }
  const billingDiff = diffFields(billingBefore, b, ["updatedAt"]);
  if (billingDiff) b.updatedAt = now;

  const audits: AuditSpec[] = [];
  const changed = Boolean(customerDiff || !before || jobs.length);
  if (changed) {
    c.updatedAt = now;
    if (customerDiff || !before) {
      audits.push({
        action: before ? "customer.update" : "customer.create",
        target: `customers/${uid}`,
        before: customerDiff?.before ?? null,
        after: customerDiff?.after ?? null,
      });
    }
  }
  if (billingDiff) {
    audits.push({
      action: billingBefore ? "billing.update" : "billing.create",
      target: `customers/${uid}/private/billing`,
      before: billingDiff.before,
      after: billingDiff.after,
    });
  }

  const mapping =
    customerId && !input.mappingUid ? { stripeCustomerId: customerId, uid } : null;
  if (mapping) {
    audits.push({ action: "stripeCustomer.map", target: `stripeCustomers/${customerId}`, before: null, after: { uid } });
  }

  return {
    status: "applied",
    reason: null,
    customer: changed || !before ? { before, after: c } : null,
    billing: billingDiff ? { before: billingBefore, after: b } : null,
    order: null,
    mapping,
    objects: objectMarks(s, mark, { uid, stripeCustomerId: customerId }),
    jobs,
    audits,
    review: null,
  };
}

function objectMarks(
  s: Subject,
  mark: Watermark,
  fields: { uid?: string | null; orderId?: string | null; stripeCustomerId?: string | null },
): ObjectMarkWrite[] {
  const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v)) as ObjectMarkWrite["fields"];
  const marks: ObjectMarkWrite[] = [{ id: s.objectId, objectType: s.kind, watermark: mark, fields: clean }];
  // Refunds and disputes name only the payment intent/charge; record who it belongs to for them.
  if ("paymentIntentId" in s && s.paymentIntentId && s.kind !== "refund" && s.kind !== "dispute") {
    marks.push({ id: s.paymentIntentId, objectType: "payment_intent", fields: clean });
  }
  return marks;
}

function targetOrderStatus(input: ApplyInput, order: OrderDoc): { to: OrderStatus | null; refunded: number } {
  const { event } = input;
  const s = event.subject;
  switch (s.kind) {
    case "checkout":
      if (event.meta.type === "checkout.session.async_payment_failed") return { to: "payment_failed", refunded: order.amountRefunded };
      if (event.meta.type === "checkout.session.async_payment_succeeded") return { to: "paid", refunded: order.amountRefunded };
      return {
        to: s.paymentStatus === "paid" || s.paymentStatus === "no_payment_required" ? "paid" : "pending_payment",
        refunded: order.amountRefunded,
      };
    case "payment_intent":
      if (event.meta.type === "payment_intent.succeeded") return { to: "paid", refunded: order.amountRefunded };
      if (event.meta.type === "payment_intent.payment_failed") return { to: "payment_failed", refunded: order.amountRefunded };
      return { to: "canceled", refunded: order.amountRefunded };
    case "charge": {
      const refunded = Math.max(order.amountRefunded, s.amountRefunded);
      return { to: refundStatus(order.amount ?? s.amount, refunded), refunded };
    }
    case "refund": {
      const sum = Object.values(order.refunds)
        .filter((r) => r.status !== "failed" && r.status !== "canceled")
        .reduce((acc, r) => acc + r.amount, 0);
      const refunded = Math.max(sum, s.status === "failed" || s.status === "canceled" ? 0 : order.amountRefunded);
      return { to: refundStatus(order.amount, refunded), refunded };
    }
    default:
      return { to: null, refunded: order.amountRefunded };
  }
}

function applyToOrder(input: ApplyInput, facts: { orderId: string; buyerUid: string | null; sellerUid: string | null }): ApplyPlan {
  const { event, now } = input;
  const s = event.subject;
  const mark: Watermark = { created: event.meta.created, eventId: event.meta.id, eventType: event.meta.type };
  if (isStale(mark, input.objectMark)) {
    return emptyPlan("stale", `older than ${input.objectMark?.eventId} already applied to ${s.objectId}`);
  }
  const before = input.order;
  // Orders gather events from several Stripe objects (session, payment intent, charge, refund); an event
  // from an earlier second than the newest one applied to the order cannot move it.
  if (before?.stripeState && event.meta.created < before.stripeState.created) {
    return emptyPlan("stale", `older than ${before.stripeState.eventId} already applied to order ${facts.orderId}`);
  }
  const o: OrderDoc = before
    ? clone(before)
    : {
        orderId: facts.orderId,
        buyerUid: null,
        sellerUid: null,
        status: "pending_payment",
        amount: null,
        currency: null,
        amountRefunded: 0,
        refunds: {},
        paymentIntentId: null,
        checkoutSessionId: null,
        dispute: null,
        history: [],
        rejectedTransitions: [],
        stripeState: null,
        createdAt: now,
        updatedAt: now,
      };
  o.buyerUid ??= facts.buyerUid;
  o.sellerUid ??= facts.sellerUid;
  if (s.kind === "checkout") {
    o.checkoutSessionId ??= s.objectId;
    o.paymentIntentId ??= s.paymentIntentId;
    o.amount ??= s.amount;
    o.currency ??= s.currency;
  } else if (s.kind === "payment_intent") {
    o.paymentIntentId ??= s.objectId;
    o.amount ??= s.amount;
    o.currency ??= s.currency;
  } else if (s.kind === "charge") {
    o.paymentIntentId ??= s.paymentIntentId;
    o.amount ??= s.amount;
    o.currency ??= s.currency;
  } else if (s.kind === "refund") {
    o.refunds[s.objectId] = { amount: s.amount, status: s.status };
  } else if (s.kind === "dispute") {
    o.dispute = { id: s.objectId, status: s.status, reason: s.reason, amount: s.amount };
  }

  const jobs: JobSpec[] = [];
  const audits: AuditSpec[] = [];
  const { to, refunded } = targetOrderStatus(input, o);
  o.amountRefunded = refunded;
  let reviewSpec: ReviewSpec | null = null;
  const by = `stripe:${event.meta.id}`;
  if (to) {
    const result = transition(before ? before.status : null, to);
    if (result.kind === "moved") {
      o.status = to;
      o.history = [...o.history, { from: result.from, to, by, at: now }].slice(-MAX_ORDER_HISTORY);
      if (to === "paid" || to === "refunded" || to === "partially_refunded") {
        jobs.push({
          kind: "crm.deal.upsert",
          target: { orderId: o.orderId, ...(o.buyerUid ? { uid: o.buyerUid } : {}) },
          idempotencyKey: `order:${o.orderId}`,
          reason: `order ${to}`,
        });
      }
    } else if (result.kind === "illegal") {
      o.rejectedTransitions = [...o.rejectedTransitions, { from: result.from, to, by, at: now }].slice(-MAX_ORDER_HISTORY);
      reviewSpec = { reason: "illegal_order_transition", detail: `${event.meta.type} on order ${o.orderId}: ${result.reason}` };
      audits.push({
        action: "order.transition_rejected",
        target: `orders/${o.orderId}`,
        before: { status: result.from },
        after: { status: result.from, rejected: to, reason: result.reason },
      });
    } else if (o.status === "partially_refunded" && s.kind !== "dispute") {
      // Another partial refund: status stays, the amount changes; the CRM deal amount follows.
      jobs.push({
        kind: "crm.deal.upsert",
        target: { orderId: o.orderId, ...(o.buyerUid ? { uid: o.buyerUid } : {}) },
        idempotencyKey: `order:${o.orderId}`,
        reason: "order partially_refunded",
      });
    }
  }
  if (s.kind === "dispute" && event.meta.type === "charge.dispute.created") {
    jobs.push({
      kind: "helpdesk.ticket.create",
      target: { orderId: o.orderId, disputeId: s.objectId, ...(o.buyerUid ? { uid: o.buyerUid } : {}) },
      idempotencyKey: `dispute:${s.objectId}`,
      reason: "dispute",
    });
  }
  if (!before?.stripeState || mark.created >= before.stripeState.created) o.stripeState = mark;

  const diff = diffFields(before, o, ["updatedAt", "createdAt", "stripeState", "history", "rejectedTransitions"]);
  if (diff) {
    o.updatedAt = now;
    audits.unshift({
      action: before ? "order.update" : "order.create",
      target: `orders/${o.orderId}`,
      before: diff.before,
      after: diff.after,
    });
  }
  return {
    status: reviewSpec ? "needs_review" : "applied",
    reason: reviewSpec?.detail ?? null,
    customer: null,
    billing: null,
    order: { before, after: o },
    mapping: null,
    objects: objectMarks(s, mark, { orderId: o.orderId, uid: o.buyerUid }),
    jobs,
    audits,
    review: reviewSpec,
  };
}
