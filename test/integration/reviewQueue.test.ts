/** Events nobody can attribute are held for review and applied once the mapping appears. */
import { beforeEach, describe, expect, it } from "vitest";
import { releaseHeldEventsForCustomer } from "../../functions/src/store/heldEvents";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { jobs, ledger } from "../support/read";
import { checkoutSession, customer, invoice, price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

const db = testDb();

describe("review queue", () => {
  beforeEach(resetFirestore);

  it("unmapped customer -> needs_review with the Stripe ids; applied in order after the mapping appears", async () => {
    const cus = uniq("cus");
    const sub = uniq("sub");
    const t = Math.floor(Date.now() / 1000);
    const subEvent = stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "active", price: price({ id: "price_pro", lookupKey: "pro", entitlements: "reports" }) }), { created: t });
    const paid = stripeEvent("invoice.paid", invoice({ id: uniq("in"), customer: cus, subscription: sub, status: "paid" }), { created: t + 1 });
    for (const e of [paid, subEvent]) {
      const res = await deliver(db, e);
      expect(res).toMatchObject({ status: 200, body: { status: "needs_review" } });
    }
    expect((await db.doc(`reviewQueue/${subEvent.id}`).get()).data()).toMatchObject({
      reason: "unmapped_customer",
      status: "open",
      stripeCustomerId: cus,
      stripeObjectId: sub,
      eventType: "customer.subscription.created",
    });
    expect(await jobs(db)).toEqual([]);
    // A duplicate delivery of a held event changes nothing.
    expect((await deliver(db, paid)).body).toMatchObject({ status: "needs_review", duplicate: true });

    // The user checks out: client_reference_id gives the mapping.
    const uid = uniq("user");
    await deliver(db, stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "subscription", customer: cus, clientReferenceId: uid, subscription: sub }), { created: t + 2 }));
    const released = await releaseHeldEventsForCustomer(db, cus, { graceDays: 3 });
    expect(released.map((r) => r.status)).toEqual(["applied", "applied"]);

    expect((await db.doc(`customers/${uid}`).get()).data()).toMatchObject({ subscriptionStatus: "active", plan: "pro", entitlements: ["reports"] });
    expect((await ledger(db, subEvent.id))?.status).toBe("applied");
    expect((await db.doc(`reviewQueue/${subEvent.id}`).get()).data()).toMatchObject({ status: "resolved" });
    expect((await jobs(db, { kind: "auth.claims.update" })).length).toBe(1);
    // Releasing again is a no-op.
    expect(await releaseHeldEventsForCustomer(db, cus, { graceDays: 3 })).toEqual([]);
  });

  it("a uid in metadata that contradicts the stored mapping goes to review instead of moving the customer", async () => {
    const cus = uniq("cus");
    const uid = uniq("user");
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })));
    const other = stripeEvent("customer.updated", customer({ id: cus, uid: uniq("intruder") }));
    expect((await deliver(db, other)).body.status).toBe("needs_review");
    expect((await db.doc(`reviewQueue/${other.id}`).get()).data()).toMatchObject({ reason: "uid_conflict" });
    expect((await db.doc(`stripeCustomers/${cus}`).get()).data()).toMatchObject({ uid });
  });

  it("an event with no customer and no order (guest payment) is acknowledged and held, not failed", async () => {
    const e = stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment" }));
    expect(await deliver(db, e)).toMatchObject({ status: 200, body: { status: "needs_review" } });
  });
});
