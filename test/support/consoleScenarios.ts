/**
 * Customers in the four states the console's card must name (paid, past due in grace, canceled, unmapped), as
 * the Stripe events that produce them. The caller delivers them (in-process `deliver`, or signed HTTP to the
 * Functions emulator) in order.
 */
import { customer, invoice, price, stripeEvent, subscription, uniq } from "./stripeFixtures";

export type CardScenario = "paid" | "pastDueGrace" | "canceled" | "unmapped";

export interface ScenarioCustomer {
  uid: string | null;
  stripeCustomerId: string;
  email: string;
  invoiceId: string;
  /** Stripe events, oldest first (plain objects: they are serialized and signed as they are). */
  events: object[];
}

const PRO = price({ id: "price_pro", lookupKey: "pro", entitlements: "reports", amount: 4900 });

export function scenario(kind: CardScenario, tag = uniq("c")): ScenarioCustomer {
  const uid = kind === "unmapped" ? null : `u_${kind}_${tag}`;
  const cus = uniq("cus");
  const sub = uniq("sub");
  const inv = uniq("in");
  const email = `${kind.toLowerCase()}.${tag}@example.com`.toLowerCase();
  const owner = uid ? { uid } : {};
  const events: object[] = [
    stripeEvent("customer.created", customer({ id: cus, email, name: `${kind} customer`, ...owner })),
    stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "active", price: PRO, ...owner })),
  ];
  if (kind === "paid" || kind === "unmapped") {
    events.push(stripeEvent("invoice.paid", invoice({ id: inv, customer: cus, subscription: sub, status: "paid", amount: 4900, ...owner })));
  } else if (kind === "pastDueGrace") {
    events.push(stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, status: "past_due", price: PRO, ...owner })));
    events.push(
      stripeEvent("invoice.payment_failed", invoice({ id: inv, customer: cus, subscription: sub, status: "open", amount: 4900, billingReason: "subscription_cycle", attempt: 1, ...owner })),
    );
  } else {
    events.push(stripeEvent("customer.subscription.deleted", subscription({ id: sub, customer: cus, status: "canceled", price: PRO, ...owner })));
  }
  return { uid, stripeCustomerId: cus, email, invoiceId: inv, events };
}
