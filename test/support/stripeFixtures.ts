/**
 * Stripe test payloads built against the stripe package's own types and signed with
 * `stripe.webhooks.generateTestHeaderString`. Objects are realistic subsets (the fields Stripe always sends
 * that opsync reads, plus typical neighbours); the types keep field names and value shapes honest.
 */
import { randomBytes } from "node:crypto";
import Stripe from "stripe";
import { STRIPE_API_VERSION } from "../../functions/src/domain/stripeVersion";

export type DeepPartial<T> = T extends (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export type EventType = Stripe.Event.Type;
export type EventObject<T extends EventType> = Extract<Stripe.Event, { type: T }>["data"]["object"];

export interface FixtureEvent<T extends EventType = EventType> {
  id: string;
  object: "event";
  api_version: string | null;
  created: number;
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: T;
  data: { object: DeepPartial<EventObject<T>>; previous_attributes?: Record<string, unknown> };
}

export const uniq = (prefix: string): string => `${prefix}_${randomBytes(8).toString("hex")}`;
let clock = Math.floor(Date.now() / 1000) - 3600;
/** Monotonic event times so "newer" is unambiguous in tests. */
export const nextCreated = (): number => (clock += 5);

type EventOpts = { id?: string; created?: number; livemode?: boolean; apiVersion?: string | null; previous?: Record<string, unknown> };

function envelope<T extends EventType, O>(type: T, object: O, opts: EventOpts) {
  return {
    id: opts.id ?? uniq("evt"),
    object: "event" as const,
    api_version: opts.apiVersion === undefined ? STRIPE_API_VERSION : opts.apiVersion,
    created: opts.created ?? nextCreated(),
    livemode: opts.livemode ?? false,
    pending_webhooks: 1,
    request: { id: uniq("req"), idempotency_key: null },
    type,
    data: { object, ...(opts.previous ? { previous_attributes: opts.previous } : {}) },
  };
}

export function stripeEvent<T extends EventType>(type: T, object: DeepPartial<EventObject<T>>, opts: EventOpts = {}): FixtureEvent<T> {
  return envelope(type, object, opts);
}

/** An event rendered in an older API version, whose object the pinned version's types no longer describe. */
export function legacyEvent<T extends EventType>(type: T, object: Record<string, unknown>, apiVersion: string, opts: EventOpts = {}) {
  return envelope(type, object, { ...opts, apiVersion });
}

export function signedDelivery(event: object, secret: string, timestamp?: number): { body: string; signature: string } {
  const body = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret,
    ...(timestamp !== undefined ? { timestamp } : {}),
  });
  return { body, signature };
}

export function customer(o: { id: string; uid?: string; email?: string; name?: string; delinquent?: boolean }): DeepPartial<Stripe.Customer> {
  return {
    id: o.id,
    object: "customer",
    email: o.email ?? `${o.id}@example.com`,
    name: o.name ?? "Ada Lovelace",
    delinquent: o.delinquent ?? false,
    livemode: false,
    created: nextCreated(),
    metadata: o.uid ? { firebaseUid: o.uid } : {},
    invoice_settings: { default_payment_method: null, custom_fields: null, footer: null, rendering_options: null },
  };
}

export function price(o: { id: string; lookupKey?: string; entitlements?: string; supportTier?: string; amount?: number }): DeepPartial<Stripe.Price> {
  return {
    id: o.id,
    object: "price",
    active: true,
    currency: "usd",
    unit_amount: o.amount ?? 2900,
    lookup_key: o.lookupKey ?? null,
    nickname: null,
    product: `prod_${o.id.slice(6)}`,
    recurring: { interval: "month", interval_count: 1, usage_type: "licensed", meter: null, trial_period_days: null },
    metadata: {
      ...(o.entitlements ? { entitlements: o.entitlements } : {}),
      ...(o.supportTier ? { supportTier: o.supportTier } : {}),
    },
    type: "recurring",
  };
}

export function subscription(o: {
  id: string;
  customer: string;
  status: Stripe.Subscription.Status;
  price: DeepPartial<Stripe.Price>;
  uid?: string;
  periodEnd?: number;
  cancelAtPeriodEnd?: boolean;
}): DeepPartial<Stripe.Subscription> {
  const periodEnd = o.periodEnd ?? Math.floor(Date.now() / 1000) + 30 * 86400;
  return {
    id: o.id,
    object: "subscription",
    customer: o.customer,
    status: o.status,
    cancel_at_period_end: o.cancelAtPeriodEnd ?? false,
    cancel_at: null,
    canceled_at: o.status === "canceled" ? periodEnd - 86400 : null,
    trial_end: null,
    collection_method: "charge_automatically",
    currency: "usd",
    livemode: false,
    metadata: o.uid ? { firebaseUid: o.uid } : {},
    items: {
      object: "list",
      has_more: false,
      url: `/v1/subscription_items?subscription=${o.id}`,
      data: [
        {
          id: `si_${o.id.slice(4)}`,
          object: "subscription_item",
          price: o.price,
          quantity: 1,
          subscription: o.id,
          current_period_start: periodEnd - 30 * 86400,
          current_period_end: periodEnd,
          metadata: {},
        },
      ],
    },
  };
}

export function invoice(o: {
  id: string;
  customer: string;
  subscription?: string;
  status: Stripe.Invoice.Status;
  amount?: number;
  billingReason?: Stripe.Invoice.BillingReason;
  uid?: string;
  paidAt?: number;
  attempt?: number;
}): DeepPartial<Stripe.Invoice> {
  const amount = o.amount ?? 2900;
  const paid = o.status === "paid";
  return {
    id: o.id,
    object: "invoice",
    customer: o.customer,
    status: o.status,
    billing_reason: o.billingReason ?? "subscription_cycle",
    amount_due: amount,
    amount_paid: paid ? amount : 0,
    amount_remaining: paid ? 0 : amount,
    attempt_count: o.attempt ?? 1,
    attempted: true,
    currency: "usd",
    number: `INV-${o.id.slice(-6).toUpperCase()}`,
    hosted_invoice_url: `https://invoice.stripe.com/i/${o.id}`,
    next_payment_attempt: paid ? null : Math.floor(Date.now() / 1000) + 3 * 86400,
    livemode: false,
    metadata: {},
    status_transitions: { paid_at: paid ? (o.paidAt ?? Math.floor(Date.now() / 1000)) : null, finalized_at: null, marked_uncollectible_at: null, voided_at: null },
    parent: o.subscription
      ? {
          type: "subscription_details",
          quote_details: null,
          subscription_details: { subscription: o.subscription, metadata: o.uid ? { firebaseUid: o.uid } : {} },
        }
      : null,
  };
}

export function paymentIntent(o: {
  id: string;
  customer?: string | null;
  status: Stripe.PaymentIntent.Status;
  amount?: number;
  metadata?: Record<string, string>;
  declineCode?: string;
}): DeepPartial<Stripe.PaymentIntent> {
  return {
    id: o.id,
    object: "payment_intent",
    customer: o.customer ?? null,
    status: o.status,
    amount: o.amount ?? 5000,
    amount_received: o.status === "succeeded" ? (o.amount ?? 5000) : 0,
    currency: "usd",
    livemode: false,
    metadata: o.metadata ?? {},
    last_payment_error: o.declineCode ? { type: "card_error", code: "card_declined", decline_code: o.declineCode } : null,
  };
}

export function charge(o: {
  id: string;
  paymentIntent: string;
  customer?: string | null;
  amount?: number;
  amountRefunded: number;
  metadata?: Record<string, string>;
}): DeepPartial<Stripe.Charge> {
  return {
    id: o.id,
    object: "charge",
    payment_intent: o.paymentIntent,
    customer: o.customer ?? null,
    amount: o.amount ?? 5000,
    amount_captured: o.amount ?? 5000,
    amount_refunded: o.amountRefunded,
    refunded: o.amountRefunded >= (o.amount ?? 5000),
    captured: true,
    paid: true,
    status: "succeeded",
    currency: "usd",
    livemode: false,
    metadata: o.metadata ?? {},
  };
}

export function refund(o: { id: string; charge: string; paymentIntent: string; amount: number; status?: string; metadata?: Record<string, string> }): DeepPartial<Stripe.Refund> {
  return {
    id: o.id,
    object: "refund",
    charge: o.charge,
    payment_intent: o.paymentIntent,
    amount: o.amount,
    currency: "usd",
    status: o.status ?? "succeeded",
    reason: "requested_by_customer",
    metadata: o.metadata ?? {},
  };
}

export function dispute(o: { id: string; charge: string; paymentIntent: string; amount?: number; status: Stripe.Dispute.Status; metadata?: Record<string, string> }): DeepPartial<Stripe.Dispute> {
  return {
    id: o.id,
    object: "dispute",
    charge: o.charge,
    payment_intent: o.paymentIntent,
    amount: o.amount ?? 5000,
    currency: "usd",
    status: o.status,
    reason: "fraudulent",
    livemode: false,
    metadata: o.metadata ?? {},
  };
}

export function checkoutSession(o: {
  id: string;
  mode: Stripe.Checkout.Session.Mode;
  customer?: string | null;
  clientReferenceId?: string | null;
  subscription?: string | null;
  paymentIntent?: string | null;
  paymentStatus?: Stripe.Checkout.Session.PaymentStatus;
  amount?: number;
  metadata?: Record<string, string>;
  email?: string;
}): DeepPartial<Stripe.Checkout.Session> {
  return {
    id: o.id,
    object: "checkout.session",
    mode: o.mode,
    status: "complete",
    payment_status: o.paymentStatus ?? "paid",
    client_reference_id: o.clientReferenceId ?? null,
    customer: o.customer ?? null,
    customer_details: { email: o.email ?? "buyer@example.com", name: "Grace Hopper", phone: null, tax_exempt: "none", tax_ids: [], address: null, business_name: null, individual_name: null },
    subscription: o.subscription ?? null,
    payment_intent: o.paymentIntent ?? null,
    amount_total: o.amount ?? 2900,
    currency: "usd",
    livemode: false,
    metadata: o.metadata ?? {},
  };
}
