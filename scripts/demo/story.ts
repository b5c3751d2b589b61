/** The full demo's story: one subscriber's life and one marketplace order, as Stripe events in story order. */
import { charge, checkoutSession, customer, invoice, paymentIntent, price, refund, stripeEvent, subscription, uniq } from "../../test/support/stripeFixtures";
import type { CustomerView, OrderView } from "./records";
import type { SentEvent } from "./stack";
// ---------------------------------------------------------------------------------------------------------------
// The story

export interface Step {
  label: string;
  event: SentEvent;
  /** What the record looks like after this step if opsync did its job. */
  customer?: Partial<CustomerView>;
  order?: Partial<OrderView>;
  /** A redelivery of the previous event: must be acknowledged and change nothing. */
  duplicate?: boolean;
}

export interface Cast {
  uid: string;
  /** Per run: the CRM refuses a second contact with an email another uid's contact already has. */
  email: string;
  cus: string;
  sub: string;
  buyerUid: string;
  sellerUid: string;
  orderId: string;
}

export const STARTER_ENTITLEMENTS = ["projects", "reports"];
export const PRO_ENTITLEMENTS = ["api", "projects", "reports", "sso"];

export function subscriberStory(c: Cast): Step[] {
  const starter = price({ id: uniq("price"), lookupKey: "starter", entitlements: STARTER_ENTITLEMENTS.join(","), amount: 2900 });
  const pro = price({ id: uniq("price"), lookupKey: "pro", entitlements: PRO_ENTITLEMENTS.join(","), supportTier: "priority", amount: 9900 });
  const sub = (status: "active" | "past_due" | "canceled", p: typeof pro, cancelAtPeriodEnd = false) =>
    subscription({ id: c.sub, customer: c.cus, status, price: p, cancelAtPeriodEnd });
  const firstInvoice = uniq("in");
  const renewal = uniq("in");
  const email = c.email;
  // Built in story order: each fixture takes the next `created`, and opsync orders state by it.
  const steps: Step[] = [];
  steps.push(
    {
      label: "Ada checks out (starter)",
      event: stripeEvent(
        "checkout.session.completed",
        checkoutSession({ id: uniq("cs"), mode: "subscription", customer: c.cus, clientReferenceId: c.uid, subscription: c.sub, email }),
      ),
      customer: { exists: true, stripeCustomerId: c.cus },
    },
    { label: "Stripe customer created", event: stripeEvent("customer.created", customer({ id: c.cus, email })) },
    {
      label: "subscription starts",
      event: stripeEvent("customer.subscription.created", sub("active", starter)),
      customer: { plan: "starter", subscriptionStatus: "active", entitlements: STARTER_ENTITLEMENTS },
    },
    {
      label: "first invoice paid",
      event: stripeEvent(
        "invoice.paid",
        invoice({ id: firstInvoice, customer: c.cus, subscription: c.sub, status: "paid", billingReason: "subscription_create" }),
      ),
      customer: { delinquent: false },
    },
    {
      label: "upgrades to pro",
      event: stripeEvent("customer.subscription.updated", sub("active", pro), {
        previous: { items: { data: [{ price: { id: starter.id, lookup_key: "starter" } }] } },
      }),
      customer: { plan: "pro", entitlements: PRO_ENTITLEMENTS, supportTier: "priority" },
    },
    {
      label: "renewal card declined",
      event: stripeEvent(
        "invoice.payment_failed",
        invoice({ id: renewal, customer: c.cus, subscription: c.sub, status: "open", amount: 9900, billingReason: "subscription_cycle" }),
      ),
      customer: { delinquent: true },
    },
    {
      label: "subscription past due",
      event: stripeEvent("customer.subscription.updated", sub("past_due", pro), { previous: { status: "active" } }),
      // Grace period: a past_due subscriber keeps access for a few days.
      customer: { subscriptionStatus: "past_due", entitlements: PRO_ENTITLEMENTS },
    },
  );
  const recovered = stripeEvent(
    "invoice.paid",
    invoice({ id: renewal, customer: c.cus, subscription: c.sub, status: "paid", amount: 9900, attempt: 2 }),
  );
  steps.push(
    { label: "retry succeeds", event: recovered, customer: { delinquent: false } },
    // Stripe redelivers when it did not see our 2xx in time; the ledger must absorb it.
    { label: "(Stripe redelivers it)", event: recovered, duplicate: true },
    {
      label: "subscription active again",
      event: stripeEvent("customer.subscription.updated", sub("active", pro), { previous: { status: "past_due" } }),
      customer: { subscriptionStatus: "active", entitlements: PRO_ENTITLEMENTS },
    },
    {
      label: "cancels at period end",
      event: stripeEvent("customer.subscription.updated", sub("active", pro, true), { previous: { cancel_at_period_end: false } }),
      customer: { subscriptionStatus: "active", cancelAtPeriodEnd: true, entitlements: PRO_ENTITLEMENTS },
    },
    {
      label: "period ends, subscription over",
      event: stripeEvent("customer.subscription.deleted", sub("canceled", pro, true)),
      customer: { subscriptionStatus: "canceled", entitlements: [], supportTier: "free" },
    },
  );
  return steps;
}

export function marketplaceStory(c: Cast): Step[] {
  const pi = uniq("pi");
  const ch = uniq("ch");
  const amount = 5000;
  const metadata = { orderId: c.orderId, buyerUid: c.buyerUid, sellerUid: c.sellerUid };
  return [
    {
      label: "buyer pays for an order",
      event: stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", paymentIntent: pi, amount, metadata })),
      order: { status: "paid", amount, buyerUid: c.buyerUid, sellerUid: c.sellerUid },
    },
    {
      label: "payment confirmed",
      event: stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount, metadata })),
      order: { status: "paid" },
    },
    {
      // Charges and refunds carry no order metadata: opsync finds the order through the payment intent.
      label: "seller refunds in full",
      event: stripeEvent("charge.refunded", charge({ id: ch, paymentIntent: pi, amount, amountRefunded: amount })),
      order: { status: "refunded", amountRefunded: amount },
    },
    {
      label: "refund recorded",
      event: stripeEvent("refund.created", refund({ id: uniq("re"), charge: ch, paymentIntent: pi, amount })),
      order: { status: "refunded", amountRefunded: amount },
    },
  ];
}

