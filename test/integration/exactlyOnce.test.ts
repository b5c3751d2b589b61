/** At-least-once delivery in, exactly-once effect out. */
import { beforeEach, describe, expect, it } from "vitest";
import { deliver } from "../support/deliver";
import { dumpAll, resetFirestore, testDb } from "../support/firestore";
import { audits, jobs } from "../support/read";
import { customer, paymentIntent, price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

const db = testDb();

/** Everything except the volatile server clock fields. */
async function snapshot() {
  const all = await dumpAll(db);
  return JSON.stringify(all, (key, value: unknown) => (key === "updatedAt" || key === "at" ? undefined : value));
}

describe("exactly once", () => {
  beforeEach(resetFirestore);

  async function setup() {
    const uid = uniq("user");
    const cus = uniq("cus");
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })));
    const event = stripeEvent(
      "customer.subscription.created",
      subscription({ id: uniq("sub"), customer: cus, status: "active", price: price({ id: "price_pro", lookupKey: "pro", entitlements: "a,b" }) }),
    );
    return { uid, event };
  }

  it("50 sequential replays of one event: one state change, one set of jobs, one set of audit entries", async () => {
    const { event } = await setup();
    const first = await deliver(db, event);
    expect(first.body).toMatchObject({ status: "applied", duplicate: false });
    const after = await snapshot();
    const jobCount = (await jobs(db, { eventId: event.id })).length;
    const auditCount = (await audits(db, event.id)).length;
    expect(jobCount).toBe(3);
    for (let i = 0; i < 50; i++) {
      const res = await deliver(db, event);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: "applied", duplicate: true });
    }
    expect(await snapshot()).toBe(after);
    expect((await jobs(db, { eventId: event.id })).length).toBe(jobCount);
    expect((await audits(db, event.id)).length).toBe(auditCount);
  });

  it("20 concurrent copies of one event: applied once", async () => {
    const { uid, event } = await setup();
    const before = await jobs(db);
    const results = await Promise.all(Array.from({ length: 20 }, () => deliver(db, event)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    // Three jobs planned once; the contact job folds into the customer's live one (domain/coalesce.ts), so only
    // the other two are new documents.
    expect(((await db.doc(`stripeEvents/${event.id}`).get()).get("jobIds") as string[]).length).toBe(3);
    expect((await jobs(db)).length - before.length).toBe(2);
    expect((await audits(db, event.id)).filter((a) => a.target === `customers/${uid}`)).toHaveLength(1);
    const doc = (await db.doc(`customers/${uid}`).get()).data();
    expect(doc).toMatchObject({ subscriptionStatus: "active", entitlements: ["a", "b"] });
  });

  it("20 concurrent copies of a marketplace payment: one order transition, one deal job", async () => {
    const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    const event = stripeEvent("payment_intent.succeeded", paymentIntent({ id: uniq("pi"), status: "succeeded", metadata: meta }));
    const results = await Promise.all(Array.from({ length: 20 }, () => deliver(db, event)));
    expect(results.filter((r) => r.status === 200 && r.body.duplicate === false)).toHaveLength(1);
    const order = (await db.doc(`orders/${meta.orderId}`).get()).data();
    expect(order?.history).toHaveLength(1);
    expect(await jobs(db, { kind: "crm.deal.upsert" })).toHaveLength(1);
  });

  it("different events for one customer delivered concurrently all apply (contention is retried, not lost)", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })));
    const events = Array.from({ length: 10 }, (_, i) =>
      stripeEvent("payment_intent.succeeded", paymentIntent({ id: `pi_concurrent_${i}_${uniq("x")}`, customer: cus, status: "succeeded", amount: 100 + i })),
    );
    const results = await Promise.all(events.map((e) => deliver(db, e)));
    expect(results.map((r) => r.body.status)).toEqual(Array(10).fill("applied"));
    const billing = (await db.doc(`customers/${uid}/private/billing`).get()).data();
    expect(Object.keys(billing?.payments ?? {})).toHaveLength(10);
  });
});
