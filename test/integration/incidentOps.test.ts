/**
 * The admin operations around incidents and follow-ups against the Firestore emulator: ackIncident, resolveIncident,
 * resolveRefundRequest, and the note + hosted invoice link of resolveFailedPayment — dry runs change nothing, every
 * change is audited, strict inputs (unknown fields and missing notes are 400 naming the field). The operation × role
 * matrix for them is in adminApi.test.ts with the others.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { AdminHttpResponse } from "../../functions/src/services/adminHttp";
import type { StripeReadPort } from "../../functions/src/sinks/stripeApi";
import { adminDeps, auditEntriesOf, callAdmin, dumpExceptRateLimits, type Role } from "../support/adminCalls";
import { resetFirestore, testDb } from "../support/firestore";
import { data } from "../support/read";

const db = testDb();
// None of these operations reads Stripe.
const noStripe: StripeReadPort = {
  retrieveEvent: () => Promise.reject(new Error("not used")),
} as unknown as StripeReadPort;
const call = (op: string, body: unknown, role: Role): Promise<AdminHttpResponse> => callAdmin(adminDeps(db, noStripe), op, body, role);
const at = new Date("2026-12-01T00:00:00Z");
const INCIDENT = "incident.crm.http_409.customer:u-409";

async function seedIncident(): Promise<void> {
  await db.doc(`alerts/${INCIDENT}`).set({
    alertId: INCIDENT, type: "incident", status: "open", occurrence: 1, title: "HubSpot CRM refuses customer u-409 (HTTP 409)", owner: "support",
    sink: "crm", scope: "customer:u-409", errorKind: "http_409", jobIds: ["j1", "j2"], deadJobIds: ["j1", "j2"], jobCount: 2, affectedCount: 1,
    affected: { customers: ["u-409"], orders: [] }, openKeys: ["crm.contact.upsert|uid=u-409", "crm.deal.upsert|subscriptionId=sub_1,uid=u-409"],
    acknowledged: null, createdAt: at, updatedAt: at,
  });
}

describe("ackIncident and resolveIncident", () => {
  beforeEach(async () => {
    await resetFirestore();
    await seedIncident();
  });

  it("ack: the caller owns it now (note kept), still open, audited; a resolved incident cannot be acked (409)", async () => {
    const res = await call("ackIncident", { incidentId: INCIDENT, note: "Looking at the HubSpot duplicate" }, "support");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ operation: "ackIncident", after: { status: "open", acknowledged: { by: "u-support", note: "Looking at the HubSpot duplicate" } } });
    expect(await data(db, `alerts/${INCIDENT}`)).toMatchObject({ status: "open", acknowledged: { by: "u-support", note: "Looking at the HubSpot duplicate" } });
    const [entry] = await auditEntriesOf(db, "admin.ackIncident");
    expect(entry).toMatchObject({ outcome: "applied", target: `alerts/${INCIDENT}`, actor: { id: "u-support", roles: ["support"] }, before: { acknowledged: null } });
    expect((await db.collection("syncJobs").get()).size).toBe(0); // an ack posts nothing

    await call("resolveIncident", { incidentId: INCIDENT, note: "merged in HubSpot", confirm: true }, "admin");
    expect((await call("ackIncident", { incidentId: INCIDENT }, "support")).status).toBe(409);
  });

  it("resolve: the dry run says what stays and changes nothing; confirmed it resolves with the note, one Slack notice, audited", async () => {
    const before = await dumpExceptRateLimits(db);
    const dry = await call("resolveIncident", { incidentId: INCIDENT, note: "merged the duplicate contact" }, "support");
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, incident: { incidentId: INCIDENT, deadJobs: 2 }, effect: expect.stringContaining("2 dead job(s) stay dead") });
    expect(await dumpExceptRateLimits(db)).toEqual(before);

    const res = await call("resolveIncident", { incidentId: INCIDENT, note: "merged the duplicate contact", confirm: true }, "support");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await data(db, `alerts/${INCIDENT}`)).toMatchObject({ status: "resolved", resolvedBy: "u-support", resolution: { note: "merged the duplicate contact", by: "u-support" }, openKeys: [] });
    const notices = (await db.collection("syncJobs").where("kind", "==", "notify.slack").get()).docs.map((d) => d.data());
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ idempotencyKey: `incident:${INCIDENT}:1:resolved`, text: expect.stringContaining("merged the duplicate contact") });
    expect(await auditEntriesOf(db, "admin.resolveIncident")).toEqual([expect.objectContaining({ outcome: "applied", after: { status: "resolved", resolvedBy: "u-support", note: "merged the duplicate contact" } })]);
    // Twice: 409, no second notice.
    expect((await call("resolveIncident", { incidentId: INCIDENT, note: "again", confirm: true }, "support")).status).toBe(409);
    expect((await db.collection("syncJobs").get()).size).toBe(1);
  });

  it("strict input: a note is required to resolve, unknown fields are refused, each naming the field", async () => {
    const noNote = await call("resolveIncident", { incidentId: INCIDENT, confirm: true }, "admin");
    expect(noNote.status).toBe(400);
    expect(noNote.body).toMatchObject({ field: "note" });
    const extra = await call("ackIncident", { incidentId: INCIDENT, owner: "me" }, "admin");
    expect(extra.status).toBe(400);
    expect(extra.body).toMatchObject({ field: "owner" });
    const long = await call("ackIncident", { incidentId: INCIDENT, note: "x".repeat(1001) }, "admin");
    expect(long.body).toMatchObject({ field: "note" });
  });

  it("the auth pause is not resolved by hand: 409 pointing at resumeSink", async () => {
    await db.doc("alerts/auth_crm").set({ alertId: "auth_crm", type: "sink_auth_failed", status: "open", sink: "crm", createdAt: at });
    const res = await call("resolveIncident", { incidentId: "auth_crm", note: "fixed", confirm: true }, "admin");
    expect(res.status).toBe(409);
    expect(String(res.body?.error)).toContain("resumeSink");
    expect(await data(db, "alerts/auth_crm")).toMatchObject({ status: "open" });
  });
});

describe("resolveRefundRequest", () => {
  const REQUEST = "refund_ch_12345";
  beforeEach(async () => {
    await resetFirestore();
    await db.doc(`reviewQueue/${REQUEST}`).set({ reviewId: REQUEST, reason: "refund_requested", detail: "charged twice", status: "open", chargeId: "ch_12345", orderId: null, paymentIntentId: null, amount: 4900, requestedBy: "u-support", createdAt: at, updatedAt: at });
  });

  it("finance: dry run changes nothing; confirmed it closes with the decision and note, audited; it leaves the finance queue", async () => {
    const before = await dumpExceptRateLimits(db);
    const dry = await call("resolveRefundRequest", { requestId: REQUEST, decision: "refunded", note: "refunded in Stripe (re_1)" }, "finance");
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, request: { requestId: REQUEST, chargeId: "ch_12345" }, after: { status: "resolved", decision: "refunded" } });
    expect(await dumpExceptRateLimits(db)).toEqual(before);

    const res = await call("resolveRefundRequest", { requestId: REQUEST, decision: "refunded", note: "refunded in Stripe (re_1)", confirm: true }, "finance");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await data(db, `reviewQueue/${REQUEST}`)).toMatchObject({ status: "resolved", decision: "refunded", resolvedBy: "u-finance", resolution: { decision: "refunded", note: "refunded in Stripe (re_1)", by: "u-finance" } });
    expect(await auditEntriesOf(db, "admin.resolveRefundRequest")).toEqual([
      expect.objectContaining({ outcome: "applied", target: `reviewQueue/${REQUEST}`, actor: expect.objectContaining({ id: "u-finance", roles: ["finance"] }), after: { status: "resolved", decision: "refunded", note: "refunded in Stripe (re_1)" } }),
    ]);
    const queue = await call("listQueue", { kind: "refund_request" }, "finance");
    expect(queue.body).toMatchObject({ items: [] });
    expect((await call("resolveRefundRequest", { requestId: REQUEST, decision: "declined", note: "again", confirm: true }, "finance")).status).toBe(409);
  });

  it("a decision outside the list, or a review item that is no refund request, is refused", async () => {
    const bad = await call("resolveRefundRequest", { requestId: REQUEST, decision: "maybe", note: "x" }, "admin");
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: "decision" });
    await db.doc("reviewQueue/evt_unmapped").set({ reason: "unmapped_customer", status: "open", createdAt: at });
    expect((await call("resolveRefundRequest", { requestId: "evt_unmapped", decision: "declined", note: "x", confirm: true }, "admin")).status).toBe(409);
    expect(await data(db, "reviewQueue/evt_unmapped")).toMatchObject({ status: "open" });
  });
});

describe("resolveFailedPayment: the caller's note and the hosted invoice link", () => {
  beforeEach(async () => {
    await resetFirestore();
    await db.doc("customers/u-late").set({ uid: "u-late", delinquent: true, updatedAt: at, tickets: { "failed-renewal:in_7": { ticketId: "t-7", helpdesk: "hubspot", subject: "Renewal failed", at } } });
    await db.doc("customers/u-late/private/billing").set({
      uid: "u-late",
      lastPaymentFailure: { invoiceId: "in_7", code: "card_declined", at },
      invoices: { in_7: { status: "open", amountDue: 4900, currency: "usd", hostedInvoiceUrl: "https://invoice.stripe.com/i/in_7", attemptCount: 1 } },
    });
  });

  it("support gets the link (no amount) and its note lands on the ticket's staff notes and in the audit entry", async () => {
    const res = await call("resolveFailedPayment", { uid: "u-late", note: "Sent the invoice link by email", confirm: true }, "support");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ hostedInvoiceUrl: "https://invoice.stripe.com/i/in_7", ticketNoted: true, note: expect.stringContaining("Note: Sent the invoice link by email") });
    expect(JSON.stringify(res.body)).not.toContain("4900");
    const notes = ((await data(db, "customers/u-late/staff/notes"))?.tickets as Record<string, { notes: Array<{ note: string }> }>)["failed-renewal:in_7"]?.notes;
    expect(notes?.[0]?.note).toContain("Sent the invoice link by email");
    const [entry] = await auditEntriesOf(db, "admin.resolveFailedPayment");
    expect(entry).toMatchObject({ after: { note: "Sent the invoice link by email" } });
  });
});
