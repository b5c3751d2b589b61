/**
 * The admin operations replayEvent, flagRefund and resolveFailedPayment against the real Firestore emulator, with
 * the real stripe SDK talking to the local Stripe stand-in (test/vendors/stripeServer.ts). The operation × role
 * matrix for them lives with the others in adminApi.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { STRIPE_API_VERSION } from "../../functions/src/domain/stripeVersion";
import type { AdminHttpDeps, AdminHttpResponse } from "../../functions/src/services/adminHttp";
import { stripeEventsClient } from "../../functions/src/sinks/stripeApi";
import { adminDeps, auditEntriesOf, callAdmin, dumpExceptRateLimits, type Role } from "../support/adminCalls";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { data } from "../support/read";
import { customer, legacyEvent, price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";
import { startStripeServer, type StripeServer } from "../vendors/stripeServer";

const db = testDb();
const STRIPE_KEY = "sk_test_adminops_0123456789";

let stripe: StripeServer;

const deps = (over: Partial<AdminHttpDeps> = {}): AdminHttpDeps =>
  // No SDK retries, so an injected failure is seen as is.
  adminDeps(db, stripeEventsClient({ secretKey: STRIPE_KEY, host: stripe.host, port: stripe.port, protocol: "http", maxNetworkRetries: 0 }), over);
const call = (operation: string, body: unknown, role: Role, over: Partial<AdminHttpDeps> = {}): Promise<AdminHttpResponse> => callAdmin(deps(over), operation, body, role);
const dump = () => dumpExceptRateLimits(db);
const auditEntries = (action: string) => auditEntriesOf(db, action);

const PRO = price({ id: "price_pro", lookupKey: "pro", entitlements: "reports" });

beforeAll(async () => {
  stripe = await startStripeServer({ secretKey: STRIPE_KEY });
});
afterAll(async () => {
  await stripe.close();
});
beforeEach(async () => {
  await resetFirestore();
  stripe.reset();
});

describe("replayEvent", () => {
  it("a failed event, replayed once Stripe renders it in the pinned version: dry run changes nothing; confirm applies it", async () => {
    const uid = "u-replay";
    const cus = uniq("cus");
    const sub = uniq("sub");
    const broken = legacyEvent("customer.subscription.updated", { id: sub, object: "subscription", customer: cus }, "2015-01-01");
    expect((await deliver(db, broken)).body).toMatchObject({ status: "failed" });
    const good = stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, status: "active", price: PRO, uid }), {
      id: broken.id,
      created: broken.created,
    });
    stripe.seedEvent(good);

    const before = await dump();
    const dry = await call("replayEvent", { eventId: broken.id }, "admin");
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({
      operation: "replayEvent",
      dryRun: true,
      event: {
        eventId: broken.id,
        type: "customer.subscription.updated",
        created: new Date(broken.created * 1000).toISOString(),
        objectId: sub,
        objectType: "subscription",
        apiVersion: STRIPE_API_VERSION,
      },
      ledger: { status: "failed" },
      normalized: { outcome: "normalized" },
      wouldReprocess: true,
    });
    expect(await dump()).toEqual(before);

    const done = await call("replayEvent", { eventId: broken.id, confirm: true }, "admin");
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ dryRun: false, before: { status: "failed" }, after: { status: "applied", reason: null } });
    expect(await data(db, `stripeEvents/${broken.id}`)).toMatchObject({ status: "applied", reason: null, uid, apiVersion: STRIPE_API_VERSION });
    expect(await data(db, `stripeEvents/${broken.id}`)).toHaveProperty("replayedAt");
    expect(await data(db, `customers/${uid}`)).toMatchObject({ subscriptionStatus: "active", plan: "pro", entitlements: ["reports"] });
    const [entry] = await auditEntries("admin.replayEvent");
    expect(entry).toMatchObject({
      outcome: "applied",
      actor: { id: "u-admin", roles: ["admin"], via: "idToken" },
      target: `stripeEvents/${broken.id}`,
      before: { status: "failed" },
      after: { status: "applied" },
    });
    // The real SDK called the stand-in with the pinned version.
    expect(stripe.requests.map((r) => [r.method, r.path, r.status, r.stripeVersion])).toEqual([
      ["GET", `/v1/events/${broken.id}`, 200, STRIPE_API_VERSION],
      ["GET", `/v1/events/${broken.id}`, 200, STRIPE_API_VERSION],
    ]);

    // Now applied: a second replay cannot change it.
    const again = await call("replayEvent", { eventId: broken.id, confirm: true }, "admin");
    expect(again.status).toBe(409);
    expect(String(again.body?.error)).toContain("already applied; replaying cannot change it");
  });

  it("an applied event → 409 (the dry run says it would not be reprocessed) and nothing changes", async () => {
    const event = stripeEvent("customer.updated", customer({ id: uniq("cus"), uid: "u-applied" }));
    expect((await deliver(db, event)).body).toMatchObject({ status: "applied" });
    stripe.seedEvent(event);
    const before = await dump();
    const dry = await call("replayEvent", { eventId: event.id }, "admin");
    expect(dry.body).toMatchObject({ dryRun: true, ledger: { status: "applied" }, wouldReprocess: false, why: "already applied; replaying cannot change it" });
    const res = await call("replayEvent", { eventId: event.id, confirm: true }, "admin");
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: `event ${event.id} is already applied; replaying cannot change it` });
    expect(await dump()).toEqual(before);
  });

  it("an id Stripe does not know → 404 (dry run and confirm), nothing written", async () => {
    for (const confirm of [false, true]) {
      const res = await call("replayEvent", { eventId: "evt_gone_123", confirm }, "admin");
      expect(res.status).toBe(404);
      expect(String(res.body?.error)).toContain("event evt_gone_123 not found (Stripe keeps events 30 days)");
    }
    expect(stripe.requests.every((r) => r.status === 404)).toBe(true);
    expect(await data(db, "stripeEvents/evt_gone_123")).toBeUndefined();
    expect(await auditEntries("admin.replayEvent")).toEqual([]);
  });

  it("a needs_review event whose mapping now exists → applied, and its review item is resolved", async () => {
    const cus = uniq("cus");
    const held = stripeEvent("customer.subscription.created", subscription({ id: uniq("sub"), customer: cus, status: "active", price: PRO }));
    expect((await deliver(db, held)).body).toMatchObject({ status: "needs_review" });
    // The mapping appears (e.g. written by a person in the console); the trigger did not run here.
    await db.doc(`stripeCustomers/${cus}`).set({ stripeCustomerId: cus, uid: "u-held", source: "admin:someone", createdAt: new Date() });
    stripe.seedEvent(held);

    const res = await call("replayEvent", { eventId: held.id, confirm: true }, "admin");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ before: { status: "needs_review", reason: expect.stringContaining("No Firebase uid") }, after: { status: "applied" } });
    expect(await data(db, `reviewQueue/${held.id}`)).toMatchObject({ status: "resolved", resolution: "replayed: applied" });
    expect(await data(db, `customers/u-held`)).toMatchObject({ subscriptionStatus: "active", entitlements: ["reports"] });
    expect(await data(db, `stripeEvents/${held.id}`)).toMatchObject({ status: "applied", uid: "u-held" });
  });

  it("an event never delivered (no ledger entry) is recorded as if Stripe had delivered it", async () => {
    const event = stripeEvent("customer.updated", customer({ id: uniq("cus"), uid: "u-missed", name: "Missed Delivery" }));
    stripe.seedEvent(event);
    const dry = await call("replayEvent", { eventId: event.id }, "admin");
    expect(dry.body).toMatchObject({ ledger: null, wouldReprocess: true });
    const res = await call("replayEvent", { eventId: event.id, confirm: true }, "admin");
    expect(res.body).toMatchObject({ before: { status: null }, after: { status: "applied" } });
    expect(await data(db, `stripeEvents/${event.id}`)).toMatchObject({ status: "applied", receivedAt: expect.anything() });
    expect(await data(db, `customers/u-missed`)).toMatchObject({ name: "Missed Delivery" });
    // A webhook delivery afterwards is a duplicate.
    expect((await deliver(db, event)).body).toMatchObject({ duplicate: true, status: "applied" });
  });

  it("Stripe failing (5xx, 429, down) → 503; a bad key → 500; a live-mode event in a test project → 409", async () => {
    const event = stripeEvent("customer.updated", customer({ id: uniq("cus"), uid: "u-x" }));
    stripe.seedEvent(event);
    for (const status of [500, 429]) {
      stripe.failNext(1, status);
      const res = await call("replayEvent", { eventId: event.id, confirm: true }, "admin");
      expect(res.status).toBe(503);
      expect(String(res.body?.error)).toContain("retry");
    }
    stripe.setDown(true);
    expect((await call("replayEvent", { eventId: event.id }, "admin")).status).toBe(503);
    stripe.setDown(false);

    const wrongKey = stripeEventsClient({ secretKey: "sk_test_wrong", host: stripe.host, port: stripe.port, protocol: "http", maxNetworkRetries: 0 });
    expect((await call("replayEvent", { eventId: event.id }, "admin", { stripe: wrongKey })).status).toBe(500);
    expect(stripe.requests.at(-1)?.status).toBe(401);

    const live = stripeEvent("customer.updated", customer({ id: uniq("cus"), uid: "u-live" }), { livemode: true });
    stripe.seedEvent(live);
    const dry = await call("replayEvent", { eventId: live.id }, "admin");
    expect(dry.body).toMatchObject({ wouldReprocess: false, event: { livemode: true } });
    const res = await call("replayEvent", { eventId: live.id, confirm: true }, "admin");
    expect(res.status).toBe(409);
    expect(String(res.body?.error)).toContain("accepts test-mode events only");
    expect(await data(db, `stripeEvents/${live.id}`)).toBeUndefined();
  });

  it("input: eventId must look like evt_...", async () => {
    expect(await call("replayEvent", { eventId: "ch_1" }, "admin")).toMatchObject({ status: 400, body: { field: "eventId" } });
    expect(await call("replayEvent", {}, "admin")).toMatchObject({ status: 400, body: { field: "eventId" } });
  });
});

describe("flagRefund", () => {
  it("opens one refund_requested item per target; flagging again updates it (no duplicate); both audited", async () => {
    const first = await call("flagRefund", { chargeId: "ch_123", reason: "charged twice", amount: 1500 }, "support");
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ operation: "flagRefund", reviewId: "refund_ch_123", chargeId: "ch_123", created: true, changed: true });
    expect(await data(db, "reviewQueue/refund_ch_123")).toMatchObject({
      reason: "refund_requested",
      detail: "charged twice",
      status: "open",
      chargeId: "ch_123",
      orderId: null,
      paymentIntentId: null,
      requestedBy: "u-support",
      amount: 1500,
      createdAt: expect.anything(),
    });

    const second = await call("flagRefund", { chargeId: "ch_123", reason: "charged twice; customer called again", amount: 2900 }, "admin");
    expect(second.body).toMatchObject({ created: false, changed: true, before: { detail: "charged twice", amount: 1500 } });
    expect(await data(db, "reviewQueue/refund_ch_123")).toMatchObject({
      detail: "charged twice; customer called again",
      amount: 2900,
      requestedBy: "u-support",
      updatedBy: "u-admin",
    });
    const items = await db.collection("reviewQueue").where("reason", "==", "refund_requested").get();
    expect(items.docs.map((d) => d.id)).toEqual(["refund_ch_123"]);

    // The same request once more: nothing to change, nothing audited.
    const third = await call("flagRefund", { chargeId: "ch_123", reason: "charged twice; customer called again", amount: 2900 }, "admin");
    expect(third.body).toMatchObject({ changed: false });
    const audit = await auditEntries("admin.flagRefund");
    expect(audit).toHaveLength(2);
    expect(audit.map((a) => (a.actor as { id: string }).id).sort()).toEqual(["u-admin", "u-support"]);
    expect(audit.find((a) => (a.actor as { id: string }).id === "u-support")).toMatchObject({
      outcome: "applied",
      target: "reviewQueue/refund_ch_123",
      before: null,
      after: { detail: "charged twice", amount: 1500, status: "open", chargeId: "ch_123" },
    });

    // Orders and payment intents are targets too; amount is optional.
    expect((await call("flagRefund", { orderId: "order-77", reason: "item never shipped" }, "support")).body).toMatchObject({ reviewId: "refund_order-77" });
    expect(await data(db, "reviewQueue/refund_order-77")).toMatchObject({ orderId: "order-77", amount: null });
    expect((await call("flagRefund", { paymentIntentId: "pi_9", reason: "goodwill", amount: 500 }, "admin")).status).toBe(200);
  });

  it("input: exactly one id, reason 1..500, amount whole cents, no confirm", async () => {
    const none = await call("flagRefund", { reason: "x" }, "support");
    expect(none.status).toBe(400);
    expect(String(none.body?.error)).toContain("exactly one of orderId, chargeId, paymentIntentId");
    expect(await call("flagRefund", { chargeId: "ch_1", paymentIntentId: "pi_1", reason: "x" }, "support")).toMatchObject({ status: 400, body: { field: "paymentIntentId" } });
    expect(await call("flagRefund", { chargeId: "pi_1", reason: "x" }, "support")).toMatchObject({ status: 400, body: { field: "chargeId" } });
    expect(await call("flagRefund", { chargeId: "ch_1", reason: "" }, "support")).toMatchObject({ status: 400, body: { field: "reason" } });
    expect(await call("flagRefund", { chargeId: "ch_1", reason: "x".repeat(501) }, "support")).toMatchObject({ status: 400, body: { field: "reason" } });
    expect(await call("flagRefund", { chargeId: "ch_1", reason: "x", amount: 12.5 }, "support")).toMatchObject({ status: 400, body: { field: "amount" } });
    expect(await call("flagRefund", { chargeId: "ch_1", reason: "x", confirm: true }, "support")).toMatchObject({ status: 400, body: { field: "confirm" } });
    expect((await db.collection("reviewQueue").get()).size).toBe(0);
  });
});

describe("resolveFailedPayment", () => {
  const UID = "u-pay";
  const INVOICE = "in_failed9";
  const TICKET = `failed-renewal:${INVOICE}`;
  const at = new Date("2025-06-01T00:00:00Z");
  const nextAttempt = new Date("2025-06-04T00:00:00Z");

  const job = (id: string, uid: string, status: string, kind = "crm.contact.upsert") =>
    db.doc(`syncJobs/${id}`).set({ jobId: id, kind, status, target: { uid }, attempts: 5, deadReason: status === "dead" ? "max_attempts" : null, createdAt: at, updatedAt: at, nextAttemptAt: null });

  async function seed(withTicket = true): Promise<void> {
    await db.doc(`customers/${UID}`).set({
      uid: UID,
      email: "pay@example.com",
      subscriptionStatus: "past_due",
      delinquent: true,
      updatedAt: at,
      sync: { crm: { status: "failed", jobId: "evt_a.crm.contact.upsert.u-pay", at } },
      tickets: withTicket ? { [TICKET]: { ticketId: "t-9", helpdesk: "hubspot", subject: "Renewal payment failed", at } } : {},
    });
    await db.doc(`customers/${UID}/private/billing`).set({
      uid: UID,
      stripeCustomerId: "cus_pay",
      lastPaymentFailure: { invoiceId: INVOICE, paymentIntentId: "pi_failed9", code: "card_declined", at },
      invoices: {
        [INVOICE]: {
          status: "open",
          billingReason: "subscription_cycle",
          amountDue: 4900,
          amountPaid: 0,
          currency: "usd",
          number: "INV-9",
          hostedInvoiceUrl: "https://invoice.stripe.com/i/in_failed9",
          attemptCount: 2,
          nextPaymentAttempt: nextAttempt,
          paidAt: null,
          subscriptionId: "sub_pay",
          eventCreated: 1,
        },
      },
    });
    await job("evt_a.crm.contact.upsert.u-pay", UID, "dead");
    await job("evt_a.auth.claims.update.u-pay", UID, "dead", "auth.claims.update");
    await job("evt_b.crm.contact.upsert.u-pay", UID, "succeeded");
    await job("evt_c.crm.contact.upsert.u-other", "u-other", "dead");
  }

  it("dry run: support sees the invoice without amounts, finance with; both list the plan and change nothing", async () => {
    await seed();
    const before = await dump();
    const support = await call("resolveFailedPayment", { uid: UID }, "support");
    expect(support.status, JSON.stringify(support.body)).toBe(200);
    expect(support.body).toMatchObject({
      operation: "resolveFailedPayment",
      dryRun: true,
      failure: {
        invoiceId: INVOICE,
        code: "card_declined",
        invoice: { invoiceId: INVOICE, status: "open", attemptCount: 2, nextPaymentAttempt: nextAttempt.toISOString() },
      },
      wouldRetry: ["evt_a.auth.claims.update.u-pay", "evt_a.crm.contact.upsert.u-pay"],
      wouldPlan: [{ kind: "crm.contact.upsert", target: { uid: UID } }],
      ticket: { requestId: TICKET, ticketId: "t-9" },
      wouldNoteTicket: true,
    });
    const invoice = (support.body?.failure as { invoice: Record<string, unknown> }).invoice;
    for (const key of ["amountDue", "amountPaid", "currency"]) expect(invoice).not.toHaveProperty(key);
    // The hosted invoice page is what support sends the customer: shown to every role.
    expect(invoice.hostedInvoiceUrl).toBe("https://invoice.stripe.com/i/in_failed9");
    expect(support.body?.hostedInvoiceUrl).toBe("https://invoice.stripe.com/i/in_failed9");
    expect(JSON.stringify(support.body)).not.toContain("4900");

    const finance = await call("resolveFailedPayment", { uid: UID }, "finance");
    expect(finance.body).toMatchObject({ failure: { invoice: { amountDue: 4900, amountPaid: 0, currency: "usd", attemptCount: 2 } } });
    expect(await dump()).toEqual(before);
  });

  it("confirmed: dead jobs back to pending, a fresh CRM contact job, a note on the failed-renewal ticket, audited (no amounts)", async () => {
    await seed();
    const res = await call("resolveFailedPayment", { uid: UID, confirm: true }, "support");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: false,
      retried: ["evt_a.auth.claims.update.u-pay", "evt_a.crm.contact.upsert.u-pay"],
      ticketNoted: true,
      ticket: { requestId: TICKET },
    });
    expect(JSON.stringify(res.body)).not.toContain("4900");
    for (const id of ["evt_a.crm.contact.upsert.u-pay", "evt_a.auth.claims.update.u-pay"]) {
      expect(await data(db, `syncJobs/${id}`)).toMatchObject({ status: "pending", attempts: 0 });
    }
    expect(await data(db, "syncJobs/evt_c.crm.contact.upsert.u-other")).toMatchObject({ status: "dead" });
    expect(await data(db, "syncJobs/evt_b.crm.contact.upsert.u-pay")).toMatchObject({ status: "succeeded" });

    const planned = (res.body?.planned as { jobId: string }[])[0]?.jobId ?? "";
    // The customer's one live contact job (a dead one is retried above; the follow-up folds into the same document).
    expect(planned).toBe(`live.crm.contact.upsert.${UID}`);
    const [entry] = await auditEntries("admin.resolveFailedPayment");
    expect(await data(db, `syncJobs/${planned}`)).toMatchObject({
      kind: "crm.contact.upsert",
      status: "pending",
      target: { uid: UID },
      idempotencyKey: `contact:${UID}`,
      cause: { type: "admin" },
    });
    const customerDoc = await data(db, `customers/${UID}`);
    expect(customerDoc).toMatchObject({ sync: { crm: { status: "pending", jobId: planned } } });
    // The ticket the customer may see is unchanged; the note (naming the staff member) is in staff/notes.
    const ticket = (customerDoc?.tickets as Record<string, Record<string, unknown>>)[TICKET];
    expect(ticket).toEqual({ ticketId: "t-9", helpdesk: "hubspot", subject: "Renewal payment failed", at: expect.anything() });
    const staffNotes = await data(db, `customers/${UID}/staff/notes`);
    const notesOfTicket = (staffNotes?.tickets as Record<string, { notes: { note: string; by: string; at: unknown }[] }>)[TICKET]?.notes;
    expect(notesOfTicket).toHaveLength(1);
    expect(notesOfTicket?.[0]).toMatchObject({ by: "u-support", note: expect.stringContaining("2 dead sync job(s) retried") });
    expect(notesOfTicket?.[0]?.at).toBeDefined();

    expect(entry).toMatchObject({
      outcome: "applied",
      actor: { id: "u-support", roles: ["support"], via: "idToken" },
      target: `customers/${UID}`,
      before: { invoiceId: INVOICE, deadJobs: ["evt_a.auth.claims.update.u-pay", "evt_a.crm.contact.upsert.u-pay"] },
      after: { retried: ["evt_a.auth.claims.update.u-pay", "evt_a.crm.contact.upsert.u-pay"], plannedJobId: planned, ticketNoted: TICKET },
    });
    // Without `at`: its nanoseconds (the wall clock) can contain the digits 4900.
    expect(JSON.stringify({ ...entry, at: null })).not.toContain("4900");
    expect(await auditEntries("syncJob.retry")).toHaveLength(2);

    // The summary shows the note; a second run retries nothing, plans another resync and adds a second note.
    const summary = await call("customerSummary", { uid: UID }, "support");
    expect(summary.body).toMatchObject({ tickets: [{ requestId: TICKET, notes: [{ by: "u-support" }] }] });
    // Finance reads neither staff notes through the rules nor through the summary.
    const financeSummary = await call("customerSummary", { uid: UID }, "finance");
    expect(financeSummary.body).not.toHaveProperty("staffNotes");
    expect((financeSummary.body?.tickets as Record<string, unknown>[])[0]).not.toHaveProperty("notes");
    const again = await call("resolveFailedPayment", { uid: UID, confirm: true }, "admin");
    expect(again.body).toMatchObject({ retried: [], ticketNoted: true });
    const notes = ((await data(db, `customers/${UID}/staff/notes`))?.tickets as Record<string, { notes: unknown[] }>)[TICKET]?.notes;
    expect(notes).toHaveLength(2);
  });

  it("without a failed-renewal ticket it still retries and resyncs; no failure on record → 409; no customer → 404", async () => {
    await seed(false);
    const res = await call("resolveFailedPayment", { uid: UID, confirm: true }, "finance");
    expect(res.body).toMatchObject({ ticket: null, ticketNoted: false, note: null });
    expect((await data(db, `customers/${UID}`))?.tickets).toEqual({});
    expect(await data(db, `customers/${UID}/staff/notes`)).toBeUndefined();

    await db.doc(`customers/${UID}/private/billing`).update({ lastPaymentFailure: null });
    expect((await call("resolveFailedPayment", { uid: UID }, "support")).status).toBe(409);
    expect((await call("resolveFailedPayment", { uid: "nobody", confirm: true }, "support")).status).toBe(404);
  });
});
