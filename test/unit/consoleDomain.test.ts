/** The console's pure logic: the verdict line, queue kinds per role, the page token, and how a query is looked up. */
import { describe, expect, it } from "vitest";
import { QUEUE_KINDS, decodePageToken, encodePageToken, lookupsFor, queueKindsFor } from "../../functions/src/domain/consoleOps";
import { customerTimeline, customerVerdict, paymentIssue } from "../../functions/src/domain/customerCard";
import { ValidationError } from "../../functions/src/domain/errors";
import { sinkHealth } from "../../functions/src/domain/opsHealth";

const NOW = new Date("2026-06-10T12:00:00Z");

describe("customerVerdict", () => {
  it("names each state in one line", () => {
    expect(customerVerdict({ subscriptionStatus: "active", plan: "pro", currentPeriodEnd: new Date("2026-07-01T00:00:00Z") }, NOW)).toEqual({ kind: "paid", line: "Paid — pro, renews 2026-07-01" });
    expect(customerVerdict({ subscriptionStatus: "active", plan: "pro", cancelAtPeriodEnd: true, currentPeriodEnd: new Date("2026-07-01T00:00:00Z") }, NOW).line).toBe("Paid — pro, cancels 2026-07-01");
    expect(customerVerdict({ subscriptionStatus: "past_due", plan: "pro", entitlementsGraceUntil: new Date("2026-06-12T08:30:00Z") }, NOW)).toEqual({
      kind: "past_due_grace",
      line: "Past due — in grace until 2026-06-12 08:30 UTC (access kept), pro",
    });
    expect(customerVerdict({ subscriptionStatus: "past_due", plan: "pro", entitlementsGraceUntil: new Date("2026-06-01T00:00:00Z") }, NOW).kind).toBe("past_due");
    expect(customerVerdict({ subscriptionStatus: "canceled", plan: "pro" }, NOW)).toEqual({ kind: "canceled", line: "Canceled — pro" });
    expect(customerVerdict({ subscriptionStatus: null }, NOW).kind).toBe("no_subscription");
    expect(customerVerdict({ subscriptionStatus: null, delinquent: true }, NOW).kind).toBe("past_due");
    expect(customerVerdict({ subscriptionStatus: "incomplete", plan: "pro" }, NOW)).toEqual({ kind: "other", line: "Subscription incomplete — pro" });
  });
});

describe("queues and tokens", () => {
  it("each role sees the kinds it can act on; roles add up; admin sees all", () => {
    expect(queueKindsFor(["support"])).toEqual(["alert", "unmapped_customer", "failed_payment", "support_request"]);
    expect(queueKindsFor(["finance"])).toEqual(["failed_payment", "refund_request", "dispute"]);
    expect(queueKindsFor(["support", "finance"])).toEqual([...QUEUE_KINDS]);
    expect(queueKindsFor(["admin"])).toEqual([...QUEUE_KINDS]);
  });

  it("a page token round-trips; anything else is a ValidationError naming pageToken", () => {
    const cursor = { kind: "refund_request" as const, sort: "1767225600:123000", id: "refund_ch_1" };
    expect(decodePageToken(encodePageToken(cursor))).toEqual(cursor);
    for (const bad of ["%%%", btoa("{}"), btoa(JSON.stringify({ k: "everything", s: 1, i: "x" })), btoa(JSON.stringify({ k: "alert", s: 1, i: "a/b" }))]) {
      expect(() => decodePageToken(bad)).toThrow(ValidationError);
    }
  });

  it("a query is looked up by every reading that fits it, exactly", () => {
    expect(lookupsFor("ada@example.com")).toEqual(["email", "uid"]);
    expect(lookupsFor("cus_Q1w2")).toEqual(["stripeCustomerId", "uid"]);
    expect(lookupsFor("90210")).toEqual(["crmContactId", "uid"]);
    expect(lookupsFor("Yx3Q2")).toEqual(["uid"]);
    expect(lookupsFor("a/b")).toEqual([]);
  });
});

describe("card parts", () => {
  it("payment: the invoice link for everyone, amounts only when allowed", () => {
    const billing = { lastPaymentFailure: { invoiceId: "in_1", code: "card_declined", at: NOW }, invoices: { in_1: { amountDue: 4900, currency: "usd", hostedInvoiceUrl: "https://x/in_1", attemptCount: 2 } } };
    expect(paymentIssue(billing, false)).toEqual({ invoiceId: "in_1", code: "card_declined", failedAt: NOW.toISOString(), actionRequired: false, hostedInvoiceUrl: "https://x/in_1", attemptCount: 2, nextPaymentAttempt: null });
    expect(paymentIssue(billing, true)).toMatchObject({ amountDue: 4900, currency: "usd" });
    expect(paymentIssue({ lastPaymentFailure: null, actionRequired: null }, true)).toBeNull();
  });

  it("timeline: audit and ledger merged newest first, limited", () => {
    const t = customerTimeline(
      [{ action: "customer.update", actor: { type: "stripe", id: "evt_2" }, before: { subscriptionStatus: "active" }, after: { subscriptionStatus: "past_due" }, at: new Date(3000) }],
      [{ eventId: "evt_1", type: "invoice.payment_failed", status: "applied", created: new Date(2000) }, { eventId: "evt_0", type: "customer.created", status: "applied", created: new Date(1000) }],
      2,
    );
    expect(t).toEqual([
      { at: new Date(3000).toISOString(), source: "audit", what: "customer.update", by: "stripe:evt_2", detail: 'subscriptionStatus: "active" → "past_due"' },
      { at: new Date(2000).toISOString(), source: "stripe", what: "invoice.payment_failed — applied", by: "evt_1", detail: null },
    ]);
  });

  it("sink health: paused beats blocked; an expired block is ok", () => {
    expect(sinkHealth("crm", { paused: true, pausedReason: "token revoked", blockedUntil: new Date(NOW.getTime() + 1000) }, NOW)).toMatchObject({ state: "paused", reason: "token revoked" });
    expect(sinkHealth("crm", { blockedUntil: new Date(NOW.getTime() + 1000), reason: "429" }, NOW)).toMatchObject({ state: "blocked", reason: "429" });
    expect(sinkHealth("crm", { blockedUntil: new Date(NOW.getTime() - 1000), reason: "429" }, NOW)).toMatchObject({ state: "ok", blockedUntil: null, reason: null });
    expect(sinkHealth("crm", null, NOW)).toMatchObject({ state: "ok" });
  });

  it("sink health: the runner's auth pause (pausedForAuth after a 401/403) shows as paused with its reason; resumed (null) is ok", () => {
    const pause = { since: new Date(NOW.getTime() - 60_000), reason: "HubSpot answered 401", credential: "fp", httpStatus: 401 };
    expect(sinkHealth("crm", { pausedForAuth: pause, updatedAt: NOW }, NOW)).toMatchObject({ state: "paused", paused: true, reason: "HubSpot answered 401" });
    expect(sinkHealth("crm", { pausedForAuth: null, resumedAt: NOW }, NOW)).toMatchObject({ state: "ok", paused: false });
  });
});
