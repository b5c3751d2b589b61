/**
 * The alert lifecycle on a fake clock (real Firestore emulator, the real HubSpot and Slack adapters against the strict
 * stand-ins): jobs failing for one cause make ONE incident and ONE Slack message, which resolves itself (one more
 * message) when the jobs succeed — also when a dead live job is revived by a new event; the failure-rate and
 * backlog-age alerts open once when their signal crosses the threshold and close when it drops.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { HubspotCrmConfig } from "../../functions/src/sinks/hubspot";
import type { Sinks } from "../../functions/src/services/syncRunner";
import { sweepIncidents } from "../../functions/src/services/incidentSweep";
import { DEFAULT_ALERT_THRESHOLDS } from "../../functions/src/domain/alertSignals";
import { DEFAULT_NOTICE_SETTINGS } from "../../functions/src/domain/notices";
import { deliver } from "../support/deliver";
import { fakeQueue, type FakeQueue } from "../support/fakeQueue";
import { resetFirestore, testDb } from "../support/firestore";
import { setUpHubspot } from "../support/hubspot";
import { data, jobs } from "../support/read";
import { standInSinks } from "../support/syncHarness";
import { customer, stripeEvent, uniq } from "../support/stripeFixtures";
import { startHubspotServer, type HubspotServer } from "../vendors/hubspotServer";
import { startSlackServer, type SlackServer } from "../vendors/slackServer";

const db = testDb();
let hubspot: HubspotServer;
let slack: SlackServer;
let crmConfig: HubspotCrmConfig;
const PROBE_MS = 5 * 60_000;

const sinks = (overrides: Partial<Sinks> = {}): Sinks => standInSinks(crmConfig, slack.url, overrides);
const openAlerts = async () => (await db.collection("alerts").where("status", "==", "open").get()).docs.map((d) => ({ id: d.id, ...d.data() }));
const sweep = (q: FakeQueue) => sweepIncidents(db, { now: q.now(), thresholds: DEFAULT_ALERT_THRESHOLDS, notices: DEFAULT_NOTICE_SETTINGS, probeDelayMs: PROBE_MS });
const texts = () => slack.messages().map((m) => m.text ?? "");

describe("incidents: one per root cause, resolved by the jobs themselves", () => {
  beforeAll(async () => {
    hubspot = await startHubspotServer();
    slack = await startSlackServer({ perSecond: Infinity });
  });
  afterAll(async () => {
    await Promise.all([hubspot.close(), slack.close()]);
  });
  beforeEach(async () => {
    await resetFirestore();
    hubspot.reset();
    slack.reset();
    crmConfig = await setUpHubspot(hubspot, { timeoutMs: 2000 });
  });

  it("HubSpot down: 7 failing jobs → 1 incident listing the 7 customers, 1 Slack message; back up → resolved itself, 1 more message", async () => {
    const q = fakeQueue(db, sinks());
    q.deps.incidents = { joinAfterAttempts: 3, probeDelayMs: PROBE_MS };
    hubspot.setDown(true);
    const uids = Array.from({ length: 7 }, () => uniq("user"));
    for (const uid of uids) await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })), { now: q.now });
    await q.settle(20 * 60_000);

    const contacts = await jobs(db, { kind: "crm.contact.upsert" });
    expect(contacts).toHaveLength(7);
    expect(contacts.every((j) => j.status === "dead")).toBe(true);
    const open = await openAlerts();
    expect(open.map((a) => a.id)).toEqual(["incident.crm.http_5xx"]);
    const incident = open[0] as Record<string, unknown>;
    expect(incident).toMatchObject({ type: "incident", sink: "crm", errorKind: "http_5xx", scope: "sink", owner: "admin", jobCount: 7, affectedCount: 7 });
    expect([...((incident.affected as { customers: string[] }).customers)].sort()).toEqual([...uids].sort());
    expect(incident.nextStep).toMatchObject({ action: "probe" });
    expect(typeof incident.fix).toBe("string");
    expect(slack.messages()).toHaveLength(1);
    expect(texts()[0]).toContain("Incident: HubSpot CRM is failing");
    // No per-job alert documents any more.
    expect((await db.collection("alerts").get()).size).toBe(1);

    // HubSpot is back. The probe (the sweep, once its time has come) retries one dead job; its success retries the rest.
    hubspot.setDown(false);
    q.advance(PROBE_MS);
    expect((await sweep(q)).probed).toEqual(["incident.crm.http_5xx"]);
    await q.settle(20 * 60_000);
    expect((await jobs(db, { kind: "crm.contact.upsert" })).every((j) => j.status === "succeeded")).toBe(true);
    expect(await data(db, "alerts/incident.crm.http_5xx")).toMatchObject({ status: "resolved", resolvedBy: "auto", openKeys: [] });
    expect(slack.messages()).toHaveLength(2);
    expect(texts()[1]).toContain("Resolved: HubSpot CRM is failing");
    expect(await openAlerts()).toEqual([]);
  });

  it("a success of the sink (a new customer's job) is news of recovery: the dead jobs are retried without waiting for the probe", async () => {
    const q = fakeQueue(db, sinks());
    hubspot.setDown(true);
    for (let i = 0; i < 3; i++) await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("user") })), { now: q.now });
    await q.settle(20 * 60_000);
    expect((await openAlerts()).map((a) => a.id)).toEqual(["incident.crm.http_5xx"]);
    hubspot.setDown(false);
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("user") })), { now: q.now });
    await q.settle(60_000);
    expect((await jobs(db, { kind: "crm.contact.upsert" })).map((j) => j.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(await openAlerts()).toEqual([]);
    expect(slack.messages()).toHaveLength(2);
  });

  it("a dead live job revived by a new event and succeeding resolves its incident (one message each way)", async () => {
    const q = fakeQueue(db, sinks());
    const uid = uniq("user");
    const cus = uniq("cus");
    hubspot.failNext(1, 400);
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })), { now: q.now });
    await q.settle(60_000);
    expect(await data(db, `syncJobs/live.crm.contact.upsert.${uid}`)).toMatchObject({ status: "dead", deadReason: "permanent" });
    const id = `incident.crm.http_400.customer:${uid}`;
    expect(await data(db, `alerts/${id}`)).toMatchObject({ status: "open", scope: `customer:${uid}`, owner: "support", nextStep: { action: "waiting_for_person" } });
    expect(slack.messages()).toHaveLength(1);

    q.advance(60_000);
    await deliver(db, stripeEvent("customer.updated", customer({ id: cus, uid, name: "Renamed" })), { now: q.now });
    await q.settle(60_000);
    expect(await data(db, `syncJobs/live.crm.contact.upsert.${uid}`)).toMatchObject({ status: "succeeded" });
    expect(await data(db, `alerts/${id}`)).toMatchObject({ status: "resolved", resolvedBy: "auto" });
    expect(slack.messages()).toHaveLength(2);
  });

  it("a crash between a job's success and its incident's update: the sweep's re-check resolves it, one message, once", async () => {
    const q = fakeQueue(db, sinks());
    const uid = uniq("user");
    const cus = uniq("cus");
    const id = `incident.crm.http_400.customer:${uid}`;
    hubspot.failNext(1, 400);
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })), { now: q.now });
    await q.settle(60_000);
    expect(await data(db, `alerts/${id}`)).toMatchObject({ status: "open" });
    expect(slack.messages()).toHaveLength(1);

    // The job is still dead: the re-check leaves the incident open and looks again later.
    q.advance(3 * 60_000);
    expect((await sweep(q)).rechecked).toEqual([]);
    expect(await data(db, `alerts/${id}`)).toMatchObject({ status: "open" });

    // A new event revives the job; it succeeds, but the worker dies between its record and the incident's update.
    q.deps.step = (step) => {
      if (step === "after_complete") throw new Error("worker crashed after the job's record");
    };
    await deliver(db, stripeEvent("customer.updated", customer({ id: cus, uid, name: "Renamed" })), { now: q.now });
    await q.settle(60_000);
    q.deps.step = undefined;
    expect(await data(db, `syncJobs/live.crm.contact.upsert.${uid}`)).toMatchObject({ status: "succeeded" });
    expect(await data(db, `alerts/${id}`)).toMatchObject({ status: "open" });

    // The next look (10 minutes after the last one) finds every job of the cause succeeded: resolved, one notice.
    q.advance(10 * 60_000);
    expect((await sweep(q)).rechecked).toEqual([id]);
    expect(await data(db, `alerts/${id}`)).toMatchObject({ status: "resolved", resolvedBy: "auto", openKeys: [], settleCheckAt: null });
    await q.settle(60_000);
    expect(slack.messages()).toHaveLength(2);
    expect(texts()[1]).toContain("Resolved");
    // Once: a later sweep finds nothing to re-check, and no second message is posted.
    q.advance(15 * 60_000);
    expect((await sweep(q)).rechecked).toEqual([]);
    await q.settle(60_000);
    expect(slack.messages()).toHaveLength(2);
  });

  it("failure rate: crossing 5 % over 15 minutes opens one alert (one message); dropping back closes it (one message)", async () => {
    const q = fakeQueue(db, sinks(), { start: Date.UTC(2026, 11, 5, 3, 0, 0) });
    const entry = (i: number, status: string, at: Date) =>
      db.doc(`stripeEvents/evt_rate_${i}`).set({ eventId: `evt_rate_${i}`, type: "customer.updated", status, source: "webhook", receivedAt: at });
    // Minute 0: 40 deliveries, 1 failed (2.5 %): quiet.
    await Promise.all(Array.from({ length: 40 }, (_, i) => entry(i, i === 0 ? "failed" : "applied", new Date(q.now().getTime() + i * 1000))));
    q.advance(2 * 60_000);
    expect((await sweep(q)).opened).toEqual([]);
    // Minute 2: 40 more, 4 failed: 5 of 80 = 6.25 % > 5 %.
    await Promise.all(Array.from({ length: 40 }, (_, i) => entry(100 + i, i < 4 ? "failed" : "applied", new Date(q.now().getTime() + i * 1000))));
    q.advance(2 * 60_000);
    expect((await sweep(q)).opened).toEqual(["failure_rate_deliveries"]);
    q.advance(60_000);
    expect((await sweep(q)).opened).toEqual([]); // still firing: no second alert, no second message
    expect(await data(db, "alerts/failure_rate_deliveries")).toMatchObject({ status: "open", type: "failure_rate", owner: "admin", signal: { failed: 5, total: 80, ratePercent: 6.25 } });
    await q.settle(60_000);
    expect(slack.messages()).toHaveLength(1);
    expect(texts()[0]).toContain("6.25 % of Stripe deliveries failed over 15 minutes");
    // The failing minutes leave the 15-minute window; healthy traffic keeps coming.
    for (let m = 0; m < 15; m++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => entry(1000 + m * 10 + i, "applied", new Date(q.now().getTime() + i * 1000))));
      q.advance(60_000);
      await sweep(q);
    }
    expect(await data(db, "alerts/failure_rate_deliveries")).toMatchObject({ status: "resolved", resolvedBy: "signal" });
    await q.settle(60_000);
    expect(slack.messages()).toHaveLength(2);
    expect(texts()[1]).toContain("Resolved");
    // Rolled-up minutes, not scans: one document per minute under ops/counters/minutes.
    expect((await db.collection("ops/counters/minutes").get()).size).toBeGreaterThanOrEqual(15);
  });

  it("failure rate of jobs, and too little traffic decides nothing", async () => {
    const q = fakeQueue(db, sinks(), { start: Date.UTC(2026, 11, 5, 4, 0, 0) });
    const job = (i: number, status: string) => db.doc(`syncJobs/rate_${i}`).set({ jobId: `rate_${i}`, kind: "crm.contact.upsert", status, target: { uid: `u${i}` }, completedAt: new Date(q.now().getTime() + i * 100), createdAt: q.now() });
    await Promise.all(Array.from({ length: 10 }, (_, i) => job(i, i < 5 ? "dead" : "succeeded")));
    q.advance(2 * 60_000);
    expect((await sweep(q)).opened).toEqual([]); // 50 % of 10: under ALERT_FAILURE_MIN_VOLUME (20)
    await Promise.all(Array.from({ length: 20 }, (_, i) => job(100 + i, "succeeded")));
    q.advance(2 * 60_000); // a minute counts once it ended (plus 30 s for late writes)
    expect((await sweep(q)).opened).toEqual(["failure_rate_jobs"]); // 5 of 30 = 16.7 %
  });

  it("backlog age: a job waiting longer than the threshold opens one alert; it closes when the job has run", async () => {
    const q = fakeQueue(db, sinks(), { start: Date.UTC(2026, 11, 5, 5, 0, 0) });
    await db.doc("syncJobs/old_1").set({ jobId: "old_1", kind: "crm.contact.upsert", status: "paused", pausedBy: "automation", target: { uid: "u1" }, createdAt: q.now(), updatedAt: q.now() });
    q.advance(20 * 60_000);
    expect((await sweep(q)).opened).toEqual([]);
    q.advance(11 * 60_000);
    expect((await sweep(q)).opened).toEqual(["backlog_age"]);
    q.advance(60_000);
    expect((await sweep(q)).opened).toEqual([]);
    expect(await data(db, "alerts/backlog_age")).toMatchObject({ status: "open", type: "backlog_age", signal: { jobId: "old_1", ageMinutes: 32 } });
    await db.doc("syncJobs/old_1").update({ status: "succeeded", completedAt: q.now() });
    q.advance(60_000);
    expect((await sweep(q)).closed).toEqual(["backlog_age"]);
    const notices = (await db.collection("syncJobs").where("kind", "==", "notify.slack").get()).docs.map((d) => d.get("idempotencyKey") as string);
    expect(notices.filter((k) => k.startsWith("incident:backlog_age")).sort()).toEqual(["incident:backlog_age:1:opened", "incident:backlog_age:1:resolved"]);
  });
});
