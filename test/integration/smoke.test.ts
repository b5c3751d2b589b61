import { beforeEach, describe, expect, it } from "vitest";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { checkoutSession, price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

describe("smoke", () => {
  const db = testDb();
  beforeEach(resetFirestore);
  it("checkout then subscription creates the canonical record", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    const sub = uniq("sub");
    const r1 = await deliver(db, stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "subscription", customer: cus, clientReferenceId: uid, subscription: sub })));
    expect(r1.status).toBe(200);
    const r2 = await deliver(db, stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "active", price: price({ id: "price_pro", lookupKey: "pro", entitlements: "reports,export" }) })));
    expect(r2.body).toMatchObject({ status: "applied" });
    const doc = (await db.doc(`customers/${uid}`).get()).data();
    expect(doc).toMatchObject({ plan: "pro", subscriptionStatus: "active", entitlements: ["export", "reports"], stripeCustomerId: cus });
  });
});
