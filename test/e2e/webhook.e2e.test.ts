/**
 * End to end on the Firebase emulators (npm run test:e2e): signed HTTP deliveries to the real functions
 * emulator, the real Firestore emulator behind it, and the Firestore trigger firing for real.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readLocalWebhookSecret } from "../../scripts/lib/localSecret";
import { testDb } from "../support/firestore";
import { until } from "../support/wait";
import { checkoutSession, customer, price, signedDelivery, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

const URL = "http://127.0.0.1:5001/demo-opsync/us-central1/stripeWebhook";

async function post(body: string, headers: Record<string, string>, method = "POST") {
  const res = await fetch(URL, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(method === "POST" ? { body } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, body: json };
}


describe("stripeWebhook on the Functions emulator", () => {
  let secret = "";
  const db = testDb();
  const send = (event: object) => {
    const { body, signature } = signedDelivery(event, secret);
    return post(body, { "stripe-signature": signature });
  };

  beforeAll(() => {
    const s = readLocalWebhookSecret();
    if (!s) throw new Error("functions/.secret.local has no STRIPE_WEBHOOK_SECRET (scripts/emulators.ts creates it)");
    secret = s;
  });

  /** The ledger trigger applies a received entry after the answer; wait for its outcome. */
  const settled = (eventId: string) =>
    until(
      async () => (await db.doc(`stripeEvents/${eventId}`).get()).data(),
      (d) => d !== undefined && d.status !== "received",
    );

  it("answers 200 `received` once the ledger entry is written; the ledger trigger then applies it", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    const event = stripeEvent("customer.created", customer({ id: cus, uid, email: "e2e@example.com" }));
    const res = await send(event);
    expect(res).toMatchObject({ status: 200, body: { received: true, status: "received", duplicate: false } });
    const ledger = await settled(event.id);
    expect(ledger).toMatchObject({ status: "applied", source: "webhook" });
    expect(ledger?.appliedAt.toMillis()).toBeGreaterThanOrEqual(ledger?.receivedAt.toMillis());
    expect((await db.doc(`customers/${uid}`).get()).data()).toMatchObject({ email: "e2e@example.com", stripeCustomerId: cus });
    // A redelivery after the apply answers the recorded status.
    expect((await send(event)).body).toMatchObject({ status: "applied", duplicate: true });
  });

  it("answers 405 / 400 for bad requests and writes nothing", async () => {
    expect((await post("", {}, "GET")).status).toBe(405);
    const event = stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("user") }));
    const { body } = signedDelivery(event, "whsec_not_ours");
    const forged = await post(body, { "stripe-signature": signedDelivery(event, "whsec_not_ours").signature });
    expect(forged.status).toBe(400);
    expect((await post(body, {})).status).toBe(400);
    expect((await db.doc(`stripeEvents/${event.id}`).get()).exists).toBe(false);
  });

  it("refuses an oversized body with 413 and a live-mode event with 400 on this demo project", async () => {
    const big = stripeEvent("customer.created", { ...customer({ id: uniq("cus"), uid: uniq("user") }), description: "x".repeat(300_000) });
    const oversized = signedDelivery(big, secret);
    expect((await post(oversized.body, { "stripe-signature": oversized.signature })).status).toBe(413);
    const live = stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("user") }), { livemode: true });
    const res = await send(live);
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toMatch(/live-mode event .* refused/);
    for (const e of [big, live]) expect((await db.doc(`stripeEvents/${e.id}`).get()).exists).toBe(false);
  });

  it("10 concurrent HTTP deliveries of one event apply it once", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    const first = stripeEvent("customer.created", customer({ id: cus, uid }));
    await send(first);
    await settled(first.id);
    const event = stripeEvent("customer.subscription.created", subscription({ id: uniq("sub"), customer: cus, status: "active", price: price({ id: "price_pro", entitlements: "x" }) }));
    const results = await Promise.all(Array.from({ length: 10 }, () => send(event)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    expect(await settled(event.id)).toMatchObject({ status: "applied" });
    const planned = await db.collection("syncJobs").where("cause.eventId", "==", event.id).get();
    expect(planned.size).toBe(3);
  });

  it("the onStripeCustomerMapped trigger applies held events once the mapping appears", async () => {
    const cus = uniq("cus");
    const sub = uniq("sub");
    const held = stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "active", price: price({ id: "price_pro", lookupKey: "pro", entitlements: "reports" }) }));
    expect((await send(held)).body.status).toBe("received");
    expect(await settled(held.id)).toMatchObject({ status: "needs_review" });
    const uid = uniq("user");
    await send(stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "subscription", customer: cus, clientReferenceId: uid, subscription: sub })));
    const ledger = await until(
      async () => (await db.doc(`stripeEvents/${held.id}`).get()).data(),
      (d) => d?.status === "applied",
    );
    expect(ledger?.status).toBe("applied");
    expect((await db.doc(`customers/${uid}`).get()).data()).toMatchObject({ subscriptionStatus: "active", plan: "pro" });
  });
});
