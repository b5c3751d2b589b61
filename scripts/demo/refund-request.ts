/** Drill `refund-request`: a buyer pays for an order, support flags a refund, finance sees it in its queue. */
import { checkoutSession, paymentIntent, stripeEvent, uniq } from "../../test/support/stripeFixtures";
import { CONSOLE_URL, type Scenario } from "./drill";

export const refundRequest: Scenario = {
  name: "refund-request",
  summary: "a paid marketplace order; support flags a refund (flagRefund); finance finds it in its queue with the amount",
  async run(d) {
    const orderId = uniq("order");
    const buyerUid = uniq("drill_buyer");
    const pi = uniq("pi");
    const amount = 5000;
    await d.conn.auth.createUser({ uid: buyerUid, email: `buyer.${buyerUid.slice(-8)}@example.com`, displayName: "Drill Buyer" });
    const metadata = { orderId, buyerUid, sellerUid: uniq("drill_seller") };
    await d.deliver(stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", paymentIntent: pi, amount, metadata })));
    await d.deliver(stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount, metadata })));
    await d.waitFor(`orders/${orderId} paid`, async () => ((await d.conn.db.doc(`orders/${orderId}`).get()).get("status") === "paid" ? true : null));
    const flagged = await d.call("support", "flagRefund", { orderId, reason: "drill: the item never arrived", amount });
    console.log(`  support flagged it: reviewQueue/${String(flagged.reviewId)}`);
    await d.waitFor("the refund request in finance's queue", async () => {
      const q = await d.call("finance", "listQueue", { kind: "refund_request", pageSize: 50 });
      return JSON.stringify(q.items ?? []).includes(orderId) ? q : null;
    });
    d.look(
      "finance",
      [
        [`${CONSOLE_URL}/#/queues?kind=refund_request`, `the request for ${orderId} with its amount (support's view has no amounts)`],
        [`${CONSOLE_URL}/#/customer?q=${buyerUid}`, "the buyer's card"],
      ],
      ["refund in Stripe (the refund events then move the order to refunded); the request stays until finance closes it"],
    );
  },
};
