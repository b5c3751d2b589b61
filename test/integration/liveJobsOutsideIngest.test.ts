/**
 * Jobs planned outside the Stripe ingest (a new Auth user, a staff edit, reconcile --fix, resolveFailedPayment) use
 * the customer's one live contact job (`syncJobs/live.crm.contact.upsert.<uid>`), so they fold into a burst
 * instead of adding upserts of their own. Fake clock, real Firestore emulator, real adapter against the stand-in.
 */
import { describe, expect, it } from "vitest";
import { HubspotCrm, type HubspotCrmConfig } from "../../functions/src/sinks/hubspot";
import { planRepairJobs } from "../../functions/src/store/reconcile";
import { ensureCustomerForUser, handleCustomerEdit } from "../../functions/src/services/support";
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

const contactUpserts = () => hubspot.requests.filter((r) => r.method === "POST" && r.path.includes("/objects/contacts/batch/upsert")).length;

/** A person changes the customer's support tier in the console (what onCustomerUpdated hands the store). */
async function staffEdit(uid: string, eventId: string, tier: string, at: Date): Promise<void> {
  const before = (await db.doc(`customers/${uid}`).get()).data() ?? {};
  const edited = { ...before, supportTier: tier, lastEditedBy: "admin_1" };
  await db.doc(`customers/${uid}`).set(edited);
  expect(await handleCustomerEdit(db, uid, eventId, before, edited, at)).toBe(true);
}

describe("live-job coalescing for jobs planned outside the ingest", () => {
  useQueueStandIns((s) => {
    ({ hubspot, slack, crmConfig } = s);
  });

  it("a staff edit during a burst folds into the waiting contact job; one during the upsert adds exactly one more", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    const real = new HubspotCrm(crmConfig);
    let runs = 0;
    let q = fakeQueue(db, standInSinks(crmConfig, slack.url));
    // The second staff edit lands while the first upsert is under way.
    const crm = {
      upsertContact: async (c: Parameters<HubspotCrm["upsertContact"]>[0]) => {
        if (runs++ === 0) await staffEdit(uid, "evt-edit-2", "vip", q.now());
        return real.upsertContact(c);
      },
      upsertContacts: (cs: Parameters<HubspotCrm["upsertContacts"]>[0]) => real.upsertContacts(cs),
      upsertDeal: (d: Parameters<HubspotCrm["upsertDeal"]>[0]) => real.upsertDeal(d),
    };
    q = fakeQueue(db, standInSinks(crmConfig, slack.url, { crm }));
    // The user signs up (onUserCreated), then Stripe's burst arrives with a staff edit in the middle of it.
    expect(await ensureCustomerForUser(db, { uid, email: null, displayName: null }, q.now())).toBe(true);
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })), { now: q.now });
    for (let i = 1; i < 20; i++) {
      q.advance(50);
      await deliver(db, stripeEvent("customer.updated", customer({ id: cus, uid, name: `Name ${i}`, email: `v${i}@example.com` })), { now: q.now });
      if (i === 10) await staffEdit(uid, "evt-edit-1", "priority", q.now());
    }
    await q.settle();
    // Sign-up, 20 events and the first edit: one upsert; the edit during it: exactly one more.
    expect(contactUpserts()).toBe(2);
    const contactJobs = await jobs(db, { kind: "crm.contact.upsert" });
    expect(contactJobs.map((j) => j.jobId)).toEqual([`live.crm.contact.upsert.${uid}`]);
    expect(contactJobs[0]).toMatchObject({ status: "succeeded", rerunRequested: false });
    expect(await data(db, `customers/${uid}`)).toMatchObject({ supportTier: "vip", sync: { crm: { status: "synced" } } });
    expect(hubspot.contacts()).toHaveLength(1);
  });

  it("reconcile --fix folds its repair into a waiting live job instead of adding a second contact job", async () => {
    const uid = uniq("user");
    const q = fakeQueue(db, standInSinks(crmConfig, slack.url));
    await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid })), { now: q.now });
    const spec = { kind: "crm.contact.upsert" as const, target: { uid }, idempotencyKey: `contact:${uid}`, reason: "reconcile" };
    const ids = await planRepairJobs(db, { runId: "run_1", uid, jobs: [spec], findings: [], now: q.now() });
    expect(ids).toEqual([`live.crm.contact.upsert.${uid}`]);
    expect(await data(db, ids[0] ? `syncJobs/${ids[0]}` : "x/x")).toMatchObject({ status: "pending", coalesced: 1, reason: "reconcile" });
    await q.settle();
    expect(contactUpserts()).toBe(1);
    expect((await jobs(db, { kind: "crm.contact.upsert" })).map((j) => j.status)).toEqual(["succeeded"]);
  });
});
