/**
 * Convergence through the real functions on the emulators: the webhook acks, the ledger trigger applies, a same-second
 * tie plans a revalidation job that the Cloud Tasks emulator runs through `runSyncJob`, which reads the object from the
 * local Stripe stand-in on :4640 (seeded over HTTP, as docs/local-stripe.md shows). And a plan switch delivered out of
 * order ends on the new subscription.
 */
import { getAuth } from "firebase-admin/auth";
import { beforeAll, describe, expect, it } from "vitest";
import { readLocalWebhookSecret } from "../../scripts/lib/localSecret";
import { testDb } from "../support/firestore";
import { until } from "../support/wait";
import { customer, price, signedDelivery, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

const WEBHOOK = "http://127.0.0.1:5001/demo-opsync/us-central1/stripeWebhook";
const STRIPE = "http://127.0.0.1:4640";
const BASIC = price({ id: "price_basic", lookupKey: "basic", entitlements: "basic" });
const PRO = price({ id: "price_pro", lookupKey: "pro", entitlements: "basic,reports" });

describe("convergence on the emulators", () => {
  const db = testDb();
  let secret = "";
  const send = async (event: { id: string }) => {
    const { body, signature } = signedDelivery(event, secret);
    const res = await fetch(WEBHOOK, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body, signal: AbortSignal.timeout(30_000) });
    expect(res.status).toBe(200);
    return until(
      async () => (await db.doc(`stripeEvents/${event.id}`).get()).data(),
      (d) => d !== undefined && d.status !== "received",
    );
  };
  const customerDoc = (uid: string) => db.doc(`customers/${uid}`).get().then((s) => s.data());

  beforeAll(() => {
    secret = readLocalWebhookSecret() ?? "";
    expect(secret).toBeTruthy();
  });

  it("a same-second tie is settled by revalidation from the Stripe API stand-in", async () => {
    const t = Math.floor(Date.now() / 1000) - 600;
    const uid = uniq("user");
    await getAuth().createUser({ uid });
    const cus = uniq("cus");
    const sub = uniq("sub");
    await send(stripeEvent("customer.created", customer({ id: cus, uid }), { created: t - 100 }));
    await send(stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, uid, status: "active", price: BASIC }), { created: t - 50 }));
    const truth = subscription({ id: sub, customer: cus, uid, status: "active", price: PRO });
    const seeded = await fetch(`${STRIPE}/__seed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ objects: [{ ...truth, created: t - 50 }] }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(seeded.status).toBe(200);

    expect(await send(stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, uid, status: "past_due", price: BASIC }), { created: t }))).toMatchObject({ status: "applied" });
    const tie = stripeEvent("customer.subscription.updated", truth, { created: t });
    expect(await send(tie)).toMatchObject({ status: "stale", reason: expect.stringMatching(/same-second tie/) });

    const settled = await until(() => customerDoc(uid), (d) => d?.plan === "pro" && d?.subscriptionStatus === "active");
    expect(settled).toMatchObject({ subscriptionId: sub, subscriptionStatus: "active", plan: "pro", entitlements: ["basic", "reports"], pastDueSince: null });
    const job = (await db.collection("syncJobs").where("kind", "==", "stripe.object.revalidate").where("target.stripeObjectId", "==", sub).get()).docs[0]?.data();
    expect(job).toMatchObject({ status: "succeeded", result: { revalidated: sub, status: "applied" } });
    // The claims follow the settled record.
    const user = await until(() => getAuth().getUser(uid), (u) => u.customClaims?.plan === "pro");
    expect(user.customClaims).toMatchObject({ plan: "pro", entitlements: ["basic", "reports"] });
  });

  it("a plan switch delivered out of order (A deleted first, B created the same second) ends on B", async () => {
    const t = Math.floor(Date.now() / 1000) - 600;
    const uid = uniq("user");
    await getAuth().createUser({ uid });
    const cus = uniq("cus");
    const a = uniq("sub");
    const b = uniq("sub");
    await send(stripeEvent("customer.created", customer({ id: cus, uid }), { created: t - 100 }));
    await send(stripeEvent("customer.subscription.created", subscription({ id: a, customer: cus, uid, status: "active", price: BASIC }), { created: t - 50 }));
    expect(await send(stripeEvent("customer.subscription.deleted", subscription({ id: a, customer: cus, uid, status: "canceled", price: BASIC }), { created: t }))).toMatchObject({ status: "applied" });
    const created = stripeEvent("customer.subscription.created", subscription({ id: b, customer: cus, uid, status: "active", price: PRO }), { created: t });
    expect(await send(created)).toMatchObject({ status: "applied" });
    expect(await customerDoc(uid)).toMatchObject({ subscriptionId: b, plan: "pro", subscriptionStatus: "active", entitlements: ["basic", "reports"] });
    const kinds = (await db.collection("syncJobs").where("cause.eventId", "==", created.id).get()).docs.map((d) => d.get("kind") as string).sort();
    expect(kinds).toEqual(["auth.claims.update", "crm.contact.upsert", "crm.deal.upsert"]);
  });
});
