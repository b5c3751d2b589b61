/**
 * The sync queue end to end in-process: real Firestore emulator, the real HubSpot / Zendesk / Slack adapters
 * pointed at local servers that behave like the vendors (status codes, 409, 429 + Retry-After, outages).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { claimJob } from "../../functions/src/store/jobs";
import { findDueJobs, requeuePausedJobs, retryDeadJob, setAutomationPaused } from "../../functions/src/store/jobQueue";
import { HubspotCrm, type HubspotCrmConfig } from "../../functions/src/sinks/hubspot";
import { ZendeskHelpdesk } from "../../functions/src/sinks/zendesk";
import { contactState } from "../../functions/src/domain/syncPlan";
import type { CustomerDoc } from "../../functions/src/domain/model";
import { fromFirestore } from "../../functions/src/store/db";
import type { Sinks } from "../../functions/src/services/syncRunner";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { data, jobs } from "../support/read";
import { MemoryNotify } from "../fakes/memorySinks";
import { harness, standInSinks } from "../support/syncHarness";
import { checkoutSession, customer, dispute, paymentIntent, price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";
import { setUpHubspot } from "../support/hubspot";
import { startHubspotServer, type HubspotServer } from "../vendors/hubspotServer";
import { startSlackServer, type SlackServer } from "../vendors/slackServer";
import { startZendeskServer, type ZendeskServer } from "../vendors/zendeskServer";

const db = testDb();
let hubspot: HubspotServer;
let slack: SlackServer;
let zendesk: ZendeskServer;
let crmConfig: HubspotCrmConfig;

function sinks(overrides: Partial<Sinks> = {}): Sinks {
  return standInSinks(crmConfig, slack.url, overrides);
}

async function paidOrder() {
  const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
  const cus = uniq("cus");
  await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid: meta.buyerUid, email: `${meta.buyerUid}@example.com` })));
  const pi = uniq("pi");
  const paid = stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: 5000, metadata: meta }));
  await deliver(db, paid);
  return { meta, pi, paid };
}

describe("sync queue", () => {
  beforeAll(async () => {
    hubspot = await startHubspotServer();
    slack = await startSlackServer({ perSecond: Infinity });
    zendesk = await startZendeskServer();
  });
  afterAll(async () => {
    await Promise.all([hubspot.close(), slack.close(), zendesk.close()]);
  });
  beforeEach(async () => {
    await resetFirestore();
    hubspot.reset();
    slack.reset();
    zendesk.reset();
    crmConfig = await setUpHubspot(hubspot, { timeoutMs: 2000 });
  });

  it("a payment and a dispute: contact and deal once on HubSpot, crmContactId stored, one ticket, one Slack message", async () => {
    const h = harness(db, sinks());
    const { meta, pi } = await paidOrder();
    const dp = uniq("dp");
    await deliver(db, stripeEvent("charge.dispute.created", dispute({ id: dp, charge: uniq("ch"), paymentIntent: pi, status: "needs_response" })));
    await h.runPending();
    await h.runPending(); // follow-up notifications

    expect(hubspot.contacts()).toHaveLength(1);
    expect(hubspot.contacts()[0]?.properties).toMatchObject({ opsync_uid: meta.buyerUid, email: `${meta.buyerUid}@example.com` });
    expect(hubspot.deals()).toHaveLength(1);
    expect(hubspot.deals()[0]?.properties).toMatchObject({ opsync_deal_key: `order:${meta.orderId}`, dealstage: "closedwon" });
    expect(hubspot.tickets()).toHaveLength(1);
    expect(slack.messages()).toHaveLength(1);
    expect(slack.messages()[0]?.text).toContain("ticket");
    // NOTICE_PERSONAL_DATA defaults to none: the buyer is named by uid, never by email.
    expect(slack.messages()[0]?.text).toContain(`customer ${meta.buyerUid}`);
    expect(slack.messages()[0]?.text).not.toContain("@example.com");

    const buyer = await data(db, `customers/${meta.buyerUid}`);
    expect(buyer?.crmContactId).toBe(hubspot.contacts()[0]?.id);
    expect(buyer?.sync).toMatchObject({ crm: { status: "synced" } });
    const order = await data(db, `orders/${meta.orderId}`);
    expect(order?.crmDealId).toBe(hubspot.deals()[0]?.id);
    expect(Object.values(order?.tickets ?? {})).toEqual([expect.objectContaining({ ticketId: hubspot.tickets()[0]?.id, helpdesk: "hubspot" })]);
    expect((await jobs(db)).every((j) => j.status === "succeeded")).toBe(true);
  });

  it("replays and concurrent copies of events, and jobs run twice at once, never duplicate anything at the vendors", async () => {
    const h = harness(db, sinks());
    const uid = uniq("user");
    const cus = uniq("cus");
    const meta = { orderId: uniq("order"), buyerUid: uid, sellerUid: uniq("seller") };
    const pi = uniq("pi");
    const events = [
      stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "subscription", customer: cus, clientReferenceId: uid, email: "dup@example.com" })),
      stripeEvent("customer.subscription.created", subscription({ id: uniq("sub"), customer: cus, status: "active", price: price({ id: "price_pro", lookupKey: "pro", entitlements: "a" }) })),
      stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", metadata: meta })),
      stripeEvent("charge.dispute.created", dispute({ id: uniq("dp"), charge: uniq("ch"), paymentIntent: pi, status: "needs_response" })),
    ];
    for (const e of events) {
      for (let i = 0; i < 50; i++) await deliver(db, e);
      await Promise.all(Array.from({ length: 20 }, () => deliver(db, e)));
    }
    const pending = (await jobs(db)).map((j) => String(j.jobId));
    await Promise.all([...pending, ...pending].map((id) => h.deps.dispatcher.dispatch(id, 0)));
    await h.idle();
    await h.runPending();
    await h.runPending(); // the ticket's notification
    expect(hubspot.contacts()).toHaveLength(1);
    expect(hubspot.deals()).toHaveLength(2); // the subscription's and the order's
    expect(hubspot.tickets()).toHaveLength(1);
    expect(slack.messages()).toHaveLength(1);
    const all = await jobs(db);
    expect(all.every((j) => j.status === "succeeded" && j.attempts === 1)).toBe(true);
  });

  it("HubSpot answering 5xx for a while: retries with growing delays, then everything succeeds", async () => {
    const h = harness(db, sinks(), { baseMs: 40, maxMs: 1000 }, { crm: 6 });
    const random = () => 1; // take the jitter ceiling so growth is visible
    h.deps.random = random;
    hubspot.failNext(3, 503);
    const uid = uniq("user");
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })));
    await h.runPending();
    // The first dispatch waits for the contact job's settle delay (domain/coalesce.ts); then the backoff.
    const delays = h.dispatches.slice(1).map((d) => d.delayMs);
    expect(delays).toEqual([40, 80, 160]);
    const [job] = await jobs(db, { kind: "crm.contact.upsert" });
    expect(job).toMatchObject({ status: "succeeded", attempts: 4 });
    expect(job?.lastError).toMatchObject({ httpStatus: 503 });
    expect(hubspot.contacts()).toHaveLength(1);
  });

  it("429 with Retry-After is honoured and slows the whole sink", async () => {
    const h = harness(db, sinks());
    hubspot.failNext(1, 429, { retryAfterSeconds: 1 });
    const a = uniq("user");
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid: a })));
    const started = Date.now();
    await h.runPending();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(h.dispatches.some((d) => d.delayMs >= 1000)).toBe(true);
    // The 429 gave its attempt back: a rate limit never spends SYNC_MAX_ATTEMPTS.
    expect((await jobs(db, { kind: "crm.contact.upsert" }))[0]).toMatchObject({ status: "succeeded", attempts: 1 });
    expect((await data(db, "sinkState/crm"))?.blockedUntil).toBeDefined();
  });

  it("a permanent 400 goes dead after one attempt, with an alert, an audit entry and one Slack message", async () => {
    const h = harness(db, sinks());
    hubspot.failNext(1, 400);
    const uid = uniq("user");
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })));
    await h.runPending();
    await h.runPending();
    const [job] = await jobs(db, { kind: "crm.contact.upsert" });
    expect(job).toMatchObject({ status: "dead", attempts: 1, deadReason: "permanent", lastError: { httpStatus: 400 } });
    expect(job?.lastError.vendorRequestId).toBeTruthy();
    // The job joined the incident of its cause (one per sink + error kind + customer), not an alert of its own.
    expect(await data(db, `alerts/incident.crm.http_400.customer:${uid}`)).toMatchObject({ type: "incident", status: "open", sink: "crm", jobIds: [job?.jobId] });
    expect((await data(db, `customers/${uid}`))?.sync).toMatchObject({ crm: { status: "failed" } });
    expect(slack.messages()).toHaveLength(1);
    const audit = await db.collection("auditLog").where("action", "==", "syncJob.dead").get();
    expect(audit.size).toBe(1);

    // Manual retry (what the admin API will call) brings it back and it succeeds.
    expect(await retryDeadJob(db, String(job?.jobId), { type: "user", id: "admin_1" }, new Date())).toBe(true);
    await h.runPending();
    expect((await jobs(db, { kind: "crm.contact.upsert" }))[0]).toMatchObject({ status: "succeeded" });
  });

  it("max attempts reached: dead, nothing retries forever", async () => {
    const h = harness(db, sinks(), {}, { crm: 3 });
    hubspot.setDown(true);
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("user") })));
    await h.runPending();
    hubspot.setDown(false);
    const [job] = await jobs(db, { kind: "crm.contact.upsert" });
    expect(job).toMatchObject({ status: "dead", attempts: 3, deadReason: "max_attempts" });
  });

  it("CRM down while the helpdesk (Zendesk) is up: tickets are still created", async () => {
    const h = harness(db, sinks({ helpdesk: new ZendeskHelpdesk({ baseUrl: zendesk.url, email: zendesk.email, apiToken: zendesk.token }) }), {}, { crm: 2 });
    hubspot.setDown(true);
    const { pi } = await paidOrder();
    await deliver(db, stripeEvent("charge.dispute.created", dispute({ id: uniq("dp"), charge: uniq("ch"), paymentIntent: pi, status: "needs_response" })));
    await h.runPending();
    expect(zendesk.tickets()).toHaveLength(1);
    expect(zendesk.tickets()[0]).toMatchObject({ priority: "urgent" });
    expect((await jobs(db, { kind: "helpdesk.ticket.create" }))[0]).toMatchObject({ status: "succeeded" });
    hubspot.setDown(false);
  });

  it("a worker that dies after the vendor call succeeded: the run after its lease expires (found by the sweeper) creates no duplicate", async () => {
    const crm = new HubspotCrm({ ...crmConfig, timeoutMs: undefined });
    const h = harness(db, sinks({ crm }));
    const uid = uniq("user");
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })));
    const [job] = await jobs(db, { kind: "crm.contact.upsert" });
    const id = String(job?.jobId);
    // Worker A claims, calls HubSpot, and dies before recording success.
    const claimedAt = new Date(Date.now() + 3_000); // past the contact job's settle delay
    const claim = await claimJob(db, id, { now: claimedAt, leaseMs: 60_000, workerId: "worker-a" });
    expect(claim.claimed).toBe(true);
    const c = fromFirestore<CustomerDoc>((await db.doc(`customers/${uid}`).get()).data());
    await crm.upsertContact(contactState(c, null));
    expect(hubspot.contacts()).toHaveLength(1);
    // While the lease holds, another worker cannot take the job, and no task is scheduled for it (no no-op dispatches).
    await h.deps.dispatcher.dispatch(id, 0);
    await h.idle();
    expect(h.outcomes).toEqual([{ outcome: "skipped", jobId: id, reason: "leased" }]);
    expect(h.dispatches).toHaveLength(1);
    // After the lease, the sweeper finds the job and the next worker finishes it (a fake clock past the lease).
    const later = new Date(claimedAt.getTime() + 61_000);
    expect(await findDueJobs(db, later, 10)).toContain(id);
    h.deps.now = () => later;
    await h.deps.dispatcher.dispatch(id, 0);
    await h.idle();
    expect(h.outcomes.at(-1)).toEqual({ outcome: "succeeded", jobId: id });
    expect((await jobs(db, { kind: "crm.contact.upsert" }))[0]).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(hubspot.contacts()).toHaveLength(1);
  });

  it("200 jobs dispatched at once (twice each) run once each", async () => {
    const notify = new MemoryNotify();
    const h = harness(db, sinks({ notify }));
    // 400 runs at once against one emulator can take longer than the harness's 10 s lease on a loaded 2-core machine;
    // a lost lease is the sweeper's case (tested apart), not this one, so the lease here outlasts the burst.
    h.deps.leaseMs = 180_000;
    const now = new Date();
    const writer = db.batch();
    const ids = Array.from({ length: 200 }, (_, i) => `notify.load_${i}`);
    for (const id of ids) {
      writer.set(db.doc(`syncJobs/${id}`), {
        jobId: id, kind: "notify.slack", status: "pending", target: {}, idempotencyKey: id, reason: "load", text: id,
        cause: { type: "test" }, attempts: 0, nextAttemptAt: now, lastError: null, leaseExpiresAt: null, firstAttemptAt: null, completedAt: null, createdAt: now, updatedAt: now,
      });
    }
    await writer.commit();
    await Promise.all([...ids, ...ids].map((id) => h.deps.dispatcher.dispatch(id, 0)));
    await h.idle();
    expect(notify.posts).toHaveLength(200);
    expect(new Set(notify.posts.map((p) => p.key)).size).toBe(200);
  });

  it("kill switch: paused → nothing is called and jobs wait as paused; resumed → everything runs once", async () => {
    const h = harness(db, sinks());
    await setAutomationPaused(db, true, { by: "admin_1", reason: "HubSpot migration" }, new Date());
    const uid = uniq("user");
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })));
    await h.runPending();
    expect(hubspot.requests.filter((r) => r.path.includes("/objects/"))).toHaveLength(0);
    expect((await jobs(db, { kind: "crm.contact.upsert" })).map((j) => j.status)).toEqual(["paused"]);
    // The switch itself is announced, even while paused (or nobody would hear of it).
    expect(slack.messages().map((m) => m.text)).toEqual([expect.stringContaining("Automation paused by admin_1: HubSpot migration")]);
    await setAutomationPaused(db, false, { by: "admin_1", reason: null }, new Date());
    // What onAutomationWritten does, the one place that re-queues paused jobs.
    expect(await requeuePausedJobs(db, new Date())).toBe(1);
    await h.runPending();
    expect(hubspot.contacts()).toHaveLength(1);
    expect((await jobs(db, { kind: "crm.contact.upsert" })).map((j) => j.status)).toEqual(["succeeded"]);
    expect(slack.messages().map((m) => m.text)).toEqual([expect.stringContaining("Automation paused"), expect.stringContaining("Automation resumed by admin_1")]);
  });
});
