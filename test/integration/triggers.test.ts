/**
 * The deployed trigger modules, run in-process with firebase-functions-test against the Firestore emulator:
 * proves the wiring (params, lazy Firestore, the store call) without the Functions emulator.
 */
import functionsTest from "firebase-functions-test";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
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
