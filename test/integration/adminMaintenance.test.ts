/**
 * The admin API's maintenance operations (backfill, reconcile, sweepEvents, replay) through runAdminOperation:
 * roles (finance may read the reconcile report, only an admin may fix), dry runs change nothing, confirmed runs
 * are audited with the caller.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { runAdminOperation, type AdminDeps, type Caller } from "../../functions/src/services/admin";
import { MemoryClaims, MemoryCrm } from "../fakes/memorySinks";
import { stripeReadClient } from "../../functions/src/sinks/stripeApi";
import type { StripeServer } from "../vendors/stripeServer";
import { countDocs, dumpAll, testDb } from "../support/firestore";
import { account, useStripeStandIn } from "../support/stripeAccount";

const KEY = "sk_test_adminmaint";
let stripe: StripeServer;
useStripeStandIn(KEY, (s) => (stripe = s));
beforeEach(() => {
  stripe.seedObjects(account({ count: 3, prefix: "am" }));
});

const admin: Caller = { uid: "staff-admin", roles: ["admin"], via: "idToken" };
const finance: Caller = { uid: "staff-finance", roles: ["finance"], via: "idToken" };
const support: Caller = { uid: "staff-support", roles: ["support"], via: "idToken" };

function deps(): AdminDeps {
  const claims = new MemoryClaims();
  for (let i = 0; i < 3; i++) claims.addUser(`u_am${i}`);
  return {
    db: testDb(),
    auth: { getUser: async () => null, setClaims: async () => undefined, revokeSessions: async () => undefined },
    rateLimitPerMinute: 1000,
    graceDays: 3,
    acceptLivemode: false,
    stripe: stripeReadClient({ secretKey: KEY, host: "127.0.0.1", port: stripe.port, protocol: "http" }),
    crm: new MemoryCrm(),
    claims,
  };
}

/** Everything but the admin API's own bookkeeping (rate-limit windows). */
async function state(): Promise<Record<string, unknown>> {
  const all = await dumpAll(testDb());
  return Object.fromEntries(Object.entries(all).filter(([path]) => !path.startsWith("rateLimits/")));
}

describe("admin maintenance operations", () => {
  it("dry runs of backfill, sweepEvents and replay change nothing; a confirmed backfill imports and is audited", async () => {
    const d = deps();
    const before = await state();
    expect(await runAdminOperation(d, admin, "backfill", {})).toMatchObject({ operation: "backfill", dryRun: true, wouldResume: false });
    expect(await runAdminOperation(d, admin, "sweepEvents", {})).toMatchObject({ operation: "sweepEvents", dryRun: true, listed: 0 });
    expect(await runAdminOperation(d, admin, "replay", { since: "2020-01-01T00:00:00Z", until: "2020-01-02T00:00:00Z" })).toMatchObject({ operation: "replay", dryRun: true });
    expect(await state()).toEqual(before);

    const done = await runAdminOperation(d, admin, "backfill", { confirm: true, noSync: true });
    expect(done).toMatchObject({ operation: "backfill", dryRun: false, status: "done", imported: 3 });
    expect(await countDocs(testDb(), "customers")).toBe(3);
    const audit = await testDb().collection("auditLog").where("action", "==", "admin.backfill").get();
    expect(audit.docs.map((a) => a.data())).toEqual([expect.objectContaining({ outcome: "applied", target: "ops/backfill", actor: expect.objectContaining({ id: "staff-admin", roles: ["admin"] }) })]);
  });

  it("reconcile: finance reads the report, only an admin fixes; support may not run it; inputs are strict", async () => {
    const d = deps();
    await runAdminOperation(d, admin, "backfill", { confirm: true, noSync: true });
    const report = await runAdminOperation(d, finance, "reconcile", { fix: true });
    expect(report).toMatchObject({ operation: "reconcile", dryRun: true, wouldFix: 15, drift: { crm_contact_missing: 3, crm_deal_missing: 3, claims_stale: 9 } });
    expect(await countDocs(testDb(), "syncJobs")).toBe(1); // the drift alert's Slack notice only

    await expect(runAdminOperation(d, finance, "reconcile", { fix: true, confirm: true })).rejects.toMatchObject({ code: "permission-denied" });
    await expect(runAdminOperation(d, support, "reconcile", {})).rejects.toMatchObject({ code: "permission-denied" });
    await expect(runAdminOperation(d, admin, "reconcile", { fix: "yes" })).rejects.toMatchObject({ code: "invalid-argument", detail: { field: "fix" } });
    await expect(runAdminOperation(d, admin, "replay", { uid: "u1", eventId: "evt_1" })).rejects.toMatchObject({ code: "invalid-argument" });
    const denied = await testDb().collection("auditLog").where("action", "==", "admin.reconcile").where("outcome", "==", "denied").get();
    expect(denied.docs.map((a) => a.get("actor.id")).sort()).toEqual(["staff-finance", "staff-support"]);

    const fixed = await runAdminOperation(d, admin, "reconcile", { fix: true, confirm: true });
    expect(fixed).toMatchObject({ operation: "reconcile", dryRun: false, fixed: 15 });
    const jobs = await testDb().collection("syncJobs").where("cause.jobId", "==", fixed.runId).get();
    expect(jobs.docs.map((j) => j.get("kind")).sort()).toEqual([...Array(3).fill("auth.claims.update"), ...Array(3).fill("crm.contact.upsert"), ...Array(3).fill("crm.deal.upsert")]);
    const applied = await testDb().collection("auditLog").where("action", "==", "admin.reconcile").where("outcome", "==", "applied").get();
    expect(applied.docs.map((a) => a.get("after.fix")).sort()).toEqual([false, true]);
  });
});
