/**
 * The convergence scenarios through the real functions on the emulators (signed deliveries → ledger trigger → apply →
 * sync jobs → Cloud Tasks → runSyncJob → Auth emulator): a late refund after a dispute, past-due grace that ends with no
 * further event (the deployed `sweepLedger`, invoked as Cloud Scheduler invokes it), claims that end as the record says
 * when changes race their jobs, 20 concurrent copies of one event plus the ledger trigger delivered twice, and a refund
 * that arrived before its payment released by `onStripeObjectLinked`.
 */
import { getAuth } from "firebase-admin/auth";
import { beforeAll, describe, expect, it } from "vitest";
import { readLocalWebhookSecret } from "../../scripts/lib/localSecret";
import { testDb } from "../support/firestore";
import { until } from "../support/wait";
import { customer, dispute, paymentIntent, price, refund, signedDelivery, stripeEvent, subscription, uniq } from "../support/stripeFixtures";

const FUNCTIONS = "http://127.0.0.1:5001";
const PROJECT = "demo-opsync";
const WEBHOOK = `${FUNCTIONS}/${PROJECT}/us-central1/stripeWebhook`;
const PRO = price({ id: "price_pro", lookupKey: "pro", entitlements: "basic,reports", supportTier: "priority" });
const BASIC = price({ id: "price_basic", lookupKey: "basic", entitlements: "basic" });
const DAY = 86_400;

describe("convergence scenarios on the emulators", () => {
  const db = testDb();
  let secret = "";
  const post = async (event: { id: string }) => {
    const { body, signature } = signedDelivery(event, secret);
    const res = await fetch(WEBHOOK, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body, signal: AbortSignal.timeout(120_000) });
    return { status: res.status, body: (await res.json()) as { duplicate?: boolean; status?: string } };
  };
  /**
   * A background or scheduled function invoked as its trigger would (the emulator's route for it). Its key carries
   * the emulator's trigger generation (`<region>-<name>-<n>`), so the first n it knows is used.
   */
  const invokeTrigger = async (name: string, init: RequestInit): Promise<Response> => {
    for (let generation = 0; generation < 10; generation++) {
      const res = await fetch(`${FUNCTIONS}/functions/projects/${PROJECT}/triggers/us-central1-${name}-${generation}`, { ...init, signal: AbortSignal.timeout(120_000) });
      if (res.status !== 404) return res;
    }
    throw new Error(`the functions emulator knows no trigger us-central1-${name}-<n>`);
  };
  const ledger = (id: string) => db.doc(`stripeEvents/${id}`).get().then((s) => s.data());
  const settled = (id: string) => until(() => ledger(id), (d) => d !== undefined && d.status !== "received", 60_000);
  const send = async (event: { id: string }) => {
    expect((await post(event)).status).toBe(200);
    return settled(event.id);
  };
  const read = (path: string) => db.doc(path).get().then((s) => s.data());
  /** Every sync job of a customer finished (succeeded or dead), so what Auth holds is final. */
  const jobsIdle = (uid: string) =>
    until(
      async () => (await db.collection("syncJobs").where("target.uid", "==", uid).get()).docs.map((d) => String(d.get("status"))),
      (statuses) => statuses.length > 0 && statuses.every((s) => s === "succeeded" || s === "dead"),
      120_000,
      500,
    );

  beforeAll(() => {
    secret = readLocalWebhookSecret() ?? "";
    expect(secret).toBeTruthy();
  });

  it("a refund Stripe redelivers after a later dispute still counts: amountRefunded and the refund's status", { timeout: 300_000 }, async () => {
    const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    const pi = uniq("pi");
    const ch = uniq("ch");
    const dp = uniq("dp");
    const re = uniq("re");
    const t = Math.floor(Date.now() / 1000) - 600;
    await send(stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: 5000, metadata: meta }), { created: t }));
    await send(stripeEvent("charge.dispute.created", dispute({ id: dp, charge: ch, paymentIntent: pi, amount: 5000, status: "needs_response", metadata: meta }), { created: t + 20 }));
    await send(stripeEvent("charge.dispute.closed", dispute({ id: dp, charge: ch, paymentIntent: pi, amount: 5000, status: "won", metadata: meta }), { created: t + 30 }));
    // The refund happened before the dispute; its (re)delivery arrives last.
    expect(await send(stripeEvent("refund.created", refund({ id: re, charge: ch, paymentIntent: pi, amount: 1500, status: "succeeded" }), { created: t + 10 }))).toMatchObject({ status: "applied", orderId: meta.orderId });
    expect(await read(`orders/${meta.orderId}`)).toMatchObject({
      status: "partially_refunded", amountRefunded: 1500, refunds: { [re]: { amount: 1500, status: "succeeded" } }, dispute: { id: dp, status: "won" },
    });
  });

  it("past-due grace ends with no further event: the deployed sweepLedger drops the entitlements and the claims follow", { timeout: 480_000 }, async () => {
    const uid = uniq("user");
    await getAuth().createUser({ uid });
    const cus = uniq("cus");
    const sub = uniq("sub");
    const now = Math.floor(Date.now() / 1000);
    // Stripe delivers events late (retries for days): this past_due is 3 days old less GRACE_LEFT seconds, so its
    // 3-day grace (ENTITLEMENT_GRACE_DAYS default) ends that long from now — long enough for a loaded machine to
    // apply it and sync the claims first. No event follows.
    const GRACE_LEFT = 150;
    const pastDueAt = now - 3 * DAY + GRACE_LEFT;
    await send(stripeEvent("customer.created", customer({ id: cus, uid }), { created: pastDueAt - 200 }));
    await send(stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, uid, status: "active", price: PRO }), { created: pastDueAt - 100 }));
    await send(stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, uid, status: "past_due", price: PRO }), { created: pastDueAt }));
    const inGrace = await read(`customers/${uid}`);
    expect(inGrace).toMatchObject({ subscriptionStatus: "past_due", entitlements: ["basic", "reports"] });
    expect(inGrace?.entitlementsGraceUntil?.toMillis()).toBe((pastDueAt + 3 * DAY) * 1000);
    await jobsIdle(uid);
    expect((await getAuth().getUser(uid)).customClaims).toMatchObject({ entitlements: ["basic", "reports"], plan: "pro" });

    // Before the deadline the sweep changes nothing; after it, the record loses its entitlements.
    const sweep = () => invokeTrigger("sweepLedger", { method: "POST", headers: { "x-cloudscheduler-jobname": "e2e" } });
    expect((await sweep()).status).toBe(200);
    expect(await read(`customers/${uid}`)).toMatchObject({ entitlements: ["basic", "reports"] });
    await until(async () => Date.now(), (ms) => ms > (pastDueAt + 3 * DAY + 1) * 1000, (GRACE_LEFT + 10) * 1000, 1000);
    expect((await sweep()).status).toBe(200);
    expect(await read(`customers/${uid}`)).toMatchObject({ subscriptionStatus: "past_due", entitlements: [], entitlementsGraceUntil: null, supportTier: "free" });
    const user = await until(() => getAuth().getUser(uid), (u) => Array.isArray(u.customClaims?.entitlements) && u.customClaims.entitlements.length === 0, 90_000);
    expect(user.customClaims).toMatchObject({ entitlements: [], plan: "pro", supportTier: "free" });
  });

  it("changes racing their claims jobs: the Auth claims end as the canonical record says", { timeout: 240_000 }, async () => {
    const uid = uniq("user");
    await getAuth().createUser({ uid });
    const cus = uniq("cus");
    const sub = uniq("sub");
    const t = Math.floor(Date.now() / 1000) - 600;
    await send(stripeEvent("customer.created", customer({ id: cus, uid }), { created: t - 100 }));
    // Upgrade, downgrade and cancel, delivered at once in reverse order: each apply plans claims work while the
    // previous claims run may still be going.
    const events = [
      stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, uid, status: "active", price: BASIC }), { created: t }),
      stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, uid, status: "active", price: PRO }), { created: t + 10 }),
      stripeEvent("customer.subscription.deleted", subscription({ id: sub, customer: cus, uid, status: "canceled", price: PRO }), { created: t + 20 }),
    ];
    for (const e of [...events].reverse()) {
      expect((await post(e)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
    }
    for (const e of events) await settled(e.id);
    const record = await until(() => read(`customers/${uid}`), (d) => d?.subscriptionStatus === "canceled");
    expect(record).toMatchObject({ subscriptionStatus: "canceled", entitlements: [], supportTier: "free" });
    await jobsIdle(uid);
    const user = await getAuth().getUser(uid);
    expect(user.customClaims).toMatchObject({ entitlements: record?.entitlements, plan: record?.plan, supportTier: record?.supportTier });
  });

  it("20 concurrent copies of one event and the ledger trigger delivered twice more: one set of effects", { timeout: 360_000 }, async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    await send(stripeEvent("customer.created", customer({ id: cus, uid })));
    const event = stripeEvent("customer.subscription.created", subscription({ id: uniq("sub"), customer: cus, uid, status: "active", price: PRO }));
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(event)));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    const first = await settled(event.id);
    expect(first).toMatchObject({ status: "applied" });

    // The same Firestore event (document created, status received) delivered to the deployed trigger again, as a
    // retried delivery would be; each answers after its handler ran.
    const name = `projects/${PROJECT}/databases/(default)/documents/stripeEvents/${event.id}`;
    const cloudEvent = {
      specversion: "1.0", id: uniq("ce"), type: "google.cloud.firestore.document.v1.created", source: `//firestore.googleapis.com/projects/${PROJECT}/databases/(default)`,
      time: new Date().toISOString(), datacontenttype: "application/json", project: PROJECT, database: "(default)", namespace: "(default)", document: `stripeEvents/${event.id}`,
      data: { value: { name, fields: { status: { stringValue: "received" } }, createTime: new Date().toISOString(), updateTime: new Date().toISOString() } },
    };
    for (let i = 0; i < 2; i++) {
      const res = await invokeTrigger("onStripeEventRecorded", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(cloudEvent) });
      expect(res.status).toBe(200);
    }
    expect((await ledger(event.id))?.appliedAt.toMillis()).toBe(first?.appliedAt.toMillis());
    const planned = await db.collection("syncJobs").where("cause.eventId", "==", event.id).get();
    expect(planned.docs.map((d) => d.get("kind") as string).sort()).toEqual(["auth.claims.update", "crm.contact.upsert", "crm.deal.upsert"]);
    const audits = await db.collection("auditLog").where("cause.eventId", "==", event.id).get();
    expect(audits.docs.filter((d) => d.get("target") === `customers/${uid}`)).toHaveLength(1);
    expect(await read(`customers/${uid}`)).toMatchObject({ claimsVersion: 1, entitlements: ["basic", "reports"] });
  });

  it("a refund that arrived before its payment (no order id, no customer) is applied once the payment names its order", { timeout: 300_000 }, async () => {
    const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    const pi = uniq("pi");
    const ch = uniq("ch");
    const t = Math.floor(Date.now() / 1000) - 600;
    const early = stripeEvent("refund.created", refund({ id: uniq("re"), charge: ch, paymentIntent: pi, amount: 2000 }), { created: t + 30 });
    expect(await send(early)).toMatchObject({ status: "needs_review" });
    await send(stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: 5000, metadata: meta }), { created: t }));
    expect(await until(() => ledger(early.id), (d) => d?.status === "applied", 60_000)).toMatchObject({ status: "applied", orderId: meta.orderId });
    expect(await read(`orders/${meta.orderId}`)).toMatchObject({ status: "partially_refunded", amountRefunded: 2000 });
    expect(await read(`reviewQueue/${early.id}`)).toMatchObject({ status: "resolved" });
  });
});
