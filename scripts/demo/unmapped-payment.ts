/** Drill `unmapped-payment`: a Stripe customer pays with no Firebase uid anywhere; opsync holds it for review. */
import { customer, invoice, price, stripeEvent, subscription, uniq } from "../../test/support/stripeFixtures";
import { CONSOLE_URL, type Scenario } from "./drill";

export const unmappedPayment: Scenario = {
  name: "unmapped-payment",
  summary: "a customer pays without a Firebase uid (no client_reference_id or metadata): held for review, never matched by email",
  async run(d) {
    const cus = uniq("cus");
    const sub = uniq("sub");
    const pro = price({ id: uniq("price"), lookupKey: "pro", entitlements: "api,projects,reports,sso", amount: 9900 });
    await d.deliver(stripeEvent("customer.created", customer({ id: cus, email: `walk-in.${cus.slice(-6)}@example.com` })));
    await d.deliver(stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "active", price: pro })));
    await d.deliver(stripeEvent("invoice.paid", invoice({ id: uniq("in"), customer: cus, subscription: sub, status: "paid", amount: 9900, billingReason: "subscription_create" })));
    await d.waitFor(`${cus} in the support queue's unmapped paying customers`, async () => {
      const q = await d.call("support", "listQueue", { kind: "unmapped_customer", pageSize: 50 });
      return JSON.stringify(q.items ?? []).includes(cus) ? q : null;
    });
    d.look(
      "support",
      [
        [`${CONSOLE_URL}/#/queues?kind=unmapped_customer`, `${cus}: paying, no uid; map it to the right user there (resolveReview)`],
        [`${CONSOLE_URL}/#/customer?q=${cus}`, "what opsync knows about the Stripe customer"],
      ],
      ["map it to a uid from the queue (the held events then apply in order), or leave it: it harms nothing"],
    );
  },
};
