/**
 * Per-vendor shared budgets on a fake clock (real Firestore emulator, the real HubSpot adapters against the strict
 * stand-in): CRM and tickets spend ONE HubSpot portal budget, a 429 from tickets holds contact jobs too, the
 * X-HubSpot-RateLimit-* headers hold the account before a 429, waiting never costs an attempt, and waiting jobs
 * wake in distinct slots.
 */
import { describe, expect, it } from "vitest";
import type { Timestamp } from "firebase-admin/firestore";
import { RateSignals, accountOf, type VendorLimit } from "../../functions/src/domain/budget";
import type { SyncBudgets } from "../../functions/src/services/syncRunner";
import { runSyncJob } from "../../functions/src/services/syncRunner";
import type { HubspotCrmConfig } from "../../functions/src/sinks/hubspot";
import { newJobDoc } from "../../functions/src/store/jobs";
import { deliver } from "../support/deliver";
import { fakeQueue } from "../support/fakeQueue";
import { testDb } from "../support/firestore";
import { data, jobs } from "../support/read";
import { useQueueStandIns } from "../support/queueStandIns";
import { standInSinks } from "../support/syncHarness";
import { customer, stripeEvent, uniq } from "../support/stripeFixtures";
import type { HubspotServer } from "../vendors/hubspotServer";
import type { SlackServer } from "../vendors/slackServer";

const db = testDb();
let hubspot: HubspotServer;
let slack: SlackServer;
let crmConfig: HubspotCrmConfig;

const WIDE: VendorLimit = { requests: 10_000, windowMs: 1_000 };
const ms = (v: unknown) => (v as Timestamp).toMillis();
const contactUpserts = () => hubspot.requests.filter((r) => r.method === "POST" && r.path.includes("/objects/contacts/batch/upsert")).length;

/** The stand-in adapters reporting their headers into `signals`, and the budgets the runner meters with. */
function metered(hubspotLimit: VendorLimit) {
  const signals = new RateSignals();
  const budgets: SyncBudgets = {
    accountOf: (sink) => accountOf(sink, "hubspot"),
    limits: { hubspot: hubspotLimit, zendesk: WIDE, slack: WIDE, auth: WIDE, stripe: WIDE },
    signals,
  };
  return { sinks: standInSinks({ ...crmConfig, observeRate: signals.recorder("hubspot") }, slack.url), budgets };
}

async function newCustomers(n: number, now: () => Date): Promise<string[]> {
  const uids = Array.from({ length: n }, () => uniq("user"));
  for (const uid of uids) await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })), { now });
  return uids;
}

async function ticketJob(uid: string, at: Date): Promise<string> {
  const id = `test.ticket.${uid}`;
  await db.doc(`syncJobs/${id}`).set(newJobDoc(id, { kind: "helpdesk.ticket.create", target: { uid }, idempotencyKey: `ticket-${uid}`, reason: "failed_renewal" }, { type: "test" }, at));
  return id;
}

describe("per-vendor shared budgets", () => {
  useQueueStandIns((s) => {
    ({ hubspot, slack, crmConfig } = s);
  });

  it("CRM contacts and HubSpot tickets spend one portal budget: a ticket's calls delay the next contact job", async () => {
    // 10 requests / 10 s: a slot every 1.25 s, a burst of 2.5 s ahead. A ticket job reserves 3 requests (3.75 s).
    const m = metered({ requests: 10, windowMs: 10_000 });
    const q = fakeQueue(db, m.sinks);
    q.deps.budgets = m.budgets;
    const [uid] = await newCustomers(1, q.now);
    q.advance(3_000);
    const ticket = await ticketJob(String(uid), q.now());
    const t0 = q.now().getTime();
    expect(await runSyncJob(q.deps, ticket)).toMatchObject({ outcome: "succeeded" });
    const contact = `live.crm.contact.upsert.${uid}`;
    expect(await runSyncJob(q.deps, contact)).toMatchObject({ outcome: "skipped", reason: "budget" });
    const waiting = await data(db, `syncJobs/${contact}`);
    // Its slot: the ticket's 3 × 1.25 s minus the 2.5 s burst allowance; it wakes 0.5 s of jitter after (random 0.5).
    expect(ms(waiting?.budgetSlotAt)).toBe(t0 + 1_250);
    expect(ms(waiting?.nextAttemptAt)).toBe(t0 + 1_750);
    expect(waiting).toMatchObject({ status: "pending", attempts: 0 });
    expect(contactUpserts()).toBe(0);
    // At its slot it runs without taking again (the reservation is its budget).
    q.advance(1_750);
    expect(await runSyncJob(q.deps, contact)).toMatchObject({ outcome: "succeeded" });
    expect(await data(db, `syncJobs/${contact}`)).toMatchObject({ status: "succeeded", attempts: 1, budgetSlotAt: null });
    expect(ms((await data(db, "vendorBudgets/hubspot/shards/0"))?.tat)).toBe(t0 + 3_750 + 1_250);
  });

  it("a 429 from tickets holds the whole HubSpot account for its Retry-After: contact jobs wait (spread), nothing is lost", async () => {
    const m = metered({ requests: 190, windowMs: 10_000 });
    const q = fakeQueue(db, m.sinks, { maxAttempts: { helpdesk: 1, crm: 1 } });
    q.deps.budgets = m.budgets;
    const uids = await newCustomers(2, q.now);
    q.advance(3_000);
    const ticket = await ticketJob(String(uids[0]), q.now());
    hubspot.failNext(1, 429, { pathIncludes: "/objects/tickets", retryAfterSeconds: 7 });
    const t0 = q.now().getTime();
    expect(await runSyncJob(q.deps, ticket)).toMatchObject({ outcome: "retrying" });
    expect(await data(db, `syncJobs/${ticket}`)).toMatchObject({ status: "retrying", attempts: 0 });
    expect(ms((await data(db, "vendorBudgets/hubspot"))?.blockedUntil)).toBe(t0 + 7_000);
    // The CRM sink itself never saw a 429: only the shared account hold stops its jobs.
    expect((await data(db, "sinkState/crm"))?.blockedUntil ?? null).toBeNull();
    const spread = [0.1, 0.9];
    const woke = await Promise.all(
      uids.map(async (uid, i) => {
        const id = `live.crm.contact.upsert.${uid}`;
        expect(await runSyncJob({ ...q.deps, random: () => spread[i] ?? 0 }, id)).toMatchObject({ outcome: "skipped", reason: "throttled" });
        return ms((await data(db, `syncJobs/${id}`))?.nextAttemptAt);
      }),
    );
    expect(woke.every((w) => w >= t0 + 7_000 && w <= t0 + 12_000)).toBe(true);
    expect(new Set(woke).size).toBe(2);
    expect(contactUpserts()).toBe(0);
    await q.settle();
    const all = [...(await jobs(db, { kind: "crm.contact.upsert" })), ...(await jobs(db, { kind: "helpdesk.ticket.create" }))];
    expect(all.map((j) => [j.status, j.attempts])).toEqual(all.map(() => ["succeeded", 1]));
    expect((await db.collection("alerts").get()).size).toBe(0);
  });

  it("the X-HubSpot-RateLimit-* headers hold the account before the portal answers 429", async () => {
    // The portal (other apps included) has 10 requests per minute left; opsync's own budget would allow far more.
    hubspot.setRateLimit(10, 60_000);
    const m = metered({ requests: 190, windowMs: 10_000 });
    const q = fakeQueue(db, m.sinks);
    q.deps.budgets = m.budgets;
    const uids = await newCustomers(8, q.now);
    q.advance(3_000);
    const outcomes: string[] = [];
    for (const uid of uids) {
      const r = await runSyncJob(q.deps, `live.crm.contact.upsert.${uid}`);
      outcomes.push(r.outcome === "skipped" ? r.reason : r.outcome);
      if (r.outcome === "skipped") break;
    }
    expect(outcomes.at(-1)).toBe("throttled");
    expect(outcomes.slice(0, -1).every((o) => o === "succeeded")).toBe(true);
    expect(hubspot.requests.filter((r) => r.status === 429)).toEqual([]);
    const hold = await data(db, "vendorBudgets/hubspot");
    expect(String(hold?.reason)).toMatch(/^rate-limit headers: [01] of 10 left$/);
    // Rolling window: held until, at the portal's average rate (10 / 60 s), the 10 % reserve is back.
    expect(ms(hold?.blockedUntil) - q.now().getTime()).toBeGreaterThanOrEqual(6_000);
  });

  it("no job dies for lack of budget: 20 contact jobs on a 4-per-10 s budget all succeed on their first attempt, paced", async () => {
    const m = metered({ requests: 4, windowMs: 10_000 });
    const q = fakeQueue(db, m.sinks, { maxAttempts: { crm: 1 } });
    q.deps.budgets = m.budgets;
    await newCustomers(20, q.now);
    await q.settle();
    const contacts = await jobs(db, { kind: "crm.contact.upsert" });
    expect(contacts.map((j) => [j.status, j.attempts])).toEqual(contacts.map(() => ["succeeded", 1]));
    expect(contacts).toHaveLength(20);
    expect((await db.collection("alerts").get()).size).toBe(0);
    // Starts never exceed the budget in any 10 s window, and every waiting job got a slot of its own.
    const starts = contacts.map((j) => ms(j.firstAttemptAt)).sort((a, b) => a - b);
    const busiest = Math.max(...starts.map((s) => starts.filter((t) => t >= s && t < s + 10_000).length));
    expect(busiest).toBeLessThanOrEqual(4);
    expect(new Set(starts).size).toBe(20);
    expect(contactUpserts()).toBe(20);
  });
});
