/**
 * Turns a verified Stripe event (any API version) into the small, version-independent facts opsync applies.
 * Stripe sends many more fields than opsync reads, so object schemas are loose (extra fields pass) but every
 * field opsync relies on is checked. Where Stripe moved a field between API versions, both shapes are read.
 * Nothing here keeps card data: only ids, amounts, statuses and metadata opsync owns.
 */
import { z } from "zod";
import { firstUnusableId, isUsableId, type IdKind } from "./ids.js";

export const HANDLED_EVENT_TYPES = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
  "customer.created",
  "customer.updated",
  "customer.deleted",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
  "customer.subscription.trial_will_end",
  "invoice.paid",
  "invoice.payment_failed",
  "invoice.payment_action_required",
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "payment_intent.canceled",
  "charge.refunded",
  "refund.created",
  "refund.updated",
  "charge.dispute.created",
  "charge.dispute.closed",
] as const;
export type HandledEventType = (typeof HANDLED_EVENT_TYPES)[number];

export function isHandledEventType(type: string): type is HandledEventType {
  return (HANDLED_EVENT_TYPES as readonly string[]).includes(type);
}

/** Seconds since epoch that a Firestore Timestamp can hold (0001-01-01 .. 9999-12-31). */
const MIN_EPOCH_SECONDS = -62_135_596_800;
const MAX_EPOCH_SECONDS = 253_402_300_799;

/**
 * The envelope every Stripe event has, whatever its version: only what opsync needs to record it. Stripe sends
 * events whose `data.object` has no `id` (`invoice.upcoming`, `balance.available`,
 * `entitlements.active_entitlement_summary.updated`) and `previous_attributes: null`: both are accepted.
 */
export const stripeEventEnvelopeSchema = z.looseObject({
  id: z.string().max(255, "must be at most 255 characters").regex(/^evt_[A-Za-z0-9_]+$/, "must look like evt_..."),
  object: z.literal("event"),
  type: z.string().min(1).max(200),
  created: z.number().int().positive().max(MAX_EPOCH_SECONDS, "is not a valid time"),
  livemode: z.boolean(),
  api_version: z.string().max(100).nullish(),
  data: z.looseObject({
    object: z.looseObject({ id: z.unknown().optional(), object: z.unknown().optional() }),
    previous_attributes: z.record(z.string(), z.unknown()).nullish(),
  }),
});
export type StripeEventEnvelope = z.infer<typeof stripeEventEnvelopeSchema>;

const metadataSchema = z.record(z.string(), z.string()).nullish().transform((m) => m ?? {});
/** A reference Stripe sends either as an id or as the expanded object. */
const refSchema = z
  .union([z.string(), z.looseObject({ id: z.string() })])
  .nullish()
  .transform((r) => (r == null ? null : typeof r === "string" ? r : r.id));
const epoch = z
  .number()
  .int()
  .min(MIN_EPOCH_SECONDS, "is not a valid time")
  .max(MAX_EPOCH_SECONDS, "is not a valid time")
  .nullish()
  .transform((s) => (s == null ? null : s));
/** Free text opsync keeps (names, emails, URLs): bounded so no record can outgrow a Firestore document. */
const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export interface OrderFacts {
  orderId: string;
  buyerUid: string | null;
  sellerUid: string | null;
}

export interface EventMeta {
  id: string;
  type: HandledEventType;
  created: number;
  livemode: boolean;
  apiVersion: string | null;
}

export type Subject =
  | {
      kind: "checkout";
      objectId: string;
      mode: string;
      paymentStatus: string;
      clientReferenceId: string | null;
      metadataUid: string | null;
      customerId: string | null;
      email: string | null;
      name: string | null;
      subscriptionId: string | null;
      paymentIntentId: string | null;
      amount: number | null;
      currency: string | null;
      order: OrderFacts | null;
    }
  | {
      kind: "customer";
      objectId: string;
      customerId: string;
      metadataUid: string | null;
      email: string | null;
      name: string | null;
      delinquent: boolean | null;
      deleted: boolean;
    }
  | {
      kind: "subscription";
      objectId: string;
      customerId: string;
      metadataUid: string | null;
      status: string;
      priceId: string | null;
      productId: string | null;
      plan: string | null;
      currentPeriodEnd: number | null;
      cancelAtPeriodEnd: boolean;
      cancelAt: number | null;
      trialEnd: number | null;
      entitlements: string[];
      supportTier: string | null;
      /** Monthly recurring amount in the smallest currency unit, when the price says. */
      monthlyAmount: number | null;
      currency: string | null;
    }
  | {
      kind: "invoice";
      objectId: string;
      customerId: string | null;
      metadataUid: string | null;
      subscriptionId: string | null;
      status: string | null;
      billingReason: string | null;
      amountPaid: number;
      amountDue: number;
      currency: string;
      paidAt: number | null;
      attemptCount: number;
      nextPaymentAttempt: number | null;
      number: string | null;
      hostedInvoiceUrl: string | null;
      paymentIntentId: string | null;
    }
  | {
      kind: "payment_intent";
      objectId: string;
      customerId: string | null;
      metadataUid: string | null;
      status: string;
      amount: number;
      amountReceived: number;
      currency: string;
      failureCode: string | null;
      order: OrderFacts | null;
    }
  | {
      kind: "charge";
      objectId: string;
      customerId: string | null;
      metadataUid: string | null;
      paymentIntentId: string | null;
      amount: number;
      amountRefunded: number;
      currency: string;
      order: OrderFacts | null;
    }
  | {
      kind: "refund";
      objectId: string;
      metadataUid: string | null;
      chargeId: string | null;
      paymentIntentId: string | null;
      amount: number;
      currency: string;
      status: string | null;
      reason: string | null;
      order: OrderFacts | null;
    }
  | {
      kind: "dispute";
      objectId: string;
      metadataUid: string | null;
      chargeId: string | null;
      paymentIntentId: string | null;
      amount: number;
      currency: string;
      status: string;
      reason: string | null;
      order: OrderFacts | null;
    };

export interface NormalizedEvent {
  meta: EventMeta;
  subject: Subject;
}

export type NormalizeResult =
  | { outcome: "normalized"; event: NormalizedEvent }
  | { outcome: "ignored"; reason: string }
  | { outcome: "failed"; reason: string }
  /** An app id (uid, order id) that cannot be a document id: a person must look (never used as a path). */
  | { outcome: "needs_review"; reason: string; field: string };

const UID_KEYS = ["firebaseUid", "firebase_uid", "uid"] as const;

function uidFrom(metadata: Record<string, string>): string | null {
  return uidEntry(metadata)?.value ?? null;
}

function uidEntry(metadata: Record<string, string>): { key: string; value: string } | null {
  for (const key of UID_KEYS) {
    const value = metadata[key]?.trim();
    if (value) return { key, value };
  }
  return null;
}

function orderFrom(metadata: Record<string, string>): OrderFacts | null {
  const orderId = metadata.orderId?.trim();
  if (!orderId) return null;
  return {
    orderId,
    buyerUid: metadata.buyerUid?.trim() || null,
    sellerUid: metadata.sellerUid?.trim() || null,
  };
}

function splitList(value: string | undefined): string[] {
  if (!value) return [];
  return [...new Set(value.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean))].sort();
}

const priceSchema = z.looseObject({
  id: text(255),
  unit_amount: z.number().nullish(),
  currency: text(200).nullish(),
  recurring: z.looseObject({ interval: text(200), interval_count: z.number().int().positive().nullish() }).nullish(),
  lookup_key: text(200).nullish(),
  nickname: text(500).nullish(),
  metadata: metadataSchema,
  product: z
    .union([z.string(), z.looseObject({ id: text(255), name: text(500).nullish(), metadata: metadataSchema })])
    .nullish(),
});

const checkoutSchema = z.looseObject({
  id: text(255),
  mode: text(200),
  payment_status: text(200),
  // Any string a Payment Link visitor puts in the URL: checked by the id policy, not here.
  client_reference_id: z.string().nullish(),
  customer: refSchema,
  customer_details: z.looseObject({ email: text(512).nullish(), name: text(500).nullish() }).nullish(),
  customer_email: text(512).nullish(),
  subscription: refSchema,
  payment_intent: refSchema,
  amount_total: z.number().int().nullish(),
  currency: text(200).nullish(),
  metadata: metadataSchema,
});

const customerSchema = z.looseObject({
  id: text(255),
  email: text(512).nullish(),
  name: text(500).nullish(),
  delinquent: z.boolean().nullish(),
  deleted: z.boolean().optional(),
  metadata: metadataSchema,
});

const subscriptionItemSchema = z.looseObject({
  price: priceSchema.nullish(),
  quantity: z.number().int().nullish(),
  plan: z.looseObject({ id: text(255) }).nullish(),
  // Since API 2025-03-31 the period lives on each item; older versions have it on the subscription.
  current_period_end: epoch,
});

const subscriptionSchema = z.looseObject({
  id: text(255),
  customer: refSchema.refine((c) => c !== null, "required"),
  status: text(200),
  cancel_at_period_end: z.boolean().nullish(),
  cancel_at: epoch,
  trial_end: epoch,
  current_period_end: epoch,
  metadata: metadataSchema,
  items: z.looseObject({ data: z.array(subscriptionItemSchema) }).nullish(),
  plan: z.looseObject({ id: text(255), nickname: text(500).nullish(), metadata: metadataSchema }).nullish(),
});

const invoiceSchema = z.looseObject({
  id: text(255),
  customer: refSchema,
  status: text(200).nullish(),
  billing_reason: text(200).nullish(),
  amount_paid: z.number().int(),
  amount_due: z.number().int(),
  currency: text(200),
  attempt_count: z.number().int().nullish(),
  next_payment_attempt: epoch,
  number: text(200).nullish(),
  hosted_invoice_url: text(2048).nullish(),
  status_transitions: z.looseObject({ paid_at: epoch }).nullish(),
  // Current shape (API >= 2025-03-31).
  parent: z
    .looseObject({
      subscription_details: z.looseObject({ subscription: refSchema, metadata: metadataSchema }).nullish(),
    })
    .nullish(),
  // Legacy shape.
  subscription: refSchema,
  subscription_details: z.looseObject({ metadata: metadataSchema }).nullish(),
  payment_intent: refSchema,
  metadata: metadataSchema,
});

const paymentIntentSchema = z.looseObject({
  id: text(255),
  customer: refSchema,
  status: text(200),
  amount: z.number().int(),
  amount_received: z.number().int().nullish(),
  currency: text(200),
  last_payment_error: z.looseObject({ code: text(200).nullish(), decline_code: text(200).nullish() }).nullish(),
  metadata: metadataSchema,
});

const chargeSchema = z.looseObject({
  id: text(255),
  customer: refSchema,
  payment_intent: refSchema,
  amount: z.number().int(),
  amount_refunded: z.number().int(),
  currency: text(200),
  metadata: metadataSchema,
});

/** Refunds and disputes point at a charge / payment intent and carry an amount and a reason. */
const chargeLinkedSchema = z.looseObject({
  id: text(255),
  charge: refSchema,
  payment_intent: refSchema,
  amount: z.number().int(),
  currency: text(200),
  reason: text(200).nullish(),
  metadata: metadataSchema,
});
const refundSchema = chargeLinkedSchema.extend({ status: text(200).nullish() });
const disputeSchema = chargeLinkedSchema.extend({ status: text(200) });

const MONTHS_PER: Record<string, number> = { day: 12 / 365, week: 12 / 52, month: 1, year: 12 };

function monthlyAmount(price: z.infer<typeof priceSchema> | null, quantity: number): number | null {
  const months = price?.recurring ? MONTHS_PER[price.recurring.interval] : undefined;
  if (!price || price.unit_amount == null || !price.recurring || months === undefined) return null;
  return Math.round((price.unit_amount * quantity) / (months * (price.recurring.interval_count ?? 1)));
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

function toSubject(type: HandledEventType, object: unknown): Subject {
  const family = type.split(".")[0];
  if (type.startsWith("checkout.session.")) {
    const s = checkoutSchema.parse(object);
    return {
      kind: "checkout",
      objectId: s.id,
      mode: s.mode,
      paymentStatus: s.payment_status,
      clientReferenceId: s.client_reference_id?.trim() || null,
      metadataUid: uidFrom(s.metadata),
      customerId: s.customer,
      email: s.customer_details?.email ?? s.customer_email ?? null,
      name: s.customer_details?.name ?? null,
      subscriptionId: s.subscription,
      paymentIntentId: s.payment_intent,
      amount: s.amount_total ?? null,
      currency: s.currency ?? null,
      order: orderFrom(s.metadata),
    };
  }
  if (type.startsWith("customer.subscription.")) {
    const s = subscriptionSchema.parse(object);
    const item = s.items?.data[0];
    const price = item?.price ?? null;
    const product = price && typeof price.product === "object" ? price.product : null;
    const productId = price ? (typeof price.product === "string" ? price.product : (product?.id ?? null)) : null;
    const entitlements = splitList(
      [price?.metadata.entitlements, product?.metadata.entitlements, s.plan?.metadata.entitlements]
        .filter((v): v is string => Boolean(v))
        .join(","),
    );
    return {
      kind: "subscription",
      objectId: s.id,
      customerId: s.customer as string,
      metadataUid: uidFrom(s.metadata),
      status: s.status,
      priceId: price?.id ?? s.plan?.id ?? null,
      productId,
      plan: price?.lookup_key ?? price?.nickname ?? product?.name ?? price?.id ?? s.plan?.nickname ?? s.plan?.id ?? null,
      currentPeriodEnd: item?.current_period_end ?? s.current_period_end,
      cancelAtPeriodEnd: s.cancel_at_period_end ?? false,
      cancelAt: s.cancel_at,
      trialEnd: s.trial_end,
      entitlements,
      supportTier: price?.metadata.supportTier ?? product?.metadata.supportTier ?? null,
      monthlyAmount: monthlyAmount(price, item?.quantity ?? 1),
      currency: price?.currency ?? null,
    };
  }
  if (family === "customer") {
    const c = customerSchema.parse(object);
    return {
      kind: "customer",
      objectId: c.id,
      customerId: c.id,
      metadataUid: uidFrom(c.metadata),
      email: c.email ?? null,
      name: c.name ?? null,
      delinquent: c.delinquent ?? null,
      deleted: type === "customer.deleted" || c.deleted === true,
    };
  }
  if (family === "invoice") {
    const i = invoiceSchema.parse(object);
    const details = i.parent?.subscription_details;
    const metadata = { ...i.subscription_details?.metadata, ...details?.metadata, ...i.metadata };
    return {
      kind: "invoice",
      objectId: i.id,
      customerId: i.customer,
      metadataUid: uidFrom(metadata),
      subscriptionId: details?.subscription ?? i.subscription ?? null,
      status: i.status ?? null,
      billingReason: i.billing_reason ?? null,
      amountPaid: i.amount_paid,
      amountDue: i.amount_due,
      currency: i.currency,
      paidAt: i.status_transitions?.paid_at ?? null,
      attemptCount: i.attempt_count ?? 0,
      nextPaymentAttempt: i.next_payment_attempt,
      number: i.number ?? null,
      hostedInvoiceUrl: i.hosted_invoice_url ?? null,
      paymentIntentId: i.payment_intent,
    };
  }
  if (family === "payment_intent") {
    const p = paymentIntentSchema.parse(object);
    return {
      kind: "payment_intent",
      objectId: p.id,
      customerId: p.customer,
      metadataUid: uidFrom(p.metadata),
      status: p.status,
      amount: p.amount,
      amountReceived: p.amount_received ?? 0,
      currency: p.currency,
      // Decline codes are not card data; the message can echo user input, so it is not kept.
      failureCode: p.last_payment_error?.decline_code ?? p.last_payment_error?.code ?? null,
      order: orderFrom(p.metadata),
    };
  }
  if (type.startsWith("charge.dispute.")) {
    const d = disputeSchema.parse(object);
    return {
      kind: "dispute",
      objectId: d.id,
      metadataUid: uidFrom(d.metadata),
      chargeId: d.charge,
      paymentIntentId: d.payment_intent,
      amount: d.amount,
      currency: d.currency,
      status: d.status,
      reason: d.reason ?? null,
      order: orderFrom(d.metadata),
    };
  }
  if (family === "charge") {
    const c = chargeSchema.parse(object);
    return {
      kind: "charge",
      objectId: c.id,
      customerId: c.customer,
      metadataUid: uidFrom(c.metadata),
      paymentIntentId: c.payment_intent,
      amount: c.amount,
      amountRefunded: c.amount_refunded,
      currency: c.currency,
      order: orderFrom(c.metadata),
    };
  }
  const r = refundSchema.parse(object);
  return {
    kind: "refund",
    objectId: r.id,
    metadataUid: uidFrom(r.metadata),
    chargeId: r.charge,
    paymentIntentId: r.payment_intent,
    amount: r.amount,
    currency: r.currency,
    status: r.status ?? null,
    reason: r.reason ?? null,
    order: orderFrom(r.metadata),
  };
}

export function normalizeEvent(envelope: StripeEventEnvelope, pinnedVersion: string): NormalizeResult {
  if (!isHandledEventType(envelope.type)) {
    return { outcome: "ignored", reason: `opsync does not handle ${envelope.type}` };
  }
  const apiVersion = envelope.api_version ?? null;
  try {
    const subject = toSubject(envelope.type, envelope.data.object);
    const unusable = unusableIds(subject, envelope.data.object);
    if (unusable.stripe) {
      return { outcome: "failed", reason: `${envelope.type}: ${unusable.stripe.field} ${unusable.stripe.problem}` };
    }
    if (unusable.app) {
      return {
        outcome: "needs_review",
        field: unusable.app.field,
        reason: `${unusable.app.field} ${unusable.app.problem}, so opsync cannot tell whose ${subject.kind} ${subject.objectId} is`,
      };
    }
    return {
      outcome: "normalized",
      event: {
        meta: {
          id: envelope.id,
          type: envelope.type,
          created: envelope.created,
          livemode: envelope.livemode,
          apiVersion,
        },
        subject,
      },
    };
  } catch (error) {
    if (!(error instanceof z.ZodError)) throw error;
    const rendered = apiVersion ?? "unknown";
    const note = apiVersion === pinnedVersion ? "" : ` (opsync is pinned to ${pinnedVersion})`;
    return {
      outcome: "failed",
      reason: `${envelope.type} rendered in Stripe API version ${rendered}${note} lacks fields opsync reads: ${describeIssues(error)}`,
    };
  }
}

interface IdCandidate {
  field: string;
  value: string | null | undefined;
  kind: IdKind;
}

/**
 * Every value of the subject that becomes (part of) a document path or map key, with the field it came from. A bad
 * Stripe id means the payload is not what Stripe sends (`failed`); a bad app id (uid, order id) is a person's
 * input and goes to review.
 */
function unusableIds(subject: Subject, object: unknown): { stripe: ReturnType<typeof firstUnusableId>; app: ReturnType<typeof firstUnusableId> } {
  const stripe: IdCandidate[] = [{ field: "id", value: subject.objectId, kind: "stripe" }];
  const app: IdCandidate[] = [];
  const metadata = objectMetadata(object);
  const uidKey = uidEntry(metadata)?.key ?? "firebaseUid";
  if ("customerId" in subject) stripe.push({ field: "customer", value: subject.customerId, kind: "stripe" });
  if ("subscriptionId" in subject) stripe.push({ field: "subscription", value: subject.subscriptionId, kind: "stripe" });
  if ("paymentIntentId" in subject) stripe.push({ field: "payment_intent", value: subject.paymentIntentId, kind: "stripe" });
  if ("chargeId" in subject) stripe.push({ field: "charge", value: subject.chargeId, kind: "stripe" });
  if (subject.kind === "checkout") app.push({ field: "client_reference_id", value: subject.clientReferenceId, kind: "app" });
  app.push({ field: `metadata.${uidKey}`, value: subject.metadataUid, kind: "app" });
  if ("order" in subject && subject.order) {
    app.push(
      { field: "metadata.orderId", value: subject.order.orderId, kind: "app" },
      { field: "metadata.buyerUid", value: subject.order.buyerUid, kind: "app" },
      { field: "metadata.sellerUid", value: subject.order.sellerUid, kind: "app" },
    );
  }
  return { stripe: firstUnusableId(stripe), app: firstUnusableId(app) };
}

/** Built once: zod compiles a schema on first use, so a schema made per call costs more than the parse itself. */
const objectMetadataSchema = z.looseObject({ metadata: metadataSchema });

function objectMetadata(object: unknown): Record<string, string> {
  const parsed = objectMetadataSchema.safeParse(object);
  return parsed.success ? parsed.data.metadata : {};
}

/** The object's id when it can be recorded as a field of the ledger entry (absent on some event types). */
export function recordableObjectId(envelope: StripeEventEnvelope): string | null {
  const id = envelope.data.object.id;
  return isUsableId(id, "stripe") ? id : null;
}

/** The object's type name (`subscription`, `balance`), when it has a sensible one. */
export function recordableObjectType(envelope: StripeEventEnvelope): string | null {
  const type = envelope.data.object.object;
  return typeof type === "string" && /^[a-z][a-z0-9_.]{0,99}$/.test(type) ? type : null;
}

/** The event type whose object shape a fetched object of this kind has (any type of the family reads the same). */
const OBJECT_EVENT_TYPE: Record<Subject["kind"], HandledEventType> = {
  checkout: "checkout.session.completed",
  customer: "customer.updated",
  subscription: "customer.subscription.updated",
  invoice: "invoice.paid",
  payment_intent: "payment_intent.succeeded",
  charge: "charge.refunded",
  refund: "refund.updated",
  dispute: "charge.dispute.closed",
};

export const SUBJECT_KINDS = Object.keys(OBJECT_EVENT_TYPE) as Array<Subject["kind"]>;

export function isSubjectKind(kind: string): kind is Subject["kind"] {
  return (SUBJECT_KINDS as string[]).includes(kind);
}

/**
 * An object fetched from the Stripe API (revalidation, backfill) read with the same schemas and id policy as an
 * event's object.
 */
export function normalizeObject(kind: Subject["kind"], object: unknown, fetchedAt: number, pinnedVersion: string): NormalizeResult {
  const envelope: StripeEventEnvelope = {
    id: "evt_api_read",
    object: "event",
    type: OBJECT_EVENT_TYPE[kind],
    created: fetchedAt,
    livemode: false,
    api_version: pinnedVersion,
    data: { object: object as StripeEventEnvelope["data"]["object"] },
  };
  return normalizeEvent(envelope, pinnedVersion);
}
