/**
 * The admin API against the real Firestore emulator: the HTTP contract (auth, CORS, routes, errors, rate limit),
 * every operation × every role, dry run vs confirm, audit entries, and the callable's error mapping. Firebase
 * Auth is a fake: test tokens map to claims, users live in memory.
 */
import { randomBytes } from "node:crypto";
import { HttpsError } from "firebase-functions/v2/https";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseCorsOrigins } from "../../functions/src/config";
import { ADMIN_OPERATIONS, type AdminOperation } from "../../functions/src/domain/adminOps";
import type { AdminAuthPort, AdminUser } from "../../functions/src/services/admin";
import { handleAdminCall } from "../../functions/src/services/adminCallable";
import { createApiKey, handleAdminRequest, type AdminHttpDeps, type AdminHttpResponse } from "../../functions/src/services/adminHttp";
import { AuthFailureGuard } from "../../functions/src/services/adminAuthGuard";
import { MemoryClaims, MemoryCrm } from "../fakes/memorySinks";
import { stripeEventsClient } from "../../functions/src/sinks/stripeApi";
import { deliver } from "../support/deliver";
import { dumpAll, resetFirestore, testDb } from "../support/firestore";
import { data } from "../support/read";
import { requeuePausedJobs } from "../../functions/src/store/jobQueue";
import { customer, price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";
import { startStripeServer, type StripeServer } from "../vendors/stripeServer";

const db = testDb();
const ORIGIN = "https://admin.example.com";

type Role = "admin" | "support" | "finance" | "customer";
const ROLES: Role[] = ["admin", "support", "finance", "customer"];
const TOKENS: Record<Role, { token: string; uid: string; claims: Record<string, unknown> }> = {
  admin: { token: "tok-admin", uid: "u-admin", claims: { admin: true } },
  support: { token: "tok-support", uid: "u-support", claims: { support: true } },
  finance: { token: "tok-finance", uid: "u-finance", claims: { finance: true } },
  customer: { token: "tok-customer", uid: "u-customer", claims: { entitlements: ["reports"], plan: "pro" } },
};

class FakeAuth implements AdminAuthPort {
  users = new Map<string, AdminUser>();
  revoked: string[] = [];
  lookups = 0;
  constructor() {
    for (const r of ROLES) this.users.set(TOKENS[r].uid, { claims: { ...TOKENS[r].claims }, tokensValidAfterMs: null });
    this.users.set("u-target", { claims: { entitlements: ["reports"] }, tokensValidAfterMs: null });
  }
  async getUser(uid: string) {
    this.lookups += 1;
    const u = this.users.get(uid);
    return u ? { claims: { ...u.claims }, tokensValidAfterMs: u.tokensValidAfterMs, disabled: u.disabled === true } : null;
  }
  async setClaims(uid: string, claims: Record<string, unknown>) {
    const u = this.users.get(uid);
    if (!u) throw Object.assign(new Error("no user"), { code: "auth/user-not-found" });
    u.claims = { ...claims };
  }
  async revokeSessions(uid: string) {
    this.revoked.push(uid);
    const u = this.users.get(uid);
    // Like Firebase Auth: tokensValidAfterTime has whole-second precision.
    if (u) u.tokensValidAfterMs = Math.floor(Date.now() / 1000) * 1000;
  }
}

let auth: FakeAuth;
let stripe: StripeServer;
const STRIPE_KEY = "sk_test_adminapi_0123456789";

function deps(over: Partial<AdminHttpDeps> = {}): AdminHttpDeps {
  return {
    db,
    auth,
    rateLimitPerMinute: 1000,
    graceDays: 3,
    acceptLivemode: false,
    stripe: stripeEventsClient({ secretKey: STRIPE_KEY, host: stripe.host, port: stripe.port, protocol: "http", maxNetworkRetries: 0 }),
    crm: new MemoryCrm(),
    claims: new MemoryClaims(),
    authFailures: new AuthFailureGuard({ maxFailures: 20, windowMs: 300_000 }),
    corsOrigins: [ORIGIN],
    verifyIdToken: async (token) => {
      const entry = Object.values(TOKENS).find((t) => t.token === token);
      if (!entry) throw Object.assign(new Error("Decoding Firebase ID token failed"), { code: "auth/argument-error" });
      return { uid: entry.uid, claims: { ...entry.claims, uid: entry.uid } };
    },
    ...over,
  };
}

interface CallOpts {
  role?: Role;
  token?: string;
  apiKey?: string;
  origin?: string;
  /** The client address (sent as X-Forwarded-For). */
  address?: string;
  method?: string;
  path?: string;
  raw?: string;
  deps?: AdminHttpDeps;
}

async function call(operation: string, body: unknown, opts: CallOpts = {}): Promise<AdminHttpResponse> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = opts.token ?? (opts.role ? TOKENS[opts.role].token : undefined);
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (opts.apiKey !== undefined) headers["x-api-key"] = opts.apiKey;
  if (opts.origin !== undefined) headers.origin = opts.origin;
  if (opts.address !== undefined) headers["x-forwarded-for"] = `${opts.address}, 10.0.0.1`;
  return handleAdminRequest(
    {
      method: opts.method ?? "POST",
      path: opts.path ?? `/v1/${operation}`,
      headers,
      rawBody: Buffer.from(opts.raw ?? (body === undefined ? "" : JSON.stringify(body))),
    },
    opts.deps ?? deps(),
  );
}

/** Every document except the rate-limit counters (which every call moves). */
async function dump(): Promise<Record<string, unknown>> {
  const all = await dumpAll(db);
  return Object.fromEntries(Object.entries(all).filter(([path]) => !path.startsWith("rateLimits/")));
}

async function auditEntries(action: string) {
  return (await db.collection("auditLog").where("action", "==", action).get()).docs.map((d) => d.data());
}

const CUSTOMER_UID = "u-cust-1";
const DEAD_JOB = "evt_dead.crm.contact.upsert.u-cust-1";
const INCIDENT = "incident.crm.http_5xx";

async function seed(): Promise<void> {
  const at = new Date("2025-06-01T00:00:00Z");
  await db.doc(`customers/${CUSTOMER_UID}`).set({
    uid: CUSTOMER_UID,
    email: "ada@example.com",
    name: "Ada",
    stripeCustomerId: "cus_seeded",
    crmContactId: "hs-1",
    plan: "pro",
    subscriptionStatus: "past_due",
    currentPeriodEnd: at,
    cancelAtPeriodEnd: false,
    delinquent: true,
    lastPaymentAt: at,
    entitlements: ["reports"],
    supportTier: "standard",
    sync: { crm: { status: "failed", jobId: DEAD_JOB, at } },
    tickets: { "failed-renewal:in_1": { ticketId: "t-1", helpdesk: "hubspot", subject: "Renewal failed", at } },
  });
  await db.doc(`customers/${CUSTOMER_UID}/private/billing`).set({
    uid: CUSTOMER_UID,
    stripeCustomerId: "cus_seeded",
    lastPaymentFailure: { invoiceId: "in_1", paymentIntentId: "pi_1", code: "card_declined", at },
    invoices: { in_1: { status: "open", amountDue: 2900, currency: "usd" } },
  });
  await db.doc(`customers/${CUSTOMER_UID}/staff/notes`).set({
    uid: CUSTOMER_UID,
    internalNotes: "Prefers phone calls.",
    lastEditedBy: "u-admin",
    tickets: { "failed-renewal:in_1": { notes: [{ note: "Called, card replaced", by: "u-support", at }] } },
    updatedAt: at,
  });
  const job = (id: string, status: string, extra: Record<string, unknown> = {}) =>
    db.doc(`syncJobs/${id}`).set({
      jobId: id,
      kind: "crm.contact.upsert",
      status,
      target: { uid: CUSTOMER_UID },
      attempts: 5,
      createdAt: at,
      updatedAt: at,
      nextAttemptAt: null,
      ...extra,
    });
  await db.doc(`alerts/${INCIDENT}`).set({ alertId: INCIDENT, type: "incident", status: "open", occurrence: 1, title: "HubSpot CRM is failing (HTTP 500)", owner: "admin", sink: "crm", scope: "sink", jobIds: [DEAD_JOB], deadJobIds: [DEAD_JOB], openKeys: [], acknowledged: null, createdAt: at, updatedAt: at });
  await db.doc("reviewQueue/refund_order-seeded").set({ reviewId: "refund_order-seeded", reason: "refund_requested", detail: "charged twice", status: "open", orderId: "order-seeded", amount: 2900, requestedBy: "u-support", createdAt: at, updatedAt: at });
  await job(DEAD_JOB, "dead", { deadReason: "max_attempts", lastError: { message: "HubSpot 500", httpStatus: 500, vendorRequestId: null, at } });
  await job("evt_ok.crm.contact.upsert.u-cust-1", "succeeded");
  await job("evt_wait.auth.claims.update.u-cust-1", "retrying");
  for (let i = 0; i < 22; i++) {
    await db.collection("auditLog").add({
      actor: { type: "stripe", id: `evt_${i}` },
      action: "customer.update",
      target: `customers/${CUSTOMER_UID}`,
      before: { n: i - 1 },
      after: { n: i },
      at: new Date(at.getTime() + i * 1000),
    });
  }
}

/** A valid input per operation; destructive ones without confirm (a dry run). */
const INPUT: Record<AdminOperation, Record<string, unknown>> = {
  setRole: { uid: "u-target", role: "support", enabled: true },
  customerSummary: { uid: CUSTOMER_UID },
  retryJob: { jobId: DEAD_JOB },
  setAutomation: { paused: true, reason: "matrix" },
  resumeSink: { sink: "crm" },
  resolveReview: { stripeCustomerId: "cus_matrix", uid: "u-target" },
  replayEvent: { eventId: "evt_matrix" },
  flagRefund: { orderId: "order-matrix", reason: "matrix" },
  resolveFailedPayment: { uid: CUSTOMER_UID },
  backfill: {},
  reconcile: {},
  sweepEvents: { since: "2026-01-01T00:00:00Z" },
  replay: { since: "2020-01-01T00:00:00Z", until: "2020-01-02T00:00:00Z" },
  opsStatus: {},
  listQueue: {},
  findCustomer: { query: CUSTOMER_UID },
  ackIncident: { incidentId: INCIDENT, note: "matrix" },
  resolveIncident: { incidentId: INCIDENT, note: "matrix" },
  resolveRefundRequest: { requestId: "refund_order-seeded", decision: "declined", note: "matrix" },
};

const ALLOWED: Record<AdminOperation, Role[]> = {
  setRole: ["admin"],
  customerSummary: ["admin", "support", "finance"],
  retryJob: ["admin", "support"],
  setAutomation: ["admin"],
  resumeSink: ["admin"],
  resolveReview: ["admin", "support"],
  replayEvent: ["admin"],
  flagRefund: ["admin", "support"],
  resolveFailedPayment: ["admin", "support", "finance"],
  backfill: ["admin"],
  reconcile: ["admin", "finance"],
  sweepEvents: ["admin"],
  replay: ["admin"],
  opsStatus: ["admin", "support", "finance"],
  listQueue: ["admin", "support", "finance"],
  findCustomer: ["admin", "support", "finance"],
  ackIncident: ["admin", "support"],
  resolveIncident: ["admin", "support"],
  resolveRefundRequest: ["admin", "finance"],
};

describe("admin API", () => {
  beforeAll(async () => {
    stripe = await startStripeServer({ secretKey: STRIPE_KEY });
  });
  afterAll(async () => {
    await stripe.close();
  });
  beforeEach(async () => {
    await resetFirestore();
    auth = new FakeAuth();
    stripe.reset();
    stripe.seedEvent(stripeEvent("customer.updated", customer({ id: "cus_matrix", uid: "u-target" }), { id: "evt_matrix" }));
    await seed();
  });

  describe("operation × role", () => {
    const cases = (Object.keys(ALLOWED) as AdminOperation[]).flatMap((op) => ROLES.map((role) => ({ op, role, allowed: ALLOWED[op].includes(role) })));

    it("the table matches the operations' declared roles", () => {
      for (const op of Object.keys(ALLOWED) as AdminOperation[]) {
        expect([...ADMIN_OPERATIONS[op].roles].sort()).toEqual(ALLOWED[op].filter((r) => r !== "customer").sort());
      }
    });

    it.each(cases)("$op as $role → allowed: $allowed", async ({ op, role, allowed }) => {
      const res = await call(op, INPUT[op], { role });
      if (allowed) {
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body).toMatchObject({ operation: op });
        return;
      }
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ allowedRoles: [...ADMIN_OPERATIONS[op].roles] });
      expect(String(res.body?.error)).toContain(op);
      const denied = await auditEntries(`admin.${op}`);
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({
        outcome: "denied",
        actor: { type: "user", id: TOKENS[role].uid, roles: role === "customer" ? [] : [role], via: "idToken" },
        before: null,
        after: null,
      });
    });
  });

  describe("authentication", () => {
    it("no credentials → 401 with a one-line JSON error", async () => {
      const res = await call("customerSummary", INPUT.customerSummary);
      expect(res.status).toBe(401);
      expect(Object.keys(res.body ?? {})).toEqual(["error"]);
      expect(String(res.body?.error)).not.toContain("\n");
    });

    it("an invalid ID token, or a non-Bearer Authorization → 401", async () => {
      expect((await call("customerSummary", INPUT.customerSummary, { token: "forged" })).status).toBe(401);
      const basic = await handleAdminRequest(
        { method: "POST", path: "/v1/customerSummary", headers: { authorization: "Basic abc" }, rawBody: Buffer.from("{}") },
        deps(),
      );
      expect(basic.status).toBe(401);
    });

    it("a failure of the token verifier that is not an auth error is a 500, not a 401", async () => {
      const broken = deps({ verifyIdToken: async () => Promise.reject(Object.assign(new Error("key fetch failed"), { code: "app/network-error" })) });
      expect((await call("customerSummary", INPUT.customerSummary, { role: "admin", deps: broken })).status).toBe(500);
    });

    it("API key: valid (acts with its role), wrong secret, unknown key, malformed, revoked", async () => {
      const { keyId, apiKey } = await createApiKey(db, { role: "support", label: "helpdesk bot", createdBy: "u-admin" });
      const stored = await data(db, `apiKeys/${keyId}`);
      expect(stored).toMatchObject({ keyId, role: "support", label: "helpdesk bot", createdBy: "u-admin", revoked: false });
      expect(String(stored?.hash)).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(stored)).not.toContain(apiKey.split("_").slice(2).join("_"));

      const ok = await call("customerSummary", INPUT.customerSummary, { apiKey });
      expect(ok.status).toBe(200);
      expect(ok.body).not.toHaveProperty("privateBilling"); // support role
      expect((await call("setRole", INPUT.setRole, { apiKey })).status).toBe(403);
      expect((await auditEntries("admin.setRole"))[0]).toMatchObject({
        actor: { type: "apiKey", id: `apiKey:${keyId}`, roles: ["support"], via: "apiKey", keyId },
      });

      const secret = apiKey.slice(`opk_${keyId}_`.length);
      const wrong = `opk_${keyId}_${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
      expect(await call("customerSummary", INPUT.customerSummary, { apiKey: wrong })).toMatchObject({ status: 401, body: { error: "invalid API key" } });
      expect((await call("customerSummary", INPUT.customerSummary, { apiKey: `opk_0123456789abcdef_${secret}` })).status).toBe(401);
      expect((await call("customerSummary", INPUT.customerSummary, { apiKey: "not-a-key" })).status).toBe(401);

      await db.doc(`apiKeys/${keyId}`).update({ revoked: true });
      expect(await call("customerSummary", INPUT.customerSummary, { apiKey })).toMatchObject({ status: 401, body: { error: "API key revoked" } });
      // Revocation is not revealed without the secret.
      expect(await call("customerSummary", INPUT.customerSummary, { apiKey: wrong })).toMatchObject({ status: 401, body: { error: "invalid API key" } });
    });

    it("a token minted in the same second as a role removal → 401 (HTTP and callable); a later session works, one Auth lookup each", async () => {
      auth.users.set("u-target", { claims: { support: true }, tokensValidAfterMs: null });
      const removed = await call("setRole", { uid: "u-target", role: "support", enabled: false, confirm: true }, { role: "admin" });
      expect(removed.body).toMatchObject({ sessionsRevoked: true });
      const revokedMs = auth.users.get("u-target")?.tokensValidAfterMs;
      expect(revokedMs).toEqual(expect.any(Number));
      const sec = Math.floor(Number(revokedMs) / 1000);
      // Tokens as a verifier would decode them: the same second as the revocation, and the next one.
      const tokens: Record<string, { uid: string; claims: Record<string, unknown> }> = {
        "tok-same-second": { uid: "u-target", claims: { support: true, iat: sec, auth_time: sec } },
        "tok-next-second": { uid: "u-target", claims: { iat: sec + 1, auth_time: sec + 1 } },
      };
      const verifying = deps({
        verifyIdToken: async (token) => {
          const t = tokens[token];
          if (!t) throw Object.assign(new Error("bad token"), { code: "auth/argument-error" });
          return t;
        },
      });
      auth.lookups = 0;
      const same = await call("customerSummary", INPUT.customerSummary, { token: "tok-same-second", deps: verifying });
      expect(same).toMatchObject({ status: 401, body: { error: "this session was revoked; sign in again" } });
      expect(auth.lookups).toBe(1);
      // A session begun after the revocation is the user's again (here without the removed role: 403, not 401).
      auth.lookups = 0;
      expect((await call("customerSummary", INPUT.customerSummary, { token: "tok-next-second", deps: verifying })).status).toBe(403);
      expect(auth.lookups).toBe(1);

      const callable = await handleAdminCall(deps(), {
        auth: { uid: "u-target", token: { support: true, iat: sec, auth_time: sec } },
        data: { operation: "customerSummary", input: INPUT.customerSummary },
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect((callable as HttpsError).code).toBe("unauthenticated");
    });

    it("a disabled or deleted user's valid token → 401", async () => {
      auth.users.set("u-support", { claims: { support: true }, tokensValidAfterMs: null, disabled: true });
      expect((await call("customerSummary", INPUT.customerSummary, { role: "support" })).status).toBe(401);
      auth.users.delete("u-support");
      expect((await call("customerSummary", INPUT.customerSummary, { role: "support" })).status).toBe(401);
    });

    it("both an ID token and an API key → 401", async () => {
      const { apiKey } = await createApiKey(db, { role: "admin", label: "ops", createdBy: "u-admin" });
      expect((await call("customerSummary", INPUT.customerSummary, { role: "admin", apiKey })).status).toBe(401);
    });
  });

  describe("routes and input", () => {
    it("an unknown field → 400 naming it", async () => {
      const res = await call("customerSummary", { uid: CUSTOMER_UID, email: "x@example.com" }, { role: "admin" });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ field: "email" });
      expect(String(res.body?.error)).toContain('unknown field "email"');
      const retry = await call("retryJob", { jobId: DEAD_JOB, confirm: true }, { role: "admin" });
      expect(retry).toMatchObject({ status: 400, body: { field: "confirm" } });
    });

    it("a missing or mistyped field → 400 naming it", async () => {
      expect(await call("setRole", { uid: "u-target", role: "owner", enabled: true }, { role: "admin" })).toMatchObject({ status: 400, body: { field: "role" } });
      expect(await call("setRole", { uid: "u-target", role: "support" }, { role: "admin" })).toMatchObject({ status: 400, body: { field: "enabled" } });
      expect(await call("customerSummary", { uid: "a/b" }, { role: "admin" })).toMatchObject({ status: 400, body: { field: "uid" } });
      expect(await call("resolveReview", { stripeCustomerId: "acct_1", uid: "u-target" }, { role: "admin" })).toMatchObject({ status: 400, body: { field: "stripeCustomerId" } });
    });

    it("bad JSON, or a body that is not an object → 400", async () => {
      expect(await call("customerSummary", undefined, { role: "admin", raw: "{uid:" })).toMatchObject({ status: 400, body: { error: "body is not valid JSON" } });
      expect((await call("customerSummary", [CUSTOMER_UID], { role: "admin" })).status).toBe(400);
    });

    it("unknown operation or route → 404; non-POST → 405", async () => {
      expect((await call("dropDatabase", {}, { role: "admin" })).status).toBe(404);
      expect((await call("x", {}, { role: "admin", path: "/customerSummary" })).status).toBe(404);
      // Behind a Hosting rewrite the path keeps its prefix.
      expect((await call("x", INPUT.customerSummary, { role: "admin", path: "/api/admin/v1/customerSummary" })).status).toBe(200);
      const get = await call("customerSummary", undefined, { role: "admin", method: "GET" });
      expect(get.status).toBe(405);
      expect(get.headers.Allow).toBe("POST, OPTIONS");
    });

    it("a missing customer → 404", async () => {
      expect((await call("customerSummary", { uid: "nobody" }, { role: "support" })).status).toBe(404);
    });
  });

  describe("hostile ids (one id policy, domain/ids.ts)", () => {
    const HOSTILE: Array<[string, string]> = [
      ["reserved", "__x__"],
      ["slash", "a/b"],
      ["dot-dot", ".."],
      ["dot", "."],
      ["1,600 characters", "a".repeat(1600)],
      ["lone surrogate", "\ud800"],
    ];
    // Every admin input that becomes (part of) a document id, with a valid input around it.
    const ID_FIELDS: Array<{ op: AdminOperation; field: string; input: (bad: string) => Record<string, unknown> }> = [
      { op: "setRole", field: "uid", input: (bad) => ({ uid: bad, role: "support", enabled: true, confirm: true }) },
      { op: "customerSummary", field: "uid", input: (bad) => ({ uid: bad }) },
      { op: "retryJob", field: "jobId", input: (bad) => ({ jobId: bad }) },
      { op: "resolveReview", field: "stripeCustomerId", input: (bad) => ({ stripeCustomerId: bad, uid: "u-target", confirm: true }) },
      { op: "resolveReview", field: "uid", input: (bad) => ({ stripeCustomerId: "cus_matrix", uid: bad, confirm: true }) },
      { op: "replayEvent", field: "eventId", input: (bad) => ({ eventId: bad, confirm: true }) },
      { op: "flagRefund", field: "orderId", input: (bad) => ({ orderId: bad, reason: "hostile" }) },
      { op: "flagRefund", field: "chargeId", input: (bad) => ({ chargeId: bad, reason: "hostile" }) },
      { op: "flagRefund", field: "paymentIntentId", input: (bad) => ({ paymentIntentId: bad, reason: "hostile" }) },
      { op: "resolveFailedPayment", field: "uid", input: (bad) => ({ uid: bad, confirm: true }) },
      { op: "ackIncident", field: "incidentId", input: (bad) => ({ incidentId: bad }) },
      { op: "resolveIncident", field: "incidentId", input: (bad) => ({ incidentId: bad, note: "hostile", confirm: true }) },
      { op: "resolveRefundRequest", field: "requestId", input: (bad) => ({ requestId: bad, decision: "declined", note: "hostile", confirm: true }) },
    ];
    const callAsAdmin = (data: unknown) => {
      const nowSec = Math.floor(Date.now() / 1000);
      return handleAdminCall(deps(), { auth: { uid: TOKENS.admin.uid, token: { ...TOKENS.admin.claims, auth_time: nowSec, iat: nowSec } }, data }).then(
        () => null,
        (e: unknown) => e,
      );
    };

    it.each(ID_FIELDS)("$op $field: each hostile value → 400 (HTTP) / invalid-argument (callable) naming the field, nothing written", async ({ op, field, input }) => {
      const before = await dump();
      for (const [label, value] of HOSTILE) {
        const res = await call(op, input(value), { role: "admin" });
        expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body, label).toMatchObject({ field });
        const error = await callAsAdmin({ operation: op, input: input(value) });
        expect(error, label).toBeInstanceOf(HttpsError);
        expect((error as HttpsError).code, label).toBe("invalid-argument");
        expect((error as HttpsError).details, label).toMatchObject({ field });
      }
      expect(await dump()).toEqual(before);
    });

    // Well-formed but absent: the operation looks and answers 404.
    const ABSENT: Array<{ op: AdminOperation; input: Record<string, unknown> }> = [
      { op: "setRole", input: { uid: "ghost", role: "support", enabled: true, confirm: true } },
      { op: "customerSummary", input: { uid: "nobody" } },
      { op: "retryJob", input: { jobId: "evt_none.crm.contact.upsert.nobody" } },
      { op: "resolveReview", input: { stripeCustomerId: "cus_matrix", uid: "ghost", confirm: true } },
      { op: "replayEvent", input: { eventId: "evt_unknown", confirm: true } },
      { op: "resolveFailedPayment", input: { uid: "nobody", confirm: true } },
      { op: "ackIncident", input: { incidentId: "incident.none" } },
      { op: "resolveIncident", input: { incidentId: "incident.none", note: "x", confirm: true } },
      { op: "resolveRefundRequest", input: { requestId: "refund_none", decision: "refunded", note: "x", confirm: true } },
    ];

    it.each(ABSENT)("HTTP and callable: $op for a well-formed id that does not exist → 404 / not-found", async ({ op, input }) => {
      const res = await call(op, input, { role: "admin" });
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      const error = await callAsAdmin({ operation: op, input });
      expect(error).toBeInstanceOf(HttpsError);
      expect((error as HttpsError).code).toBe("not-found");
    });
  });

  describe("rate limit", () => {
    it("over the per-minute limit → 429 with Retry-After; the next window is open again; callers count separately", async () => {
      let now = new Date("2025-06-01T12:00:15Z");
      const limited = deps({ rateLimitPerMinute: 2, now: () => now });
      expect((await call("customerSummary", INPUT.customerSummary, { role: "support", deps: limited })).status).toBe(200);
      expect((await call("customerSummary", INPUT.customerSummary, { role: "support", deps: limited })).status).toBe(200);
      const over = await call("customerSummary", INPUT.customerSummary, { role: "support", deps: limited });
      expect(over.status).toBe(429);
      expect(over.headers["Retry-After"]).toBe("45");
      expect(over.body).toMatchObject({ retryAfterSeconds: 45 });
      // Another caller has its own budget.
      expect((await call("customerSummary", INPUT.customerSummary, { role: "finance", deps: limited })).status).toBe(200);
      now = new Date("2025-06-01T12:01:00Z");
      expect((await call("customerSummary", INPUT.customerSummary, { role: "support", deps: limited })).status).toBe(200);
      expect(await data(db, "rateLimits/user:u-support")).toMatchObject({ count: 1 });
    });
  });

  describe("failed-authentication limit", () => {
    const LIMITS = { maxFailures: 3, windowMs: 60_000 };
    const ATTACKER = "203.0.113.7";
    const badKey = () => `opk_${randomBytes(8).toString("hex")}_${"A".repeat(43)}`;

    it("N bad API keys from one address → 429 with Retry-After before any key read or token check; other addresses work; the window expires", async () => {
      const { apiKey } = await createApiKey(db, { role: "support", label: "bot", createdBy: "u-admin" });
      let now = new Date("2025-06-01T12:00:10Z");
      let verifications = 0;
      const guard = new AuthFailureGuard(LIMITS);
      const limited = deps({
        authFailures: guard,
        now: () => now,
        verifyIdToken: async (token) => {
          verifications += 1;
          return deps().verifyIdToken(token);
        },
      });
      for (let i = 0; i < LIMITS.maxFailures; i++) {
        expect((await call("customerSummary", INPUT.customerSummary, { apiKey: badKey(), address: ATTACKER, deps: limited })).status).toBe(401);
      }
      // Even a good key is refused from that address now, so guessing learns nothing.
      const blocked = await call("customerSummary", INPUT.customerSummary, { apiKey, address: ATTACKER, deps: limited });
      expect(blocked.status).toBe(429);
      expect(blocked.headers["Retry-After"]).toBe("50");
      expect(blocked.body).toMatchObject({ retryAfterSeconds: 50 });
      // A token from that address is refused without being verified.
      expect((await call("customerSummary", INPUT.customerSummary, { token: "forged", address: ATTACKER, deps: limited })).status).toBe(429);
      expect(verifications).toBe(0);

      // Another address is not affected.
      expect((await call("customerSummary", INPUT.customerSummary, { apiKey, address: "198.51.100.2", deps: limited })).status).toBe(200);
      expect((await call("customerSummary", INPUT.customerSummary, { role: "admin", address: "198.51.100.2", deps: limited })).status).toBe(200);

      // Counted in Firestore under a hash of the address (the address itself is not stored).
      const counters = (await db.collection("rateLimits").get()).docs.filter((d) => d.id.startsWith("authFailure:ip:"));
      expect(counters.map((d) => d.get("count"))).toEqual([LIMITS.maxFailures]);
      expect(JSON.stringify(counters.map((d) => [d.id, d.data()]))).not.toContain(ATTACKER);

      // Another function instance (empty memory) learns of the block from the shared count at its first failure.
      const otherInstance = deps({ authFailures: new AuthFailureGuard(LIMITS), now: () => now });
      expect((await call("customerSummary", INPUT.customerSummary, { apiKey: badKey(), address: ATTACKER, deps: otherInstance })).status).toBe(429);
      expect((await call("customerSummary", INPUT.customerSummary, { apiKey, address: ATTACKER, deps: otherInstance })).status).toBe(429);

      // The next window is open again.
      now = new Date("2025-06-01T12:01:00Z");
      expect((await call("customerSummary", INPUT.customerSummary, { apiKey, address: ATTACKER, deps: limited })).status).toBe(200);
    });

    it("wrong secrets for one key id from many addresses → that key id is blocked, even with its right secret; other keys work", async () => {
      const target = await createApiKey(db, { role: "support", label: "target", createdBy: "u-admin" });
      const other = await createApiKey(db, { role: "support", label: "other", createdBy: "u-admin" });
      const limited = deps({ authFailures: new AuthFailureGuard(LIMITS), now: () => new Date("2025-06-01T12:00:30Z") });
      const wrong = `opk_${target.keyId}_${"B".repeat(43)}`;
      for (let i = 0; i < LIMITS.maxFailures; i++) {
        expect((await call("customerSummary", INPUT.customerSummary, { apiKey: wrong, address: `192.0.2.${i + 1}`, deps: limited })).status).toBe(401);
      }
      const blocked = await call("customerSummary", INPUT.customerSummary, { apiKey: target.apiKey, address: "192.0.2.99", deps: limited });
      expect(blocked).toMatchObject({ status: 429, headers: { "Retry-After": "30" } });
      expect((await call("customerSummary", INPUT.customerSummary, { apiKey: other.apiKey, address: "192.0.2.99", deps: limited })).status).toBe(200);
    });
  });

  describe("CORS", () => {
    it("preflight from an allowed origin echoes that origin (never *)", async () => {
      const res = await call("customerSummary", undefined, { method: "OPTIONS", origin: ORIGIN });
      expect(res.status).toBe(204);
      expect(res.body).toBeNull();
      expect(res.headers["Access-Control-Allow-Origin"]).toBe(ORIGIN);
      expect(res.headers["Access-Control-Allow-Headers"]).toContain("X-Api-Key");
      expect(res.headers.Vary).toBe("Origin");
      const post = await call("customerSummary", INPUT.customerSummary, { role: "admin", origin: ORIGIN });
      expect(post.status).toBe(200);
      expect(post.headers["Access-Control-Allow-Origin"]).toBe(ORIGIN);
    });

    it("a disallowed origin gets no CORS headers and is refused", async () => {
      for (const method of ["OPTIONS", "POST"]) {
        const res = await call("customerSummary", INPUT.customerSummary, { role: "admin", method, origin: "https://evil.example.com" });
        expect(res.status).toBe(403);
        expect(res.headers).not.toHaveProperty("Access-Control-Allow-Origin");
      }
      // Near misses are not matches.
      const res = await call("customerSummary", INPUT.customerSummary, { role: "admin", origin: `${ORIGIN}.evil.com` });
      expect(res.status).toBe(403);
    });

    it("no configured origin → no browser origin allowed; calls without Origin (curl, servers) still work", async () => {
      const none = deps({ corsOrigins: parseCorsOrigins("") });
      expect((await call("customerSummary", undefined, { method: "OPTIONS", origin: ORIGIN, deps: none })).status).toBe(403);
      const res = await call("customerSummary", INPUT.customerSummary, { role: "admin", deps: none });
      expect(res.status).toBe(200);
      expect(res.headers).not.toHaveProperty("Access-Control-Allow-Origin");
    });

    it("ADMIN_CORS_ORIGINS is validated: exact origins only", () => {
      expect(parseCorsOrigins("https://a.example.com, http://localhost:5173")).toEqual(["https://a.example.com", "http://localhost:5173"]);
      expect(() => parseCorsOrigins("*")).toThrow(/ADMIN_CORS_ORIGINS/);
      expect(() => parseCorsOrigins("https://a.example.com/")).toThrow(/ADMIN_CORS_ORIGINS/);
    });
  });

  describe("customerSummary", () => {
    it("finance and admin see private billing; support does not; jobs, tickets and the newest 20 audit entries", async () => {
      const finance = await call("customerSummary", INPUT.customerSummary, { role: "finance" });
      expect(finance.status).toBe(200);
      const body = finance.body ?? {};
      expect(body).toMatchObject({
        uid: CUSTOMER_UID,
        identity: { uid: CUSTOMER_UID, email: "ada@example.com", stripeCustomerId: "cus_seeded", crmContactId: "hs-1" },
        billing: { plan: "pro", subscriptionStatus: "past_due", delinquent: true, entitlements: ["reports"], currentPeriodEnd: "2025-06-01T00:00:00.000Z" },
        sync: { crm: { status: "failed", jobId: DEAD_JOB } },
        tickets: [{ requestId: "failed-renewal:in_1", ticketId: "t-1", helpdesk: "hubspot" }],
        privateBilling: { lastPaymentFailure: { invoiceId: "in_1", code: "card_declined" }, invoices: { in_1: { status: "open" } } },
      });
      const openJobs = body.openJobs as Array<{ jobId: string; status: string }>;
      expect(openJobs.map((j) => j.status).sort()).toEqual(["dead", "retrying"]);
      const audit = body.recentAudit as Array<{ after: { n: number } }>;
      expect(audit).toHaveLength(20);
      expect(audit[0]?.after.n).toBe(21);
      expect(audit[19]?.after.n).toBe(2);

      // Staff notes (customers/{uid}/staff/notes) are support's and admin's, as in the rules: finance gets none.
      expect(body).not.toHaveProperty("staffNotes");
      expect((body.tickets as Record<string, unknown>[])[0]).not.toHaveProperty("notes");
      expect(JSON.stringify(body)).not.toContain("Prefers phone calls");

      const support = await call("customerSummary", INPUT.customerSummary, { role: "support" });
      expect(support.status).toBe(200);
      expect(support.body).not.toHaveProperty("privateBilling");
      const staffView = {
        staffNotes: { internalNotes: "Prefers phone calls.", lastEditedBy: "u-admin" },
        tickets: [{ requestId: "failed-renewal:in_1", notes: [{ note: "Called, card replaced", by: "u-support" }] }],
      };
      expect(support.body).toMatchObject(staffView);
      const admin = await call("customerSummary", INPUT.customerSummary, { role: "admin" });
      expect(admin.body).toHaveProperty("privateBilling");
      expect(admin.body).toMatchObject(staffView);
      // Reading changes nothing and is not audited.
      expect(await auditEntries("admin.customerSummary")).toEqual([]);
    });
  });

  describe("setRole", () => {
    it("dry run changes nothing; confirm sets the claim (keeping others) and writes an audit entry", async () => {
      const before = await dump();
      const dry = await call("setRole", INPUT.setRole, { role: "admin" });
      expect(dry.body).toMatchObject({ dryRun: true, wouldChange: true, before: { roles: [] }, after: { roles: ["support"] } });
      expect(auth.users.get("u-target")?.claims).toEqual({ entitlements: ["reports"] });
      expect(await dump()).toEqual(before);

      const done = await call("setRole", { ...INPUT.setRole, confirm: true }, { role: "admin" });
      expect(done).toMatchObject({ status: 200, body: { dryRun: false, changed: true, sessionsRevoked: false } });
      expect(auth.users.get("u-target")?.claims).toEqual({ entitlements: ["reports"], support: true });
      const [entry] = await auditEntries("admin.setRole");
      expect(entry).toMatchObject({
        outcome: "applied",
        actor: { type: "user", id: "u-admin", roles: ["admin"], via: "idToken" },
        target: "users/u-target",
        before: { roles: [] },
        after: { roles: ["support"] },
      });

      // Again: nothing to change, nothing audited.
      expect((await call("setRole", { ...INPUT.setRole, confirm: true }, { role: "admin" })).body).toMatchObject({ changed: false });
      expect(await auditEntries("admin.setRole")).toHaveLength(1);
    });

    it("removing a role revokes the user's sessions", async () => {
      auth.users.set("u-target", { claims: { support: true, plan: "pro" }, tokensValidAfterMs: null });
      const res = await call("setRole", { uid: "u-target", role: "support", enabled: false, confirm: true }, { role: "admin" });
      expect(res.body).toMatchObject({ changed: true, sessionsRevoked: true, after: { roles: [] } });
      expect(auth.users.get("u-target")?.claims).toEqual({ plan: "pro" });
      expect(auth.revoked).toEqual(["u-target"]);
    });

    it("an admin cannot remove their own admin role (409); an unknown user is 404", async () => {
      expect((await call("setRole", { uid: "u-admin", role: "admin", enabled: false, confirm: true }, { role: "admin" })).status).toBe(409);
      expect((await call("setRole", { uid: "ghost", role: "finance", enabled: true, confirm: true }, { role: "admin" })).status).toBe(404);
    });
  });

  describe("retryJob", () => {
    it("puts a dead job back to pending, audited with the caller; a job that is not dead is 409, a missing one 404", async () => {
      const res = await call("retryJob", INPUT.retryJob, { role: "support" });
      expect(res.body).toMatchObject({ retried: true, before: { status: "dead", attempts: 5 }, after: { status: "pending" } });
      expect(await data(db, `syncJobs/${DEAD_JOB}`)).toMatchObject({ status: "pending", attempts: 0 });
      expect((await auditEntries("admin.retryJob"))[0]).toMatchObject({
        outcome: "applied",
        actor: { id: "u-support", roles: ["support"], via: "idToken" },
        target: `syncJobs/${DEAD_JOB}`,
      });
      expect((await auditEntries("syncJob.retry"))[0]).toMatchObject({ actor: { id: "u-support", roles: ["support"] } });

      expect((await call("retryJob", INPUT.retryJob, { role: "support" })).status).toBe(409);
      expect((await call("retryJob", { jobId: "nope" }, { role: "support" })).status).toBe(404);
    });
  });

  describe("setAutomation", () => {
    it("dry run reports the jobs affected and changes nothing; confirm pauses, resume re-queues, both audited", async () => {
      await db.doc("syncJobs/held.1").set({ jobId: "held.1", kind: "notify.slack", status: "paused", target: {}, createdAt: new Date(), updatedAt: new Date() });
      const before = await dump();
      const dry = await call("setAutomation", { paused: true, reason: "HubSpot outage" }, { role: "admin" });
      expect(dry.body).toMatchObject({ dryRun: true, before: { paused: false }, after: { paused: true, reason: "HubSpot outage" }, jobsAffected: 1 });
      expect(await dump()).toEqual(before);

      const paused = await call("setAutomation", { paused: true, reason: "HubSpot outage", confirm: true }, { role: "admin" });
      expect(paused.body).toMatchObject({ dryRun: false, after: { paused: true }, pausedJobs: 0 });
      expect(await data(db, "ops/automation")).toMatchObject({ paused: true, reason: "HubSpot outage", by: "u-admin" });

      const dryResume = await call("setAutomation", { paused: false }, { role: "admin" });
      expect(dryResume.body).toMatchObject({ dryRun: true, before: { paused: true, reason: "HubSpot outage", by: "u-admin" }, jobsAffected: 1 });
      // Resuming writes the switch only; onAutomationWritten (emulated here) is the one place that re-queues.
      const resumed = await call("setAutomation", { paused: false, confirm: true }, { role: "admin" });
      expect(resumed.body).toMatchObject({ pausedJobs: 1 });
      expect(await data(db, "syncJobs/held.1")).toMatchObject({ status: "paused" });
      expect(await requeuePausedJobs(db, new Date())).toBe(1);
      expect(await data(db, "syncJobs/held.1")).toMatchObject({ status: "pending" });

      const entries = await auditEntries("admin.setAutomation");
      expect(entries.map((e) => (e.after as { paused: boolean }).paused).sort()).toEqual([false, true]);
      expect(entries[0]).toMatchObject({ actor: { id: "u-admin", roles: ["admin"] }, target: "ops/automation" });
    });
  });

  describe("resolveReview", () => {
    it("end to end: an unmapped subscription event is held; dry run lists it; confirm maps, applies it, and the customer is active", async () => {
      const cus = uniq("cus");
      const held = stripeEvent(
        "customer.subscription.created",
        subscription({ id: uniq("sub"), customer: cus, status: "active", price: price({ id: "price_pro", lookupKey: "pro", entitlements: "reports" }) }),
      );
      expect((await deliver(db, held)).body).toMatchObject({ status: "needs_review" });
      const uid = "u-target";

      const before = await dump();
      const dry = await call("resolveReview", { stripeCustomerId: cus, uid }, { role: "support" });
      expect(dry.body).toMatchObject({
        dryRun: true,
        mapping: null,
        wouldCreateMapping: true,
        openItems: [{ eventId: held.id, eventType: "customer.subscription.created", reason: "unmapped_customer" }],
      });
      expect(await dump()).toEqual(before);

      const done = await call("resolveReview", { stripeCustomerId: cus, uid, confirm: true }, { role: "support" });
      expect(done).toMatchObject({
        status: 200,
        body: { dryRun: false, mappingCreated: true, applied: [held.id], results: [{ eventId: held.id, status: "applied" }] },
      });
      expect(await data(db, `stripeCustomers/${cus}`)).toMatchObject({ stripeCustomerId: cus, uid, source: "admin:u-support" });
      expect(await data(db, `customers/${uid}`)).toMatchObject({ subscriptionStatus: "active", plan: "pro", entitlements: ["reports"] });
      expect(await data(db, `reviewQueue/${held.id}`)).toMatchObject({ status: "resolved" });
      const [entry] = await auditEntries("admin.resolveReview");
      expect(entry).toMatchObject({
        outcome: "applied",
        actor: { id: "u-support", roles: ["support"], via: "idToken" },
        target: `stripeCustomers/${cus}`,
        before: { uid: null },
        after: { uid, source: "admin:u-support", applied: [held.id] },
      });

      // Idempotent: nothing left to apply, nothing audited.
      expect((await call("resolveReview", { stripeCustomerId: cus, uid, confirm: true }, { role: "support" })).body).toMatchObject({ mappingCreated: false, applied: [] });
      expect(await auditEntries("admin.resolveReview")).toHaveLength(1);
    });

    it("a customer mapped to another uid → 409 (dry run too); an unknown uid → 404", async () => {
      const cus = uniq("cus");
      await db.doc(`stripeCustomers/${cus}`).set({ stripeCustomerId: cus, uid: "u-someone", source: "stripe:evt_1", createdAt: new Date() });
      expect((await call("resolveReview", { stripeCustomerId: cus, uid: "u-target" }, { role: "admin" })).status).toBe(409);
      expect((await call("resolveReview", { stripeCustomerId: cus, uid: "u-target", confirm: true }, { role: "admin" })).status).toBe(409);
      expect(await data(db, `stripeCustomers/${cus}`)).toMatchObject({ uid: "u-someone" });
      expect((await call("resolveReview", { stripeCustomerId: cus, uid: "ghost", confirm: true }, { role: "admin" })).status).toBe(404);
    });
  });

  describe("callable (adminCall)", () => {
    const callable = (role: Role | null, data: unknown, authTimeSec = Math.floor(Date.now() / 1000)) =>
      handleAdminCall(deps(), {
        auth: role ? { uid: TOKENS[role].uid, token: { ...TOKENS[role].claims, auth_time: authTimeSec } } : undefined,
        data,
      });
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (error) {
        expect(error).toBeInstanceOf(HttpsError);
        return error as HttpsError;
      }
      throw new Error("expected an HttpsError");
    };

    it("runs the same operations with the same roles", async () => {
      await expect(callable("finance", { operation: "customerSummary", input: INPUT.customerSummary })).resolves.toMatchObject({ uid: CUSTOMER_UID, privateBilling: {} });
      const denied = await code(callable("finance", { operation: "retryJob", input: INPUT.retryJob }));
      expect(denied.code).toBe("permission-denied");
      expect(denied.details).toMatchObject({ allowedRoles: ["admin", "support"] });
      expect((await auditEntries("admin.retryJob"))[0]).toMatchObject({ outcome: "denied", actor: { id: "u-finance", via: "callable" } });
    });

    it("maps errors to HttpsError codes", async () => {
      expect((await code(callable(null, { operation: "customerSummary", input: INPUT.customerSummary }))).code).toBe("unauthenticated");
      const invalid = await code(callable("admin", { operation: "customerSummary", input: { uid: CUSTOMER_UID, extra: 1 } }));
      expect(invalid.code).toBe("invalid-argument");
      expect(invalid.message).toContain("extra");
      expect(invalid.details).toMatchObject({ field: "extra" });
      expect((await code(callable("admin", { operation: "customerSummary", input: {}, verbose: true }))).details).toMatchObject({ field: "verbose" });
      expect((await code(callable("admin", { operation: "nope" }))).code).toBe("not-found");
      expect((await code(callable("admin", { operation: "retryJob", input: { jobId: "evt_ok.crm.contact.upsert.u-cust-1" } }))).code).toBe("failed-precondition");
    });

    it("a revoked session is refused; the rate limit is resource-exhausted", async () => {
      auth.users.set("u-support", { claims: { support: true }, tokensValidAfterMs: Date.now() + 5000 });
      expect((await code(callable("support", { operation: "customerSummary", input: INPUT.customerSummary }))).code).toBe("unauthenticated");

      const limited = deps({ rateLimitPerMinute: 1, now: () => new Date("2025-06-01T12:00:30Z") });
      const auth1 = { uid: "u-admin", token: { admin: true, auth_time: Math.floor(Date.now() / 1000) } };
      await handleAdminCall(limited, { auth: auth1, data: { operation: "customerSummary", input: INPUT.customerSummary } });
      const over = await code(handleAdminCall(limited, { auth: auth1, data: { operation: "customerSummary", input: INPUT.customerSummary } }));
      expect(over.code).toBe("resource-exhausted");
      expect(over.details).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    });
  });
});
