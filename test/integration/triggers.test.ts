/**
 * The deployed trigger modules, run in-process with firebase-functions-test against the Firestore emulator:
 * proves the wiring (params, lazy Firestore, the store call) without the Functions emulator.
 */
import functionsTest from "firebase-functions-test";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { onReviewItemCreated } from "../../functions/src/triggers/onReviewItemCreated";
import { onStripeCustomerMapped } from "../../functions/src/triggers/onStripeCustomerMapped";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { ledger } from "../support/read";
import { price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

const fft = functionsTest({ projectId: "demo-opsync" });
const db = testDb();

describe("onStripeCustomerMapped (firebase-functions-test)", () => {
  beforeEach(resetFirestore);
  afterAll(() => fft.cleanup());

  it("applies the customer's held events when its mapping document is created", async () => {
    const cus = uniq("cus");
    const held = stripeEvent("customer.subscription.created", subscription({ id: uniq("sub"), customer: cus, status: "active", price: price({ id: "price_pro", entitlements: "reports" }) }));
    expect((await deliver(db, held)).body.status).toBe("needs_review");

    const uid = uniq("user");
    await db.doc(`stripeCustomers/${cus}`).set({ stripeCustomerId: cus, uid, source: "manual:test", createdAt: new Date() });
    const snapshot = fft.firestore.makeDocumentSnapshot({ stripeCustomerId: cus, uid }, `stripeCustomers/${cus}`);
    await fft.wrap(onStripeCustomerMapped)({ data: snapshot, params: { stripeCustomerId: cus } });

    expect((await ledger(db, held.id))?.status).toBe("applied");
    expect((await db.doc(`customers/${uid}`).get()).data()).toMatchObject({ subscriptionStatus: "active", entitlements: ["reports"] });
    expect((await db.doc(`reviewQueue/${held.id}`).get()).data()).toMatchObject({ status: "resolved" });
  });
});

describe("onReviewItemCreated (firebase-functions-test)", () => {
  beforeEach(resetFirestore);
  // Deployed, the param comes from functions/.env.<project>; here from the environment, as the runtime reads it.
  const previous = process.env.NOTICE_PERSONAL_DATA;
  beforeAll(() => {
    process.env.NOTICE_PERSONAL_DATA = "none";
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.NOTICE_PERSONAL_DATA;
    else process.env.NOTICE_PERSONAL_DATA = previous;
  });

  const notices = async () => (await db.collection("syncJobs").where("kind", "==", "notify.slack").get()).docs.map((d) => d.data());

  it("a paying customer held for review and a refund flag each get ONE Slack notice; other review items none", async () => {
    const cus = uniq("cus");
    const paid = stripeEvent("customer.subscription.created", subscription({ id: uniq("sub"), customer: cus, status: "active", price: price({ id: "price_pro", entitlements: "reports" }) }));
    expect((await deliver(db, paid)).body.status).toBe("needs_review");
    const held = (await db.doc(`reviewQueue/${paid.id}`).get()).data() ?? {};
    const run = (id: string, data: Record<string, unknown>) => fft.wrap(onReviewItemCreated)({ data: fft.firestore.makeDocumentSnapshot(data, `reviewQueue/${id}`), params: { reviewId: id } });
    await run(paid.id, held);
    await run(paid.id, held); // a second delivery of the trigger
    await run("refund_ch_1", { reason: "refund_requested", chargeId: "ch_1", orderId: null, requestedBy: "u-support", status: "open" });
    await run("evt_conflict", { reason: "uid_conflict", status: "open" });
    const texts = (await notices()).map((n) => String(n.text));
    expect(texts).toHaveLength(2);
    expect(texts).toEqual(expect.arrayContaining([expect.stringContaining(`paying customer is held for review: Stripe customer ${cus}`), expect.stringContaining("Refund flagged for ch_1 by u-support")]));
    // Redacted like every notice: no email, no amount.
    expect(texts.join(" ")).not.toMatch(/@|amount/);
  });
});
