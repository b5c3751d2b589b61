/** Stripe delivers in no particular order; the newest state must win whatever the order. */
import { beforeEach, describe, expect, it } from "vitest";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { ledger } from "../support/read";
import { customer, invoice, price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

const db = testDb();

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe("ordering", () => {
  beforeEach(resetFirestore);

  const orders = permutations([0, 1, 2]);
  for (const order of orders) {
    it(`subscription created/updated/deleted delivered as ${order.join(",")} ends canceled`, async () => {
      const uid = uniq("user");
      const cus = uniq("cus");
      await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })));
      const sub = uniq("sub");
      const t = Math.floor(Date.now() / 1000);
      const events = [
        stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "incomplete", price: price({ id: "price_a", lookupKey: "starter", entitlements: "basic" }) }), { created: t }),
        stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, status: "active", price: price({ id: "price_b", lookupKey: "pro", entitlements: "basic,reports" }) }), { created: t + 10 }),
        stripeEvent("customer.subscription.deleted", subscription({ id: sub, customer: cus, status: "canceled", price: price({ id: "price_b", lookupKey: "pro", entitlements: "basic,reports" }) }), { created: t + 20 }),
      ];
      for (const i of order) {
        const res = await deliver(db, events[i]!);
        expect(res.status).toBe(200);
      }
      const doc = (await db.doc(`customers/${uid}`).get()).data();
      expect(doc).toMatchObject({ subscriptionId: sub, subscriptionStatus: "canceled", plan: "pro", entitlements: [] });
      // Whatever arrived after the deleted event was recorded stale.
      const deletedAt = order.indexOf(2);
      for (const late of order.slice(deletedAt + 1)) expect((await ledger(db, events[late]!.id))?.status).toBe("stale");
    });
  }

  it("same-second created and updated: updated wins regardless of event id order", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })));
    const sub = uniq("sub");
    const t = Math.floor(Date.now() / 1000);
    const p = price({ id: "price_a", entitlements: "basic" });
    const updated = stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, status: "active", price: p }), { created: t, id: "evt_0000_low" });
    const created = stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "incomplete", price: p }), { created: t, id: "evt_zzzz_high" });
    await deliver(db, updated);
    expect((await deliver(db, created)).body.status).toBe("stale");
    expect((await db.doc(`customers/${uid}`).get()).data()).toMatchObject({ subscriptionStatus: "active" });
  });

  it("an old invoice's late payment_failed does not make a customer delinquent again", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })));
    const t = Math.floor(Date.now() / 1000);
    await deliver(db, stripeEvent("invoice.paid", invoice({ id: uniq("in"), customer: cus, status: "paid" }), { created: t + 100 }));
    await deliver(db, stripeEvent("invoice.payment_failed", invoice({ id: uniq("in"), customer: cus, status: "open" }), { created: t }));
    expect((await db.doc(`customers/${uid}`).get()).data()).toMatchObject({ delinquent: false });
  });
});
