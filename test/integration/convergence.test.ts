/**
 * Convergence on Stripe's truth, on the Firestore emulator: out-of-order plan switches, same-second ties settled by
 * revalidation against the local Stripe stand-in, late refunds, grace that ends with no further event, claims jobs
 * finishing in the wrong order, concurrent copies, and ledger entries the trigger never applied.
 */
import type { Timestamp } from "firebase-admin/firestore";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { normalizeEvent, stripeEventEnvelopeSchema } from "../../functions/src/domain/normalize";
import { STRIPE_API_VERSION } from "../../functions/src/domain/stripeVersion";
import { expireGrace, sweepLedger } from "../../functions/src/services/ledgerSweep";
import { runSyncJob } from "../../functions/src/services/syncRunner";
import { MemoryClaims, MemoryCrm, MemoryHelpdesk } from "../fakes/memorySinks";
import type { ClaimsPort } from "../../functions/src/sinks/ports";
import { stripeEventsClient } from "../../functions/src/sinks/stripeApi";
import { applyRecordedEvent, recordEvent } from "../../functions/src/store/ingest";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { audits, data, jobs, ledger } from "../support/read";
import { charge, customer, dispute, paymentIntent, price, refund, stripeEvent, subscription, uniq } from "../support/stripeFixtures";
import { harness } from "../support/syncHarness";
import { startStripeServer, type StripeServer } from "../vendors/stripeServer";

const db = testDb();
const KEY = "sk_test_convergence_0123456789";
const BASIC = price({ id: "price_basic", lookupKey: "basic", entitlements: "basic" });
const PRO = price({ id: "price_pro", lookupKey: "pro", entitlements: "basic,reports", supportTier: "priority" });
let stripe: StripeServer;

function sinks(claims: ClaimsPort = new MemoryClaims()) {
  return {
    crm: new MemoryCrm(),
    helpdesk: new MemoryHelpdesk(),
    claims,
    notify: null,
    stripe: stripeEventsClient({ secretKey: KEY, host: stripe.host, port: stripe.port, protocol: "http", maxNetworkRetries: 0 }),
  };
}

async function newCustomer(created: number) {
  const uid = uniq("user");
  const cus = uniq("cus");
  await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid }), { created }));
  return { uid, cus };
}

const nowSec = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  stripe = await startStripeServer({ secretKey: KEY });
});
afterAll(async () => {
  await stripe.close();
});
beforeEach(async () => {
  await resetFirestore();
  stripe.reset();
});

describe("convergence", () => {
  for (const variant of ["same second", "B one second older"] as const) {
    it(`plan switch delivered out of order (A deleted before B created, ${variant}): the customer is on B`, async () => {
      const t = nowSec() - 600;
      const { uid, cus } = await newCustomer(t - 100);
      const a = uniq("sub");
      const b = uniq("sub");
      await deliver(db, stripeEvent("customer.subscription.created", subscription({ id: a, customer: cus, uid, status: "active", price: BASIC }), { created: t - 50 }));
      const deleted = stripeEvent("customer.subscription.deleted", subscription({ id: a, customer: cus, uid, status: "canceled", price: BASIC }), { created: t });
      const created = stripeEvent("customer.subscription.created", subscription({ id: b, customer: cus, uid, status: "active", price: PRO }), { created: variant === "same second" ? t : t - 1 });
      expect((await deliver(db, deleted)).body.status).toBe("applied");
      expect(await data(db, `customers/${uid}`)).toMatchObject({ entitlements: [], subscriptionStatus: "canceled" });
      expect((await deliver(db, created)).body.status).toBe("applied");
      expect(await data(db, `customers/${uid}`)).toMatchObject({ subscriptionId: b, plan: "pro", subscriptionStatus: "active", entitlements: ["basic", "reports"], supportTier: "priority" });
      const planned = await jobs(db, { eventId: created.id });
      expect(planned.map((j) => j.kind).sort()).toEqual(["auth.claims.update", "crm.contact.upsert", "crm.deal.upsert"]);
      expect(planned.find((j) => j.kind === "crm.deal.upsert")?.target).toMatchObject({ uid, subscriptionId: b });
    });
  }

  it("same-second tie (past_due / active): the second is stale with a revalidation job; the job makes the record Stripe's", async () => {
    const t = nowSec() - 600;
    const { uid, cus } = await newCustomer(t - 100);
    const sub = uniq("sub");
    await deliver(db, stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, uid, status: "active", price: BASIC }), { created: t - 50 }));
    const pastDue = stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, uid, status: "past_due", price: BASIC }), { created: t });
    const truth = subscription({ id: sub, customer: cus, uid, status: "active", price: PRO });
    const active = stripeEvent("customer.subscription.updated", truth, { created: t });
    expect((await deliver(db, pastDue)).body.status).toBe("applied");
    const tie = await deliver(db, active);
    expect(tie.body.status).toBe("stale");
    expect((await ledger(db, active.id))?.reason).toMatch(/same-second tie/);
    const [job] = await jobs(db, { kind: "stripe.object.revalidate" });
    expect(job?.target).toMatchObject({ stripeObjectId: sub, stripeObjectKind: "subscription", uid });
    expect(await data(db, `customers/${uid}`)).toMatchObject({ subscriptionStatus: "past_due" });

    stripe.seedObjects([{ ...truth, id: sub, object: "subscription" }]);
    const h = harness(db, sinks());
    expect(await runSyncJob(h.deps, String(job?.jobId))).toMatchObject({ outcome: "succeeded" });
    expect(stripe.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/subscriptions/${sub}`]);
    expect(await data(db, `customers/${uid}`)).toMatchObject({ subscriptionStatus: "active", plan: "pro", entitlements: ["basic", "reports"], pastDueSince: null });
    const snap = (await data(db, `customers/${uid}/private/stripe`)) as { objects: Record<string, unknown> } | undefined;
    expect(snap?.objects[sub]).toMatchObject({ mark: { created: t, source: "api", eventType: "api.retrieve" } });
    // The change planned claims and CRM work of its own.
    const followUps = await jobs(db);
    expect(followUps.filter((j) => j.cause?.jobId === `revalidate_${job?.jobId}`).map((j) => j.kind).sort()).toEqual(["auth.claims.update", "crm.contact.upsert", "crm.deal.upsert"]);
  });

  it("a revalidation of an object Stripe does not have goes dead with the reason", async () => {
    const t = nowSec() - 600;
    const { uid, cus } = await newCustomer(t - 100);
    const sub = uniq("sub");
    await deliver(db, stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, uid, status: "past_due", price: BASIC }), { created: t }));
    await deliver(db, stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, uid, status: "active", price: BASIC }), { created: t }));
    const [job] = await jobs(db, { kind: "stripe.object.revalidate" });
    const h = harness(db, sinks());
    expect(await runSyncJob(h.deps, String(job?.jobId))).toMatchObject({ outcome: "dead" });
    expect(await data(db, `syncJobs/${job?.jobId}`)).toMatchObject({ status: "dead", lastError: { message: expect.stringMatching(/Stripe has no subscription/) } });
  });

  it("a refund after a dispute still counts: amountRefunded and status follow", async () => {
    const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    const pi = uniq("pi");
    const ch = uniq("ch");
    const dp = uniq("dp");
    const t = nowSec() - 600;
    await deliver(db, stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: 5000, metadata: meta }), { created: t }));
    await deliver(db, stripeEvent("charge.dispute.created", dispute({ id: dp, charge: ch, paymentIntent: pi, amount: 5000, status: "needs_response", metadata: meta }), { created: t + 10 }));
    await deliver(db, stripeEvent("charge.dispute.closed", dispute({ id: dp, charge: ch, paymentIntent: pi, amount: 5000, status: "won", metadata: meta }), { created: t + 20 }));
    const re = uniq("re");
    expect((await deliver(db, stripeEvent("refund.created", refund({ id: re, charge: ch, paymentIntent: pi, amount: 1500 }), { created: t + 30 }))).body.status).toBe("applied");
    expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ amountRefunded: 1500, status: "partially_refunded", refunds: { [re]: { amount: 1500 } }, dispute: { id: dp, status: "won" } });
    // The charge's total arrives last, with a second refund: the order is fully refunded.
    await deliver(db, stripeEvent("charge.refunded", charge({ id: ch, paymentIntent: pi, amount: 5000, amountRefunded: 5000, metadata: meta }), { created: t + 40 }));
    expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ amountRefunded: 5000, status: "refunded" });
    // One live deal job for the order; the later changes folded into it (it reads the order when it runs).
    const deals = await jobs(db, { kind: "crm.deal.upsert" });
    expect(deals).toHaveLength(1);
    expect(deals[0]?.coalesced).toBeGreaterThanOrEqual(1);
  });

  it("grace ends with no further event: entitlements drop, claims and CRM jobs are planned, a second sweep does nothing", async () => {
    const t = nowSec() - 600;
    const eventNow = () => new Date(t * 1000 + 5000);
    const { uid, cus } = await newCustomer(t - 100);
    const sub = uniq("sub");
    await deliver(db, stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, uid, status: "active", price: PRO }), { created: t - 50 }), { now: eventNow });
    await deliver(db, stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, uid, status: "past_due", price: PRO }), { created: t }), { now: eventNow });
    const inGrace = (await data(db, `customers/${uid}`)) as { entitlementsGraceUntil: Timestamp; claimsVersion: number } | undefined;
    expect(inGrace).toMatchObject({ entitlements: ["basic", "reports"], subscriptionStatus: "past_due" });
    expect(inGrace?.entitlementsGraceUntil.toMillis()).toBe(t * 1000 + 3 * 86_400_000);

    const later = new Date(t * 1000 + 3 * 86_400_000 + 1000);
    expect(await expireGrace(db, { now: new Date(t * 1000 + 86_400_000), graceDays: 3 })).toBe(0);
    expect(await expireGrace(db, { now: later, graceDays: 3 })).toBe(1);
    const after = await data(db, `customers/${uid}`);
    expect(after).toMatchObject({ entitlements: [], entitlementsGraceUntil: null, supportTier: "free", claimsVersion: (inGrace?.claimsVersion ?? 0) + 1 });
    const planned = (await jobs(db)).filter((j) => j.cause?.type === "system");
    expect(planned.map((j) => j.kind).sort()).toEqual(["auth.claims.update", "crm.contact.upsert"]);
    expect(await expireGrace(db, { now: later, graceDays: 3 })).toBe(0);
    expect((await jobs(db)).filter((j) => j.cause?.type === "system")).toHaveLength(2);
  });

  it("a claims change during a claims run: the Auth claims end as the record says", async () => {
    const t = nowSec() - 600;
    const { uid, cus } = await newCustomer(t - 100);
    const claims = new GatedClaims();
    claims.addUser(uid);
    const sub = uniq("sub");
    const first = stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, uid, status: "active", price: BASIC }), { created: t });
    await deliver(db, first);
    // One live claims job per customer (domain/coalesce.ts).
    const [live] = await jobs(db, { kind: "auth.claims.update" });
    const h = harness(db, sinks(claims));
    // The run reads the record (basic) and stalls inside the Auth call.
    const stalled = runSyncJob(h.deps, String(live?.jobId));
    await claims.entered;
    const second = stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, uid, status: "active", price: PRO }), { created: t + 10 });
    await deliver(db, second);
    expect(await jobs(db, { kind: "auth.claims.update" })).toHaveLength(1);
    claims.release();
    await stalled;
    // The change during the run leads to one more run (or the run's own re-read caught it).
    await h.runPending();
    await h.idle();
    const record = await data(db, `customers/${uid}`);
    expect(claims.claimsOf(uid)).toMatchObject({ plan: record?.plan, entitlements: record?.entitlements, supportTier: record?.supportTier });
    expect(claims.claimsOf(uid)).toMatchObject({ plan: "pro" });
  });

  it("20 concurrent copies of one event, then the apply invoked twice more: one set of effects", async () => {
    const { uid, cus } = await newCustomer(nowSec() - 700);
    const event = stripeEvent("customer.subscription.created", subscription({ id: uniq("sub"), customer: cus, uid, status: "active", price: PRO }));
    const results = await Promise.all(Array.from({ length: 20 }, () => deliver(db, event)));
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    const again = await Promise.all([applyRecordedEvent(db, event.id, { graceDays: 3 }), applyRecordedEvent(db, event.id, { graceDays: 3 })]);
    expect(again.map((r) => r.duplicate)).toEqual([true, true]);
    expect((await jobs(db, { eventId: event.id })).map((j) => j.kind).sort()).toEqual(["auth.claims.update", "crm.contact.upsert", "crm.deal.upsert"]);
    expect((await audits(db, event.id)).filter((a) => a.target === `customers/${uid}`)).toHaveLength(1);
    expect(await data(db, `customers/${uid}`)).toMatchObject({ claimsVersion: 1, entitlements: ["basic", "reports"] });
  });

  it("sweepLedger applies an entry left `received` for over 60 s and leaves a newer one", async () => {
    const { uid, cus } = await newCustomer(nowSec() - 700);
    const now = new Date();
    const record = async (sub: string, receivedAgoMs: number) => {
      const event = stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, uid, status: "active", price: BASIC }));
      const envelope = stripeEventEnvelopeSchema.parse(event);
      await recordEvent(db, envelope, normalizeEvent(envelope, STRIPE_API_VERSION), "webhook", new Date(now.getTime() - receivedAgoMs));
      return event.id;
    };
    const old = await record(uniq("sub"), 120_000);
    const fresh = await record(uniq("sub"), 10_000);
    expect(await sweepLedger(db, { now, graceDays: 3 })).toMatchObject({ applied: 1 });
    expect(await ledger(db, old)).toMatchObject({ status: "applied", source: "webhook" });
    expect((await ledger(db, old))?.appliedAt.toMillis()).toBe(now.getTime());
    expect(await ledger(db, fresh)).toMatchObject({ status: "received" });
    expect(await data(db, `customers/${uid}`)).toMatchObject({ subscriptionStatus: "active", entitlements: ["basic"] });
    expect(await sweepLedger(db, { now, graceDays: 3 })).toMatchObject({ applied: 0 });
  });
});

/** Memory claims whose first write waits until released: a job that read the record, then stalled in the Auth call. */
class GatedClaims extends MemoryClaims {
  private gate: Promise<void> | null = null;
  private open: () => void = () => undefined;
  private signal: () => void = () => undefined;
  readonly entered = new Promise<void>((resolve) => {
    this.signal = resolve;
  });

  constructor() {
    super();
    this.gate = new Promise<void>((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open();
  }

  override async setClaims(uid: string, owned: { entitlements: string[]; plan: string | null; supportTier: string }): Promise<void> {
    const gate = this.gate;
    if (gate) {
      this.gate = null;
      this.signal();
      await gate;
    }
    await super.setClaims(uid, owned);
  }
}
