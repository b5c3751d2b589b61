import { describe, expect, it } from "vitest";
import { applyEvent, newCustomer, type ApplyInput } from "../../functions/src/domain/apply";
import { resolveOwner } from "../../functions/src/domain/identity";
import { jobId } from "../../functions/src/domain/jobIds";
import { normalizeEvent, stripeEventEnvelopeSchema, type NormalizedEvent } from "../../functions/src/domain/normalize";
import { STRIPE_API_VERSION } from "../../functions/src/domain/stripeVersion";
import { checkoutSession, customer, invoice, paymentIntent, price, stripeEvent, subscription } from "../support/stripeFixtures";

const now = new Date("2026-11-22T12:00:00Z");

function norm(event: object): NormalizedEvent {
  const r = normalizeEvent(stripeEventEnvelopeSchema.parse(event), STRIPE_API_VERSION);
  if (r.outcome !== "normalized") throw new Error(JSON.stringify(r));
  return r.event;
}

function input(event: NormalizedEvent, overrides: Partial<ApplyInput> = {}): ApplyInput {
  const owner = resolveOwner(event.subject, { mappingUid: overrides.mappingUid ?? null, links: [] });
  return { event, now, graceDays: 3, owner, mappingUid: null, customer: null, billing: null, order: null, snapshots: null, ...overrides };
}

describe("identity", () => {
  it("prefers client_reference_id, then metadata, then the mapping; never email", () => {
    const cs = norm(stripeEvent("checkout.session.completed", checkoutSession({ id: "cs_1", mode: "subscription", customer: "cus_1", clientReferenceId: "u_ref", metadata: { firebaseUid: "u_meta" } })));
    expect(resolveOwner(cs.subject, { mappingUid: null, links: [] })).toMatchObject({ uid: "u_ref", source: "client_reference_id" });
    const c = norm(stripeEvent("customer.updated", customer({ id: "cus_1", email: "same@example.com" })));
    expect(resolveOwner(c.subject, { mappingUid: "u_map", links: [] })).toMatchObject({ uid: "u_map", source: "mapping" });
    expect(resolveOwner(c.subject, { mappingUid: null, links: [] }).uid).toBeNull();
  });
  it("flags a conflict between an explicit uid and the stored mapping", () => {
    const c = norm(stripeEvent("customer.updated", customer({ id: "cus_1", uid: "u_other" })));
    expect(resolveOwner(c.subject, { mappingUid: "u_map", links: [] }).conflict).toContain("u_map");
  });
  it("finds the owner of a refund or dispute through the linked payment intent", () => {
    const links = [{ objectType: "payment_intent", watermark: null, uid: "u1", orderId: null, stripeCustomerId: "cus_1", updatedAt: now }];
    const d = norm(stripeEvent("charge.dispute.created", { id: "dp_1", object: "dispute", charge: "ch_1", payment_intent: "pi_1", amount: 100, currency: "usd", status: "needs_response" }));
    expect(resolveOwner(d.subject, { mappingUid: null, links })).toMatchObject({ uid: "u1", source: "linked_object", stripeCustomerId: "cus_1" });
  });
});

describe("applyEvent", () => {
  it("creates the canonical record, the mapping and a CRM job for a first event", () => {
    const e = norm(stripeEvent("customer.created", customer({ id: "cus_1", uid: "u1", email: "a@example.com" })));
    const plan = applyEvent(input(e));
    expect(plan.status).toBe("applied");
    expect(plan.customer?.after).toMatchObject({ uid: "u1", email: "a@example.com", stripeCustomerId: "cus_1" });
    expect(plan.mapping).toEqual({ stripeCustomerId: "cus_1", uid: "u1" });
    expect(plan.jobs.map((j) => j.kind)).toEqual(["crm.contact.upsert"]);
    expect(plan.customer?.after.sync.crm).toEqual({ status: "pending", jobId: jobId(e.meta.id, plan.jobs[0]!), at: now });
  });

  it("records stale without changes when the object's watermark is newer", () => {
    const e = norm(stripeEvent("customer.subscription.updated", subscription({ id: "sub_1", customer: "cus_1", uid: "u1", status: "active", price: price({ id: "price_1" }) }), { created: 100 }));
    const newer = { ...e.subject, status: "canceled" } as typeof e.subject;
    const snapshots = { objects: { sub_1: { subject: newer, mark: { created: 200, eventId: "evt_newer", eventType: "customer.subscription.updated", source: "event" as const }, pastDueSince: null } } };
    const plan = applyEvent(input(e, { snapshots }));
    expect(plan).toMatchObject({ status: "stale", customer: null, jobs: [], audits: [] });
  });

  it("holds an event with no uid for review", () => {
    const e = norm(stripeEvent("invoice.paid", invoice({ id: "in_1", customer: "cus_x", status: "paid" })));
    expect(applyEvent(input(e))).toMatchObject({ status: "needs_review", review: { reason: "unmapped_customer" } });
  });

  it("plans a ticket only for failed renewals, keyed by invoice so Stripe's retries do not add tickets", () => {
    const existing = newCustomer("u1", now);
    const renewal = norm(stripeEvent("invoice.payment_failed", invoice({ id: "in_1", customer: "cus_1", status: "open", billingReason: "subscription_cycle" })));
    const first = norm(stripeEvent("invoice.payment_failed", invoice({ id: "in_2", customer: "cus_1", status: "open", billingReason: "subscription_create" })));
    const r1 = applyEvent(input(renewal, { mappingUid: "u1", customer: existing }));
    expect(r1.jobs.filter((j) => j.kind === "helpdesk.ticket.create")).toEqual([expect.objectContaining({ idempotencyKey: "failed-renewal:in_1" })]);
    const r2 = applyEvent(input(first, { mappingUid: "u1", customer: existing }));
    expect(r2.jobs.map((j) => j.kind)).not.toContain("helpdesk.ticket.create");
  });

  it("does not plan a CRM job when nothing about the customer changed", () => {
    const e = norm(stripeEvent("payment_intent.canceled", paymentIntent({ id: "pi_1", customer: "cus_1", status: "canceled" })));
    const existing = { ...newCustomer("u1", now), stripeCustomerId: "cus_1" };
    const plan = applyEvent(input(e, { mappingUid: "u1", customer: existing }));
    expect(plan.jobs).toEqual([]);
    expect(plan.audits.map((a) => a.action)).toEqual(["billing.create"]);
  });

  it("leaves a staff-set supportTier alone when the plan changes", () => {
    const e = norm(stripeEvent("customer.subscription.updated", subscription({ id: "sub_1", customer: "cus_1", status: "active", price: price({ id: "price_1", entitlements: "a", supportTier: "priority" }) })));
    const staffSet = { ...newCustomer("u1", now), supportTier: "vip", supportTierSource: "staff" as const };
    expect(applyEvent(input(e, { mappingUid: "u1", customer: staffSet })).customer?.after.supportTier).toBe("vip");
    expect(applyEvent(input(e, { mappingUid: "u1", customer: newCustomer("u1", now) })).customer?.after.supportTier).toBe("priority");
  });

  it("keeps amounts out of the canonical record", () => {
    const e = norm(stripeEvent("invoice.paid", invoice({ id: "in_1", customer: "cus_1", uid: "u1", subscription: "sub_1", status: "paid", amount: 4200 })));
    const plan = applyEvent(input(e));
    expect(JSON.stringify(plan.customer?.after)).not.toContain("4200");
    expect(plan.billing?.after.invoices.in_1).toMatchObject({ amountPaid: 4200 });
  });
});
