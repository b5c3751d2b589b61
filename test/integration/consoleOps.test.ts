/**
 * The console's read operations (opsStatus, listQueue, findCustomer) against the real Firestore emulator, with
 * customers made by delivering Stripe events. The operation × role matrix lives in adminApi.test.ts.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { stripeEventsClient } from "../../functions/src/sinks/stripeApi";
import type { AdminAuthPort, AdminUser } from "../../functions/src/services/admin";
import { AuthFailureGuard } from "../../functions/src/services/adminAuthGuard";
import { handleAdminRequest, type AdminHttpDeps } from "../../functions/src/services/adminHttp";
import { scenario, type CardScenario } from "../support/consoleScenarios";
import { deliver } from "../support/deliver";
import { dumpAll, resetFirestore, testDb } from "../support/firestore";
import { minuteId } from "../../functions/src/domain/alertSignals";
import { opsStatus } from "../../functions/src/services/adminOps/opsStatus";
import { dispute, stripeEvent, uniq } from "../support/stripeFixtures";

const db = testDb();
type Role = "admin" | "support" | "finance";
const CLAIMS: Record<Role, Record<string, unknown>> = { admin: { admin: true }, support: { support: true }, finance: { finance: true } };

class FakeAuth implements AdminAuthPort {
  async getUser(uid: string): Promise<AdminUser | null> {
    const role = uid.replace("u-", "") as Role;
    return CLAIMS[role] ? { claims: { ...CLAIMS[role] }, tokensValidAfterMs: null } : null;
  }
  async setClaims() {}
  async revokeSessions() {}
}

const deps = (): AdminHttpDeps => ({
  db,
  auth: new FakeAuth(),
  rateLimitPerMinute: 1000,
  graceDays: 3,
  acceptLivemode: false,
  // The console's reads never call Stripe; a client pointed at a closed port proves it (any call would fail).
  stripe: stripeEventsClient({ secretKey: "sk_test_console_reads", host: "127.0.0.1", port: 9, protocol: "http", maxNetworkRetries: 0 }),
  authFailures: new AuthFailureGuard({ maxFailures: 20, windowMs: 300_000 }),
  corsOrigins: [],
  verifyIdToken: async (token) => ({ uid: `u-${token}`, claims: { ...CLAIMS[token as Role] } }),
});

async function call(operation: string, body: unknown, role: Role) {
  const res = await handleAdminRequest(
    { method: "POST", path: `/v1/${operation}`, headers: { "content-type": "application/json", authorization: `Bearer ${role}` }, rawBody: Buffer.from(JSON.stringify(body)) },
    deps(),
  );
  return { status: res.status, body: res.body as Record<string, unknown> & { items?: Record<string, unknown>[] } };
}

/** Everything but the rate-limit counters: a read must leave it as it was, audit log included. */
async function state() {
  const all = await dumpAll(db);
  return Object.fromEntries(Object.entries(all).filter(([path]) => !path.startsWith("rateLimits/")));
}

async function seedCustomer(kind: CardScenario) {
  const s = scenario(kind);
  for (const e of s.events) await deliver(db, e);
  return s;
}

beforeEach(async () => {
  await resetFirestore();
});

describe("opsStatus", () => {
  it("reports kill switch, sink states, backlog by sink, oldest waiting job, alerts, 15-minute failures, last reconcile; writes nothing", async () => {
    const now = Date.now();
    const job = (id: string, kind: string, status: string, ageMin: number, extra: Record<string, unknown> = {}) =>
      db.doc(`syncJobs/${id}`).set({ jobId: id, kind, status, target: { uid: "u1" }, createdAt: new Date(now - ageMin * 60_000), updatedAt: new Date(now - 60_000), ...extra });
    await Promise.all([
      job("j-old", "crm.contact.upsert", "retrying", 90),
      job("j-new", "crm.deal.upsert", "pending", 5),
      job("j-paused", "helpdesk.ticket.create", "paused", 30),
      job("j-dead", "helpdesk.ticket.create", "dead", 120, { updatedAt: new Date(now - 3_600_000) }),
      job("j-done", "auth.claims.update", "succeeded", 10, { completedAt: new Date(now - 120_000) }),
      db.doc("alerts/j-dead").set({ alertId: "j-dead", status: "open", type: "sync_job_dead" }),
      db.doc("alerts/j-older").set({ alertId: "j-older", status: "resolved" }),
      db.doc("sinkState/crm").set({ blockedUntil: new Date(now + 600_000), reason: "HubSpot 429", updatedAt: new Date(now) }),
      db.doc("sinkState/helpdesk").set({ blockedUntil: null, paused: true, pausedReason: "token revoked", updatedAt: new Date(now) }),
      db.doc("sinkState/claims").set({ blockedUntil: new Date(now - 600_000), reason: "old 429", updatedAt: new Date(now - 700_000) }),
      db.doc("ops/automation").set({ paused: true, reason: "HubSpot outage", by: "u-admin", at: new Date(now) }),
      db.doc("stripeEvents/evt_f").set({ eventId: "evt_f", status: "failed", receivedAt: new Date(now - 60_000) }),
      db.doc("stripeEvents/evt_a").set({ eventId: "evt_a", status: "applied", receivedAt: new Date(now - 60_000) }),
      db.doc("stripeEvents/evt_old").set({ eventId: "evt_old", status: "failed", receivedAt: new Date(now - 3_600_000) }),
      db.doc("ops/reconcile/runs/r1").set({ startedAt: new Date(now - 7_200_000), finishedAt: new Date(now - 7_100_000), checked: 10, drift: {} }),
      db.doc("ops/reconcile/runs/r2").set({ startedAt: new Date(now - 3_600_000), finishedAt: new Date(now - 3_500_000), checked: 12, drift: { crm: 1 } }),
    ]);
    const before = await state();
    const res = await call("opsStatus", {}, "support");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const sinks = Object.fromEntries((res.body.sinks as Record<string, unknown>[]).map((s) => [s.sink, s]));
    expect(res.body).toMatchObject({
      operation: "opsStatus",
      automation: { paused: true, reason: "HubSpot outage", by: "u-admin" },
      backlog: { total: 3, dead: 1, bySink: { crm: 2, helpdesk: 1, claims: 0, notify: 0, stripe: 0 } },
      oldestPending: { jobId: "j-old", status: "retrying" },
      openAlerts: 1,
      last15Minutes: { deliveries: { total: 2, failed: 1, failureRatePercent: 50 }, jobs: { succeeded: 1, dead: 0 } },
      lastReconcile: { runId: "r2", checked: 12, drift: { crm: 1 } },
    });
    expect((res.body.oldestPending as { ageSeconds: number }).ageSeconds).toBeGreaterThanOrEqual(90 * 60 - 5);
    expect(sinks.crm).toMatchObject({ state: "blocked", reason: "HubSpot 429", backlog: 2 });
    expect(sinks.helpdesk).toMatchObject({ state: "paused", paused: true, reason: "token revoked", backlog: 1, dead: 1 });
    expect(sinks.claims).toMatchObject({ state: "ok", blockedUntil: null, reason: null });
    expect(await state()).toEqual(before);
  });

  it("reads the 15-minute figures from the rolled-up minutes where they exist, counts only the rest, writes none", async () => {
    // A fixed clock: 30 s into a minute, so the window is 15 whole minutes plus the current half minute.
    const now = new Date("2026-03-02T10:20:30Z");
    const at = (msAgo: number) => new Date(now.getTime() - msAgo);
    const minute = (startMsAgo: number) => `ops/counters/minutes/${minuteId(at(startMsAgo))}`;
    const event = (id: string, status: string, msAgo: number) => db.doc(`stripeEvents/${id}`).set({ eventId: id, status, receivedAt: at(msAgo) });
    // 10:05 … 10:18 rolled up by the sweep (14 minutes, 10 deliveries and 1 failure each); 10:19 is not rolled up yet.
    await Promise.all(
      Array.from({ length: 14 }, (_, i) =>
        db.doc(minute(30_000 + (15 - i) * 60_000)).set({ deliveries: 10, deliveriesFailed: 1, jobsSucceeded: 4, jobsDead: 0 }),
      ),
    );
    await Promise.all([
      // Inside a rolled-up minute but not in its counts: the rolled-up document is what counts (nothing re-counted).
      event("evt_in_rolled", "failed", 5 * 60_000),
      // 10:19 (not rolled up) and the current minute: counted live.
      event("evt_last_minute", "failed", 60_000),
      event("evt_now", "applied", 10_000),
      // Before the window (10:04:40).
      event("evt_before", "failed", 15 * 60_000 + 50_000),
      db.doc("syncJobs/j-live").set({ jobId: "j-live", kind: "crm.contact.upsert", status: "succeeded", target: { uid: "u1" }, createdAt: at(70_000), completedAt: at(50_000), updatedAt: at(50_000) }),
    ]);
    const before = await state();
    const ctx = { deps: { db }, caller: { uid: "u-admin", roles: ["admin" as const] }, now };
    const res = await opsStatus(ctx, {});
    expect(res.result).toMatchObject({
      last15Minutes: {
        deliveries: { total: 14 * 10 + 2, failed: 14 + 1, failureRatePercent: Math.round((15 / 142) * 10_000) / 100 },
        jobs: { succeeded: 14 * 4 + 1, dead: 0, failureRatePercent: 0 },
      },
    });
    // Read-only: the minutes it counted live were not written (the sweep rolls them up).
    expect(await state()).toEqual(before);
  });

  it("answers on an empty database; unknown fields are refused", async () => {
    const res = await call("opsStatus", {}, "finance");
    expect(res.body).toMatchObject({ automation: { paused: false }, backlog: { total: 0 }, oldestPending: null, lastReconcile: null, openAlerts: 0 });
    const bad = await call("opsStatus", { verbose: true }, "admin");
    expect(bad).toMatchObject({ status: 400, body: { field: "verbose" } });
  });
});

describe("listQueue", () => {
  async function seedQueues() {
    const late = await seedCustomer("pastDueGrace");
    const unmapped = await seedCustomer("unmapped");
    expect((await call("flagRefund", { chargeId: "ch_refund1", reason: "double charge", amount: 1234 }, "support")).status).toBe(200);
    await db.doc("alerts/job-dead-1").set({ alertId: "job-dead-1", type: "sync_job_dead", status: "open", jobId: "job-dead-1", kind: "crm.contact.upsert", sink: "crm", target: { uid: "u-x" }, reason: "permanent", error: { message: "Contact already exists", httpStatus: 409 }, attempts: 1, createdAt: new Date() });
    await db.doc("alerts/job-dead-0").set({ alertId: "job-dead-0", status: "resolved", createdAt: new Date() });
    await db.doc("supportRequests/req1").set({ uid: "u-someone", subject: "Cannot log in", message: "help", category: "account", status: "ticket_created", ticketId: "77", createdAt: new Date() });
    await db.doc("supportRequests/req2").set({ uid: "u-someone", subject: "spam", message: "x", category: "other", status: "rejected", createdAt: new Date() });
    const ch = uniq("ch");
    const pi = uniq("pi");
    const dp = uniq("dp");
    await deliver(db, stripeEvent("charge.dispute.created", dispute({ id: dp, charge: ch, paymentIntent: pi, amount: 4321, status: "needs_response", metadata: {} })));
    return { late, unmapped };
  }

  it("support sees unmapped customers, failed payments with the invoice link, support requests — and no amounts", async () => {
    const { late, unmapped } = await seedQueues();
    const before = await state();
    const res = await call("listQueue", {}, "support");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const kinds = new Set(res.body.items?.map((i) => i.kind));
    expect([...kinds].sort()).toEqual(["alert", "failed_payment", "support_request", "unmapped_customer"]);
    expect(res.body.items?.find((i) => i.kind === "alert")).toMatchObject({ jobId: "job-dead-1", sink: "crm", action: "retryJob", error: { httpStatus: 409 } });
    expect(res.body.items?.find((i) => i.kind === "unmapped_customer")).toMatchObject({ stripeCustomerId: unmapped.stripeCustomerId, action: "resolveReview" });
    expect(res.body.items?.find((i) => i.kind === "failed_payment")).toMatchObject({
      uid: late.uid,
      payment: { invoiceId: late.invoiceId, hostedInvoiceUrl: `https://invoice.stripe.com/i/${late.invoiceId}` },
    });
    expect(res.body.items?.filter((i) => i.kind === "support_request").map((i) => i.id)).toEqual(["req1"]);
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/amount|currency|:(4900|1234|4321)\b/i);
    expect(res.body).toMatchObject({ financeFields: false, roles: ["support"], nextPageToken: null });
    expect(await state()).toEqual(before);
  });

  it("finance sees refunds, disputes and failed payments with amounts; admin sees every kind", async () => {
    await seedQueues();
    const fin = await call("listQueue", {}, "finance");
    expect(fin.status, JSON.stringify(fin.body)).toBe(200);
    expect([...new Set(fin.body.items?.map((i) => i.kind))].sort()).toEqual(["dispute", "failed_payment", "refund_request"]);
    expect(fin.body.items?.find((i) => i.kind === "refund_request")).toMatchObject({ chargeId: "ch_refund1", amount: 1234, detail: "double charge" });
    expect(fin.body.items?.find((i) => i.kind === "dispute")).toMatchObject({ amount: 4321, status: "needs_response" });
    expect(fin.body.items?.find((i) => i.kind === "failed_payment")).toMatchObject({ payment: { amountDue: 4900, currency: "usd" } });
    const admin = await call("listQueue", {}, "admin");
    expect(new Set(admin.body.items?.map((i) => i.kind)).size).toBe(6);
    expect(fin.body.items?.some((i) => i.kind === "alert")).toBe(false);
    const asSupport = await call("listQueue", { role: "support" }, "admin");
    expect(JSON.stringify(asSupport.body)).not.toMatch(/"amount/);
  });

  it("a role that cannot act on an item does not see it: other roles' kinds and views are 403", async () => {
    expect(await call("listQueue", { kind: "refund_request" }, "support")).toMatchObject({ status: 403, body: { allowedRoles: ["finance", "admin"] } });
    expect(await call("listQueue", { kind: "unmapped_customer" }, "finance")).toMatchObject({ status: 403 });
    expect(await call("listQueue", { role: "finance" }, "support")).toMatchObject({ status: 403 });
    expect(await call("listQueue", { pageSize: 51 }, "support")).toMatchObject({ status: 400, body: { field: "pageSize" } });
    expect(await call("listQueue", { kind: "everything" }, "admin")).toMatchObject({ status: 400, body: { field: "kind" } });
  });

  it("pages through a kind with a cursor: every item once, in order; a foreign or forged token is 400", async () => {
    for (let i = 0; i < 5; i++) {
      await db.doc(`reviewQueue/evt_u${i}`).set({ eventId: `evt_u${i}`, reason: "unmapped_customer", status: "open", stripeCustomerId: `cus_${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 2)) });
    }
    const seen: string[] = [];
    let token: string | null = null;
    for (let page = 0; page < 5; page++) {
      const res = await call("listQueue", { kind: "unmapped_customer", pageSize: 2, ...(token ? { pageToken: token } : {}) }, "support");
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      if (page === 0) expect(res.body.counts).toEqual({ unmapped_customer: 5 });
      seen.push(...(res.body.items ?? []).map((i) => String(i.id)));
      token = res.body.nextPageToken as string | null;
      if (!token) break;
    }
    expect(seen).toEqual(["evt_u0", "evt_u2", "evt_u4", "evt_u1", "evt_u3"]);
    expect(await call("listQueue", { pageToken: "not-a-token" }, "support")).toMatchObject({ status: 400, body: { field: "pageToken" } });
    const first = await call("listQueue", { kind: "unmapped_customer", pageSize: 1 }, "admin");
    const foreign = await call("listQueue", { kind: "refund_request", pageToken: first.body.nextPageToken }, "admin");
    expect(foreign).toMatchObject({ status: 400, body: { field: "pageToken" } });
  });
});

describe("findCustomer", () => {
  it("names paid, past due in grace, canceled and unmapped customers in one verdict line", async () => {
    const paid = await seedCustomer("paid");
    const late = await seedCustomer("pastDueGrace");
    const gone = await seedCustomer("canceled");
    const unmapped = await seedCustomer("unmapped");
    const verdict = async (query: string) => ((await call("findCustomer", { query }, "support")).body.card as { verdict: { kind: string; line: string } }).verdict;
    expect(await verdict(paid.email)).toMatchObject({ kind: "paid", line: expect.stringMatching(/^Paid — pro/) });
    expect(await verdict(late.uid ?? "")).toMatchObject({ kind: "past_due_grace", line: expect.stringMatching(/^Past due — in grace until \d{4}-\d\d-\d\d/) });
    expect(await verdict(gone.stripeCustomerId)).toMatchObject({ kind: "canceled", line: expect.stringMatching(/^Canceled/) });
    expect(await verdict(unmapped.stripeCustomerId)).toMatchObject({ kind: "unmapped", line: expect.stringContaining(unmapped.stripeCustomerId) });
  });

  it("the card: sync per sink, timeline from audit and ledger newest first; amounts for finance only; nothing written", async () => {
    const late = await seedCustomer("pastDueGrace");
    await db.doc(`customers/${late.uid}`).update({ crmContactId: "90210" });
    const before = await state();
    const support = await call("findCustomer", { query: "90210" }, "support");
    expect(support.status, JSON.stringify(support.body)).toBe(200);
    const card = support.body.card as Record<string, unknown> & { timeline: { at: string; source: string }[] };
    expect(support.body).toMatchObject({ lookedUpBy: ["crmContactId", "uid"], matches: [{ uid: late.uid, matchedBy: "crmContactId" }] });
    expect(card).toMatchObject({ uid: late.uid, identity: { crmContactId: "90210" }, payment: { invoiceId: late.invoiceId, hostedInvoiceUrl: expect.any(String) } });
    expect((card.sync as { sink: string }[]).map((s) => s.sink)).toEqual(["crm", "claims", "helpdesk"]);
    const times = card.timeline.map((t) => Date.parse(t.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set(card.timeline.map((t) => t.source))).toEqual(new Set(["audit", "stripe"]));
    expect(JSON.stringify(support.body)).not.toMatch(/amount|currency/i);
    const finance = await call("findCustomer", { query: late.uid }, "finance");
    expect(finance.body.card).toMatchObject({ payment: { amountDue: 4900, currency: "usd" } });
    expect(await state()).toEqual(before);
  });

  it("several customers with one email are listed, never merged; nothing found is an empty answer; bad input is 400", async () => {
    await db.doc("customers/u-a").set({ uid: "u-a", email: "twin@example.com", name: "A" });
    await db.doc("customers/u-b").set({ uid: "u-b", email: "twin@example.com", name: "B" });
    const twins = await call("findCustomer", { query: "twin@example.com" }, "admin");
    expect(twins.body).toMatchObject({ card: null, matches: [{ uid: "u-a", matchedBy: "email" }, { uid: "u-b", matchedBy: "email" }] });
    expect((await call("findCustomer", { query: "nobody@example.com" }, "admin")).body).toMatchObject({ matches: [], card: null });
    expect(await call("findCustomer", { query: "" }, "admin")).toMatchObject({ status: 400, body: { field: "query" } });
    expect(await call("findCustomer", { query: "x", uid: "y" }, "admin")).toMatchObject({ status: 400, body: { field: "uid" } });
  });
});
