/**
 * The sync queue on the emulators: a Stripe delivery writes jobs, the Firestore trigger dispatches them through
 * the Cloud Tasks emulator to `runSyncJob`, which talks to the local HubSpot / Slack stand-ins and to the Auth
 * emulator for custom claims.
 */
import { getAuth } from "firebase-admin/auth";
import { beforeAll, describe, expect, it } from "vitest";
import { readLocalWebhookSecret, ensureLocalSecrets } from "../../scripts/lib/localSecret";
import { testDb } from "../support/firestore";
import { until } from "../support/wait";
import { customer, dispute, paymentIntent, price, signedDelivery, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

const URL = "http://127.0.0.1:5001/demo-opsync/us-central1/stripeWebhook";
const HUBSPOT = "http://127.0.0.1:4610";


describe("sync queue on the emulators", () => {
  const db = testDb();
  let secret = "";
  let hubspotToken = "";
  const send = async (event: object) => {
    const { body, signature } = signedDelivery(event, secret);
    const res = await fetch(URL, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body, signal: AbortSignal.timeout(30_000) });
    expect(res.status).toBe(200);
  };
  const hubspotGet = async (path: string) => {
    const res = await fetch(`${HUBSPOT}${path}`, { headers: { authorization: `Bearer ${hubspotToken}` }, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.json()) as { id?: string; properties?: Record<string, string> } };
  };

  beforeAll(() => {
    secret = readLocalWebhookSecret() ?? "";
    hubspotToken = ensureLocalSecrets({}).get("HUBSPOT_TOKEN") ?? "";
    expect(secret && hubspotToken).toBeTruthy();
  });

  it("subscription events reach HubSpot (contact + deal) and Auth custom claims, merged with claims opsync does not own", async () => {
    const uid = uniq("user");
    await getAuth().createUser({ uid, email: `${uid}@example.com` });
    await getAuth().setCustomUserClaims(uid, { admin: true });
    const cus = uniq("cus");
    await send(stripeEvent("customer.created", customer({ id: cus, uid, email: `${uid}@example.com`, name: "Ada Lovelace" })));
    await send(stripeEvent("customer.subscription.created", subscription({ id: uniq("sub"), customer: cus, status: "active", price: price({ id: "price_pro", lookupKey: "pro", entitlements: "reports,export" }) })));

    const doc = await until(
      async () => (await db.doc(`customers/${uid}`).get()).data(),
      (d) => Boolean(d?.crmContactId) && d?.sync?.claims?.status === "synced" && d?.sync?.crm?.status === "synced",
    );
    expect(doc?.sync).toMatchObject({ crm: { status: "synced" }, claims: { status: "synced" } });
    const contact = await hubspotGet(`/crm/v3/objects/contacts/${String(doc?.crmContactId)}?properties=opsync_uid,opsync_plan,email`);
    expect(contact).toMatchObject({ status: 200, body: { properties: { opsync_uid: uid, opsync_plan: "pro" } } });
    const user = await getAuth().getUser(uid);
    expect(user.customClaims).toMatchObject({ admin: true, entitlements: ["export", "reports"], plan: "pro" });
  });

  it("a dispute on a marketplace order opens one ticket, stores its id on the order, and posts one Slack message", async () => {
    const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    const pi = uniq("pi");
    await send(stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", metadata: meta })));
    await send(stripeEvent("charge.dispute.created", dispute({ id: uniq("dp"), charge: uniq("ch"), paymentIntent: pi, status: "needs_response" })));
    const order = await until(
      async () => (await db.doc(`orders/${meta.orderId}`).get()).data(),
      (o) => Boolean(o?.tickets && Object.keys(o.tickets).length === 1 && o?.crmDealId),
    );
    const [ticket] = Object.values(order?.tickets ?? {}) as Array<{ ticketId: string }>;
    expect((await hubspotGet(`/crm/v3/objects/tickets/${ticket?.ticketId}`)).status).toBe(200);
    const notified = await until(
      async () => (await db.collection("syncJobs").where("kind", "==", "notify.slack").where("target.ticketRequestId", "==", Object.keys(order?.tickets ?? {})[0] ?? "").get()).docs.map((d) => d.data()),
      (jobs) => jobs.length === 1 && jobs[0]?.status === "succeeded",
    );
    expect(notified).toHaveLength(1);
    expect(notified[0]).toMatchObject({ status: "succeeded", attempts: expect.any(Number) });
  });
});
