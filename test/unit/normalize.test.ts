import { describe, expect, it } from "vitest";
import { HANDLED_EVENT_TYPES, normalizeEvent, stripeEventEnvelopeSchema } from "../../functions/src/domain/normalize";
import { STRIPE_API_VERSION } from "../../functions/src/domain/stripeVersion";
import { invoice, legacyEvent, price, stripeEvent, subscription } from "../support/stripeFixtures";

const parse = (event: object) => normalizeEvent(stripeEventEnvelopeSchema.parse(event), STRIPE_API_VERSION);

describe("normalize", () => {
  it("reads the current (pinned) subscription shape: period end on the item, entitlements from price metadata", () => {
    const r = parse(
      stripeEvent(
        "customer.subscription.updated",
        subscription({ id: "sub_1", customer: "cus_1", status: "active", uid: "u1", periodEnd: 1_900_000_000, price: price({ id: "price_pro", lookupKey: "pro", entitlements: "b, a ,a" }) }),
      ),
    );
    expect(r.outcome).toBe("normalized");
    if (r.outcome !== "normalized" || r.event.subject.kind !== "subscription") throw new Error("unexpected");
    expect(r.event.subject).toMatchObject({ customerId: "cus_1", metadataUid: "u1", plan: "pro", currentPeriodEnd: 1_900_000_000, entitlements: ["a", "b"] });
  });

  it("reads the legacy shapes (subscription-level period end, invoice.subscription, expanded product metadata)", () => {
    const legacySub = {
      ...subscription({ id: "sub_2", customer: "cus_2", status: "active", price: price({ id: "price_x" }) }),
      current_period_end: 1_800_000_000,
      items: { object: "list", data: [{ id: "si_1", price: { id: "price_x", metadata: {}, product: { id: "prod_x", name: "Team", metadata: { entitlements: "seats" } } } }] },
    };
    const s = parse(legacyEvent("customer.subscription.updated", legacySub, "2024-06-20"));
    if (s.outcome !== "normalized" || s.event.subject.kind !== "subscription") throw new Error(JSON.stringify(s));
    expect(s.event.subject).toMatchObject({ currentPeriodEnd: 1_800_000_000, productId: "prod_x", entitlements: ["seats"], plan: "Team" });

    const legacyInvoice = {
      ...invoice({ id: "in_1", customer: "cus_2", status: "paid" }),
      parent: undefined,
      subscription: "sub_2",
      subscription_details: { metadata: { firebaseUid: "u2" } },
    };
    const i = parse(legacyEvent("invoice.paid", legacyInvoice, "2024-06-20"));
    if (i.outcome !== "normalized" || i.event.subject.kind !== "invoice") throw new Error(JSON.stringify(i));
    expect(i.event.subject).toMatchObject({ subscriptionId: "sub_2", metadataUid: "u2" });
  });

  it("records a failure that names the event's API version when a field opsync needs is missing in every shape", () => {
    const broken = { id: "sub_3", object: "subscription", customer: "cus_3" }; // no status
    const r = parse(legacyEvent("customer.subscription.updated", broken, "2015-01-01"));
    expect(r.outcome).toBe("failed");
    if (r.outcome === "failed") {
      expect(r.reason).toContain("2015-01-01");
      expect(r.reason).toContain(STRIPE_API_VERSION);
      expect(r.reason).toContain("status");
    }
  });

  it("ignores event types opsync does not handle", () => {
    const r = parse(stripeEvent("product.created", { id: "prod_1", object: "product" }));
    expect(r).toEqual({ outcome: "ignored", reason: "opsync does not handle product.created" });
  });

  it("handles every documented event family", () => {
    expect(HANDLED_EVENT_TYPES).toHaveLength(23);
  });

  it("rejects envelopes that are not Stripe events", () => {
    expect(stripeEventEnvelopeSchema.safeParse({ id: "x", object: "event" }).success).toBe(false);
    expect(stripeEventEnvelopeSchema.safeParse(stripeEvent("invoice.paid", { id: "in_1", object: "invoice" }, { id: "not_an_event" })).success).toBe(false);
  });
});
