/**
 * The sync runner's guarantees on a fake clock (real Firestore emulator, real HubSpot and Slack adapters against
 * the strict stand-ins): leases mean ownership, a resume re-queues each paused job once, a 429 never kills a job,
 * a revoked credential pauses one sink with one alert, a burst for one customer coalesces, and a crash at any
 * step neither loses nor doubles an external effect.
 */
import { describe, expect, it } from "vitest";
import type { Timestamp } from "firebase-admin/firestore";
import { HubspotCrm, type HubspotCrmConfig } from "../../functions/src/sinks/hubspot";
import type { RunStep, Sinks } from "../../functions/src/services/syncRunner";
import { runSyncJob } from "../../functions/src/services/syncRunner";
import { completeJob, failJob } from "../../functions/src/store/jobFinish";
import { clearSinkAuthPause, requeuePausedJobs, setAutomationPaused } from "../../functions/src/store/jobQueue";
import { claimJob, newJobDoc } from "../../functions/src/store/jobs";
import { deliver } from "../support/deliver";
import { fakeQueue } from "../support/fakeQueue";
import { testDb } from "../support/firestore";
import { data, jobs } from "../support/read";
import { useQueueStandIns } from "../support/queueStandIns";
import { standInSinks } from "../support/syncHarness";
import { customer, dispute, paymentIntent, stripeEvent, uniq } from "../support/stripeFixtures";
import type { HubspotServer } from "../vendors/hubspotServer";
import type { SlackServer } from "../vendors/slackServer";

const db = testDb();
let hubspot: HubspotServer;
let slack: SlackServer;
let crmConfig: HubspotCrmConfig;

function sinks(overrides: Partial<Sinks> = {}): Sinks {
  return standInSinks(crmConfig, slack.url, overrides);
}

const contactUpserts = () => hubspot.requests.filter((r) => r.method === "POST" && r.path.includes("/objects/contacts/batch/upsert")).length;
const ms = (v: unknown) => (v as Timestamp).toMillis();

describe("sync runner on a fake clock", () => {
  useQueueStandIns((s) => {
    ({ hubspot, slack, crmConfig } = s);
  });

  it("a worker outliving its lease cannot record a result: no retry, no dead, no alert under its successor", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const real = new HubspotCrm(crmConfig);
    let calls = 0;
    // The first worker's vendor call hangs past its lease, then fails.
    const slowFirst = {
      upsertContact: async (c: Parameters<HubspotCrm["upsertContact"]>[0]) => {
        calls += 1;
        if (calls === 1) {
          await gate;
          throw new Error("socket hang up");
        }
        return real.upsertContact(c);
      },
      upsertContacts: (cs: Parameters<HubspotCrm["upsertContacts"]>[0]) => real.upsertContacts(cs),
      upsertDeal: (d: Parameters<HubspotCrm["upsertDeal"]>[0]) => real.upsertDeal(d),
    };
    const q = fakeQueue(db, sinks({ crm: slowFirst }), { maxAttempts: { crm: 1 } });
    const uid = uniq("user");
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })), { now: q.now });
    const [job] = await jobs(db, { kind: "crm.contact.upsert" });
    const id = String(job?.jobId);
    q.advance(3_000);
    const first = runSyncJob({ ...q.deps, workerId: "worker-a" }, id);
    // Wait until worker A holds the lease, then let the lease run out and the sweeper start worker B.
    for (let i = 0; i < 100 && calls === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await data(db, `syncJobs/${id}`)).toMatchObject({ status: "running", workerId: "worker-a" });
    q.advance(61_000);
    expect(await runSyncJob({ ...q.deps, workerId: "worker-b" }, id)).toEqual({ outcome: "succeeded", jobId: id });
    release();
    // Worker A's failure (its only attempt: it would have been dead) is discarded.
    expect(await first).toEqual({ outcome: "discarded", jobId: id });
    expect(await data(db, `syncJobs/${id}`)).toMatchObject({ status: "succeeded", attempts: 2 });
    expect((await db.collection("alerts").get()).size).toBe(0); // no incident was opened for the discarded failure
    expect(q.tasks).toEqual([]);

    // The same at the store: an expired or foreign lease records nothing.
    const j2 = newJobDoc("test.lease", { kind: "notify.slack", target: {}, idempotencyKey: "lease", reason: null, text: "x" }, { type: "test" }, q.now());
    await db.doc("syncJobs/test.lease").set(j2);
    const claim = await claimJob(db, "test.lease", { now: q.now(), leaseMs: 1_000, workerId: "w1" });
    expect(claim.claimed).toBe(true);
    if (!claim.claimed) return;
    const late = new Date(q.now().getTime() + 2_000);
    expect(await completeJob(db, { ...claim.job, workerId: "w1" }, {}, late)).toEqual({ recorded: false, reason: "lease_lost" });
    const dead = { kind: "dead", reason: "permanent", error: { message: "x", httpStatus: 400, vendorRequestId: null, kind: "permanent" } } as const;
    expect(await failJob(db, { ...claim.job, workerId: "someone-else" }, dead, q.now())).toEqual({ recorded: false, reason: "lease_lost" });
    expect(await data(db, "syncJobs/test.lease")).toMatchObject({ status: "running", workerId: "w1" });
  });

  it("resume with a 2,000-job backlog re-queues each paused job once (twice-fired trigger) and never touches a finished one", async () => {
    const at = new Date();
    const writer = db.bulkWriter();
    const doc = (id: string, status: string) =>
      writer.set(db.doc(`syncJobs/${id}`), { ...newJobDoc(id, { kind: "notify.slack", target: {}, idempotencyKey: id, reason: null, text: id }, { type: "test" }, at), status });
    for (let i = 0; i < 2000; i++) void doc(`p.${i}`, "paused");
    for (let i = 0; i < 30; i++) void doc(`s.${i}`, "succeeded");
    for (let i = 0; i < 20; i++) void doc(`d.${i}`, "dead");
    await writer.close();
    const finished = await db.collection("syncJobs").where("status", "in", ["succeeded", "dead"]).get();
    const before = new Map(finished.docs.map((d) => [d.id, d.updateTime.toMillis()]));

    await setAutomationPaused(db, true, { by: "admin_1", reason: "test" }, at);
    await setAutomationPaused(db, false, { by: "admin_1", reason: null }, at);
    // onAutomationWritten fired twice at once (at-least-once delivery): each job is re-queued by exactly one of them.
    const [a, b] = await Promise.all([requeuePausedJobs(db, new Date()), requeuePausedJobs(db, new Date())]);
    expect((a ?? 0) + (b ?? 0)).toBe(2000);
    // The 2,000 re-queued jobs, plus the two Slack notices of the switch (paused, resumed).
    expect((await db.collection("syncJobs").where("status", "==", "pending").count().get()).data().count).toBe(2002);
    const after = await db.collection("syncJobs").where("status", "in", ["succeeded", "dead"]).get();
    expect(after.size).toBe(50);
    for (const d of after.docs) expect(d.updateTime.toMillis()).toBe(before.get(d.id));
    expect(await requeuePausedJobs(db, new Date())).toBe(0);
  });

  it("a 429 on the last attempt is not dead; the block only grows; blocked jobs wake spread out", async () => {
    const q = fakeQueue(db, sinks(), { maxAttempts: { crm: 1 } });
    const uids = [uniq("user"), uniq("user"), uniq("user")];
    for (const uid of uids) await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })), { now: q.now });
    const ids = (await jobs(db, { kind: "crm.contact.upsert" })).map((j) => String(j.jobId));
    q.advance(3_000);
    // Two workers hold leases, then both get a 429: first with Retry-After 30 s, then (later, shorter) 1 s.
    const [c1, c2] = await Promise.all(ids.slice(0, 2).map((id, i) => claimJob(db, id, { now: q.now(), leaseMs: 60_000, workerId: `w${i}` })));
    const t0 = q.now().getTime();
    const rateLimited = (delayMs: number) => ({ kind: "retry", delayMs, countsAttempt: false, error: { message: "429", httpStatus: 429, vendorRequestId: null, kind: "transient" } }) as const;
    if (!c1?.claimed || !c2?.claimed) throw new Error("claims failed");
    await failJob(db, { ...c1.job, workerId: "w0" }, rateLimited(30_000), q.now());
    await failJob(db, { ...c2.job, workerId: "w1" }, rateLimited(1_000), q.now());
    expect(ms((await data(db, "sinkState/crm"))?.blockedUntil)).toBe(t0 + 30_000);
    expect(await data(db, `syncJobs/${ids[0]}`)).toMatchObject({ status: "retrying", attempts: 0 });

    // Through the runner, against the stand-in: a 429 on the only allowed attempt retries.
    q.advance(31_000);
    hubspot.failNext(1, 429, { retryAfterSeconds: 2 });
    expect(await runSyncJob(q.deps, String(ids[2]))).toMatchObject({ outcome: "retrying" });
    expect(await data(db, `syncJobs/${ids[2]}`)).toMatchObject({ status: "retrying", attempts: 0, lastError: { httpStatus: 429 } });
    // Jobs that arrive while the sink is blocked wait without an attempt and wake after the block, spread by jitter.
    const block = ms((await data(db, "sinkState/crm"))?.blockedUntil);
    const spread = [0.1, 0.9];
    const woke = await Promise.all(
      ids.slice(0, 2).map(async (id, i) => {
        const r = await runSyncJob({ ...q.deps, random: () => spread[i] ?? 0 }, id);
        expect(r).toMatchObject({ outcome: "skipped", reason: "throttled" });
        return ms((await data(db, `syncJobs/${id}`))?.nextAttemptAt);
      }),
    );
    expect(woke.every((w) => w >= block)).toBe(true);
    expect(new Set(woke).size).toBe(2);
    await q.settle();
    expect((await jobs(db, { kind: "crm.contact.upsert" })).map((j) => j.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
  });

  it("401 pauses only that sink with one alert and no attempts spent; other sinks run; a new credential or resumeSink resumes it", async () => {
    let credential = "token-v1";
    const q = fakeQueue(db, sinks());
    q.deps.credentialOf = (sink) => (sink === "crm" ? credential : null);
    hubspot.switches.apply({ auth: "revoked" });
    const uids = Array.from({ length: 5 }, () => uniq("user"));
    for (const uid of uids) await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })), { now: q.now });
    await q.settle();
    const contacts = await jobs(db, { kind: "crm.contact.upsert" });
    expect(contacts.map((j) => [j.status, j.attempts])).toEqual(uids.map(() => ["paused", 0]));
    expect((await db.collection("alerts").get()).docs.map((d) => d.id)).toEqual(["auth_crm"]);
    expect(await data(db, "alerts/auth_crm")).toMatchObject({ status: "open", sink: "crm", type: "sink_auth_failed" });
    expect(await data(db, "sinkState/crm")).toMatchObject({ pausedForAuth: { credential: "token-v1", httpStatus: 401 } });
    expect(slack.messages()).toHaveLength(1); // the one alert, announced once: the notify sink runs while crm is paused
    // Jobs already in flight each met the 401 once; after the pause nobody calls HubSpot.
    const calls = contactUpserts();
    expect(calls).toBeLessThanOrEqual(uids.length);
    q.advance(60 * 60_000);
    await q.sweep();
    await q.settle();
    expect(contactUpserts()).toBe(calls);

    // The token is replaced (new fingerprint): the next job of that sink lifts the pause and brings the others back.
    hubspot.switches.apply({ auth: "ok" });
    credential = "token-v2";
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("user") })), { now: q.now });
    await q.settle();
    expect((await jobs(db, { kind: "crm.contact.upsert" })).every((j) => j.status === "succeeded")).toBe(true);
    expect(await data(db, "alerts/auth_crm")).toMatchObject({ status: "resolved" });
    expect(hubspot.contacts()).toHaveLength(6);
    // The pause has its own text, and its end is announced once too.
    expect(slack.messages().map((m) => m.text)).toEqual([expect.stringContaining("paused the crm sink"), expect.stringContaining("Resolved: crm sink paused")]);

    // Revoked again, same token: a person fixes the portal side and resumes (resumeSink's store calls; the e2e test
    // goes through the admin API).
    hubspot.switches.apply({ auth: "revoked" });
    const later = uniq("user");
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid: later })), { now: q.now });
    await q.settle();
    expect(await data(db, `syncJobs/live.crm.contact.upsert.${later}`)).toMatchObject({ status: "paused", attempts: 0 });
    expect(await data(db, "alerts/auth_crm")).toMatchObject({ status: "open" });
    hubspot.switches.apply({ auth: "ok" });
    expect(await clearSinkAuthPause(db, "crm", { type: "user", id: "admin_1" }, q.now())).toMatchObject({ wasPaused: true });
    expect(await requeuePausedJobs(db, q.now(), { sink: "crm" })).toBe(1);
    await q.settle();
    expect(await data(db, `syncJobs/live.crm.contact.upsert.${later}`)).toMatchObject({ status: "succeeded" });
  });

  it("50 events for one customer in 2 s make at most 2 contact upserts, and HubSpot ends with the newest state", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    let q = fakeQueue(db, sinks());
    const real = new HubspotCrm(crmConfig);
    let midRun = 0;
    // One event lands while the first upsert is under way: that asks for exactly one more run.
    const crm = {
      upsertContact: async (c: Parameters<HubspotCrm["upsertContact"]>[0]) => {
        if (midRun++ === 0) await deliver(db, stripeEvent("customer.updated", customer({ id: cus, uid, name: "Mid Run", email: `mid@example.com` })), { now: q.now });
        return real.upsertContact(c);
      },
      upsertContacts: (cs: Parameters<HubspotCrm["upsertContacts"]>[0]) => real.upsertContacts(cs),
      upsertDeal: (d: Parameters<HubspotCrm["upsertDeal"]>[0]) => real.upsertDeal(d),
    };
    q = fakeQueue(db, sinks({ crm }));
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })), { now: q.now });
    for (let i = 1; i < 50; i++) {
      q.advance(40);
      await deliver(db, stripeEvent("customer.updated", customer({ id: cus, uid, name: `Name ${i}`, email: `v${i}@example.com` })), { now: q.now });
      await q.triggerPending();
      await q.runDue();
    }
    await q.settle();
    expect(contactUpserts()).toBeLessThanOrEqual(2);
    expect(contactUpserts()).toBe(2); // the mid-run change forced exactly one more run
    const record = await data(db, `customers/${uid}`);
    expect(hubspot.contacts()).toHaveLength(1);
    expect(hubspot.contacts()[0]?.properties.email).toBe(record?.email);
    expect(await data(db, `syncJobs/live.crm.contact.upsert.${uid}`)).toMatchObject({ status: "succeeded", rerunRequested: false });
    expect(record?.sync).toMatchObject({ crm: { status: "synced" } });
  });

  it.each<RunStep>(["before_claim", "after_claim", "after_vendor_call", "before_complete"])(
    "a crash %s: exactly one external effect per job, none lost",
    async (step) => {
      const q = fakeQueue(db, sinks());
      const crashed = new Set<string>();
      q.deps.step = (s, jobId) => {
        if (s !== step || crashed.has(jobId)) return;
        crashed.add(jobId);
        throw new Error(`crash ${s}`);
      };
      const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
      const pi = uniq("pi");
      await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid: meta.buyerUid })), { now: q.now });
      await deliver(db, stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: 5000, metadata: meta })), { now: q.now });
      await deliver(db, stripeEvent("charge.dispute.created", dispute({ id: uniq("dp"), charge: uniq("ch"), paymentIntent: pi, status: "needs_response" })), { now: q.now });
      await q.settle();
      const all = await jobs(db);
      expect(all.map((j) => `${String(j.kind)}:${String(j.status)}`).sort()).toEqual(
        ["crm.contact.upsert:succeeded", "crm.deal.upsert:succeeded", "helpdesk.ticket.create:succeeded", "notify.slack:succeeded"].sort(),
      );
      expect(crashed.size).toBe(4);
      expect(hubspot.contacts()).toHaveLength(1);
      expect(hubspot.deals()).toHaveLength(1);
      expect(hubspot.tickets()).toHaveLength(1);
      expect(slack.messages()).toHaveLength(1);
    },
  );
});
