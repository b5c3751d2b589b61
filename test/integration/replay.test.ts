/**
 * Replay from the ledger: a customer's record rebuilt from the stored normalized events gives the record the events
 * imply, even after the stored record and snapshots were written by other (older) derivation rules.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { replay } from "../../functions/src/services/replay";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { checkoutSession, price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

beforeEach(async () => {
  await resetFirestore();
});

const DERIVED = ["subscriptionStatus", "plan", "subscriptionId", "entitlements", "supportTier", "stripeCustomerId"] as const;

describe("replay from the ledger", () => {
  it("rebuilds a customer's record from their events (dry run first), with source replay's audit actor", async () => {
    const db = testDb();
    const cus = uniq("cus");
    const sub = uniq("sub");
    const pro = price({ id: "price_pro", lookupKey: "pro", entitlements: "reports" });
    await deliver(db, stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "subscription", customer: cus, clientReferenceId: "u_replay", subscription: sub })));
    await deliver(db, stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "trialing", price: pro })));
    await deliver(db, stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, status: "active", price: pro })));
    const ref = db.doc("customers/u_replay");
    const implied = (await ref.get()).data() ?? {};
    expect(implied).toMatchObject({ subscriptionStatus: "active", plan: "pro", entitlements: ["reports"] });

    // What an older version of the derivation rules left behind: a different record and no snapshots.
    await ref.update({ subscriptionStatus: "trialing", plan: "legacy-plan", entitlements: [], supportTier: "free" });
    await db.doc("customers/u_replay/private/stripe").delete();

    const dry = await replay({ db, graceDays: 3 }, { uid: "u_replay" }, { dryRun: true });
    expect(dry.customers[0]).toMatchObject({ uid: "u_replay", events: 3, changed: true });
    expect(dry.customers[0]?.diff?.after).toMatchObject({ subscriptionStatus: "active", plan: "pro" });
    expect((await ref.get()).get("plan")).toBe("legacy-plan");

    const done = await replay({ db, graceDays: 3 }, { uid: "u_replay" }, { dryRun: false });
    expect(done.customers[0]?.changed).toBe(true);
    const rebuilt = (await ref.get()).data() ?? {};
    for (const f of DERIVED) expect(rebuilt[f], f).toEqual(implied[f]);
    expect(Object.keys((await db.doc("customers/u_replay/private/stripe").get()).get("objects") ?? {}).sort()).toEqual(expect.arrayContaining([sub]));
    const audits = await db.collection("auditLog").where("actor.id", "==", "replay").get();
    expect(audits.size).toBeGreaterThan(0);
    // One live claims job per customer: the replay's change folded into it.
    const claimsJobs = await db.collection("syncJobs").where("target.uid", "==", "u_replay").where("kind", "==", "auth.claims.update").get();
    expect(claimsJobs.size).toBe(1);
    expect(claimsJobs.docs[0]?.get("coalesced")).toBeGreaterThanOrEqual(1);

    // Replaying again changes nothing.
    const again = await replay({ db, graceDays: 3 }, { uid: "u_replay" }, { dryRun: false });
    expect(again.customers[0]).toMatchObject({ changed: false, diff: null });
  });
});
