/**
 * The snapshot set keeps recent ended objects (so reconciliation's 30-day comparison never reports a dropped one as
 * missing) and stays bounded; a full set makes absence inconclusive instead of drift.
 */
import { describe, expect, it } from "vitest";
import { objectDrift } from "../../functions/src/domain/drift";
import type { Subject } from "../../functions/src/domain/normalize";
import { MAX_PER_KIND, emptySet, mayHaveDroppedRecent, putSnapshot, type SnapshotSet } from "../../functions/src/domain/snapshots";

const DAY = 24 * 3600;
const NOW = 1_780_000_000;

const invoice = (n: number): Extract<Subject, { kind: "invoice" }> => ({
  kind: "invoice", objectId: `in_${n}`, customerId: "cus_1", metadataUid: null, subscriptionId: "sub_1", status: "paid",
  billingReason: "subscription_cycle", amountPaid: 1000, amountDue: 1000, currency: "usd", paidAt: null, attemptCount: 1,
  nextPaymentAttempt: null, number: null, hostedInvoiceUrl: null, paymentIntentId: null,
});

/** `count` invoices, one every `everyS` seconds, the newest at NOW. */
function withInvoices(count: number, everyS: number): SnapshotSet {
  let set = emptySet();
  for (let i = 0; i < count; i += 1) {
    const created = NOW - (count - 1 - i) * everyS;
    set = putSnapshot(set, { subject: invoice(i), mark: { created, eventId: `evt_${i}`, eventType: "invoice.paid", source: "event" }, pastDueSince: null });
  }
  return set;
}

const kept = (set: SnapshotSet) => Object.keys(set.objects).length;
const who = { uid: "u1", stripeCustomerId: "cus_1" };

describe("snapshot set bounds", () => {
  it("keeps every invoice of the last 35 days, beyond the 25 newest", () => {
    const set = withInvoices(60, DAY / 2); // 30 days of two invoices a day
    expect(kept(set)).toBe(60);
    expect(mayHaveDroppedRecent(set, "invoice")).toBe(false);
    expect(objectDrift(who, [invoice(0), invoice(59)], set)).toEqual([]);
  });

  it("drops objects older than the window once 25 are kept", () => {
    const set = withInvoices(40, 2 * DAY); // 80 days
    // 35 days / 2 days → the newest 18 are in the window; the 25-newest floor keeps 25.
    expect(kept(set)).toBe(25);
    expect(set.objects.in_39).toBeDefined();
    expect(set.objects.in_14).toBeUndefined();
    // A listed invoice the set lacks, with room left, is drift.
    expect(objectDrift(who, [invoice(200)], set).map((f) => f.kind)).toEqual(["stripe_object_missing"]);
  });

  it("never holds more than MAX_PER_KIND of a kind; a full set makes a missing recent object inconclusive", () => {
    const set = withInvoices(MAX_PER_KIND + 30, 600); // all within the window
    expect(kept(set)).toBe(MAX_PER_KIND);
    expect(set.objects[`in_${MAX_PER_KIND + 29}`]).toBeDefined();
    expect(set.objects.in_0).toBeUndefined();
    expect(mayHaveDroppedRecent(set, "invoice")).toBe(true);
    expect(objectDrift(who, [invoice(0)], set)).toEqual([]);
    // A known object that differs is still reported.
    const changed = { ...invoice(MAX_PER_KIND + 29), status: "void" };
    expect(objectDrift(who, [changed], set).map((f) => f.kind)).toEqual(["stripe_object_differs"]);
  });
});
