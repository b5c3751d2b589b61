/** Every handled event family, applied through the real webhook path to the real Firestore emulator. */
import { Timestamp } from "firebase-admin/firestore";
import { beforeEach, describe, expect, it } from "vitest";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { audits, data, jobs, ledger } from "../support/read";
import {
  charge,
  checkoutSession,
  customer,
  dispute,
  invoice,
  paymentIntent,
  price,
  refund,
  stripeEvent,
  subscription,
  uniq,
} from "../support/stripeFixtures";

const db = testDb();
const ok = async (event: object, expected = "applied") => {
  const res = await deliver(db, event);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.status, JSON.stringify(res.body)).toBe(expected);
  return res;
};

async function mapped() {
  const uid = uniq("user");
  const cus = uniq("cus");
  await ok(stripeEvent("customer.created", customer({ id: cus, uid, email: "ada@example.com" })));
  return { uid, cus };
}

const starter = price({ id: "price_starter", lookupKey: "starter", entitlements: "basic" });
const pro = price({ id: "price_pro", lookupKey: "pro", entitlements: "basic,reports", supportTier: "priority" });

describe("event families", () => {
  beforeEach(resetFirestore);

  it("checkout.session.completed maps the customer by client_reference_id and plans a CRM upsert", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    const e = stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "subscription", customer: cus, clientReferenceId: uid, subscription: uniq("sub"), email: "grace@example.com" }));
    await ok(e);
    expect(await data(db, `stripeCustomers/${cus}`)).toMatchObject({ uid });
    expect(await data(db, `customers/${uid}`)).toMatchObject({ uid, stripeCustomerId: cus, email: "grace@example.com" });
    const planned = await jobs(db, { eventId: e.id });
    expect(planned.map((j) => j.kind)).toEqual(["crm.contact.upsert"]);
    expect(planned[0]).toMatchObject({ status: "pending", target: { uid }, attempts: 0 });
    expect(await ledger(db, e.id)).toMatchObject({ status: "applied", uid, stripeCustomerId: cus, jobIds: [planned[0]?.jobId] });
    const entries = await audits(db, e.id);
    expect(entries.map((a) => a.action).sort()).toEqual(["billing.create", "customer.create", "stripeCustomer.map"]);
    expect(entries.find((a) => a.action === "customer.create")).toMatchObject({ actor: { type: "stripe", id: e.id }, target: `customers/${uid}` });
  });

  it("customer.created/updated/deleted keep identity fields current", async () => {
    const { uid, cus } = await mapped();
    await ok(stripeEvent("customer.updated", customer({ id: cus, email: "ada@new.example", name: "Ada King" }), { previous: { email: "ada@example.com" } }));
    expect(await data(db, `customers/${uid}`)).toMatchObject({ email: "ada@new.example", name: "Ada King", stripeCustomerDeleted: false });
    await ok(stripeEvent("customer.deleted", customer({ id: cus })));
    expect(await data(db, `customers/${uid}`)).toMatchObject({ stripeCustomerDeleted: true, stripeCustomerId: cus });
  });

  it("subscription lifecycle sets plan, status, period end and entitlements; claims job only when entitlements change", async () => {
    const { uid, cus } = await mapped();
    const sub = uniq("sub");
    const periodEnd = Math.floor(Date.now() / 1000) + 30 * 86400;
    const created = stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "trialing", price: starter, periodEnd }));
    await ok(created);
    expect(await data(db, `customers/${uid}`)).toMatchObject({
      plan: "starter",
      subscriptionId: sub,
      subscriptionStatus: "trialing",
      entitlements: ["basic"],
      supportTier: "standard",
      currentPeriodEnd: Timestamp.fromMillis(periodEnd * 1000),
    });
    expect((await jobs(db, { eventId: created.id })).map((j) => j.kind).sort()).toEqual(["auth.claims.update", "crm.contact.upsert", "crm.deal.upsert"]);

    await ok(stripeEvent("customer.subscription.trial_will_end", subscription({ id: sub, customer: cus, status: "trialing", price: starter, periodEnd })));
    const upgraded = stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, status: "active", price: pro, periodEnd }));
    await ok(upgraded);
    expect(await data(db, `customers/${uid}`)).toMatchObject({ plan: "pro", subscriptionStatus: "active", entitlements: ["basic", "reports"], supportTier: "priority" });
    expect((await jobs(db, { eventId: upgraded.id })).map((j) => j.kind)).toContain("auth.claims.update");

    await ok(stripeEvent("customer.subscription.paused", subscription({ id: sub, customer: cus, status: "paused", price: pro, periodEnd })));
    expect(await data(db, `customers/${uid}`)).toMatchObject({ subscriptionStatus: "paused", entitlements: [] });
    await ok(stripeEvent("customer.subscription.resumed", subscription({ id: sub, customer: cus, status: "active", price: pro, periodEnd })));
    expect(await data(db, `customers/${uid}`)).toMatchObject({ subscriptionStatus: "active", entitlements: ["basic", "reports"] });

    const sameEntitlements = stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, status: "active", price: pro, periodEnd, cancelAtPeriodEnd: true }));
    await ok(sameEntitlements);
    expect(await data(db, `customers/${uid}`)).toMatchObject({ cancelAtPeriodEnd: true });
    expect((await jobs(db, { eventId: sameEntitlements.id })).map((j) => j.kind)).not.toContain("auth.claims.update");

    await ok(stripeEvent("customer.subscription.deleted", subscription({ id: sub, customer: cus, status: "canceled", price: pro, periodEnd })));
    expect(await data(db, `customers/${uid}`)).toMatchObject({ subscriptionStatus: "canceled", entitlements: [], supportTier: "free" });
  });

  it("past_due keeps entitlements for the grace period", async () => {
    const { uid, cus } = await mapped();
    const sub = uniq("sub");
    await ok(stripeEvent("customer.subscription.created", subscription({ id: sub, customer: cus, status: "active", price: pro })));
    await ok(stripeEvent("customer.subscription.updated", subscription({ id: sub, customer: cus, status: "past_due", price: pro })));
    const doc = await data(db, `customers/${uid}`);
    expect(doc).toMatchObject({ subscriptionStatus: "past_due", entitlements: ["basic", "reports"] });
    expect(doc?.entitlementsGraceUntil).toBeInstanceOf(Timestamp);
  });

  it("invoices: paid sets lastPaymentAt and clears delinquency; a failed renewal plans one ticket; amounts stay in private/billing", async () => {
    const { uid, cus } = await mapped();
    const sub = uniq("sub");
    const inv1 = uniq("in");
    await ok(stripeEvent("invoice.paid", invoice({ id: inv1, customer: cus, subscription: sub, status: "paid", billingReason: "subscription_create", amount: 2900 })));
    let doc = await data(db, `customers/${uid}`);
    expect(doc?.lastPaymentAt).toBeInstanceOf(Timestamp);
    expect(doc?.delinquent).toBe(false);
    expect(Object.keys(doc ?? {}).filter((k) => /amount|invoice/i.test(k))).toEqual([]);
    expect(await data(db, `customers/${uid}/private/billing`)).toMatchObject({ invoices: { [inv1]: { amountPaid: 2900, status: "paid" } } });

    const inv2 = uniq("in");
    const failed = stripeEvent("invoice.payment_failed", invoice({ id: inv2, customer: cus, subscription: sub, status: "open", billingReason: "subscription_cycle" }));
    await ok(failed);
    doc = await data(db, `customers/${uid}`);
    expect(doc?.delinquent).toBe(true);
    const tickets = await jobs(db, { kind: "helpdesk.ticket.create" });
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ reason: "failed_renewal", idempotencyKey: `failed-renewal:${inv2}`, target: { uid, invoiceId: inv2 } });
    expect(doc?.sync).toMatchObject({ helpdesk: { status: "pending" }, crm: { status: "pending" } });

    await ok(stripeEvent("invoice.payment_action_required", invoice({ id: inv2, customer: cus, subscription: sub, status: "open" })));
    expect(await data(db, `customers/${uid}/private/billing`)).toMatchObject({ actionRequired: { invoiceId: inv2 } });

    await ok(stripeEvent("invoice.paid", invoice({ id: inv2, customer: cus, subscription: sub, status: "paid" })));
    expect(await data(db, `customers/${uid}`)).toMatchObject({ delinquent: false });
    const billing = await data(db, `customers/${uid}/private/billing`);
    expect(billing).toMatchObject({ lastPaymentFailure: null, actionRequired: null });
  });

  it("invoice carrying metadata.firebaseUid in subscription details maps a new customer", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    await ok(stripeEvent("invoice.paid", invoice({ id: uniq("in"), customer: cus, subscription: uniq("sub"), status: "paid", uid })));
    expect(await data(db, `stripeCustomers/${cus}`)).toMatchObject({ uid });
  });

  it("payment intents for a subscription customer record payments; failures keep the decline code, not card data", async () => {
    const { uid, cus } = await mapped();
    const pi = uniq("pi");
    await ok(stripeEvent("payment_intent.payment_failed", paymentIntent({ id: pi, customer: cus, status: "requires_payment_method", declineCode: "insufficient_funds" })));
    expect(await data(db, `customers/${uid}/private/billing`)).toMatchObject({ lastPaymentFailure: { paymentIntentId: pi, code: "insufficient_funds" } });
    await ok(stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, customer: cus, status: "succeeded" })));
    expect((await data(db, `customers/${uid}`))?.lastPaymentAt).toBeInstanceOf(Timestamp);
    await ok(stripeEvent("payment_intent.canceled", paymentIntent({ id: uniq("pi"), customer: cus, status: "canceled" })));
  });

  describe("marketplace orders", () => {
    const order = () => ({ orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") });

    it("checkout -> paid -> partial refund -> full refund, with deal jobs and history", async () => {
      const meta = order();
      const pi = uniq("pi");
      const ch = uniq("ch");
      await ok(stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", paymentIntent: pi, amount: 5000, metadata: meta })));
      await ok(stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: 5000, metadata: meta })));
      expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "paid", buyerUid: meta.buyerUid, sellerUid: meta.sellerUid, amount: 5000, paymentIntentId: pi });

      // The refund names only the payment intent: the order is found through it.
      const re1 = uniq("re");
      await ok(stripeEvent("refund.created", refund({ id: re1, charge: ch, paymentIntent: pi, amount: 2000 })));
      expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "partially_refunded", amountRefunded: 2000 });
      await ok(stripeEvent("refund.updated", refund({ id: re1, charge: ch, paymentIntent: pi, amount: 2000, status: "succeeded" })));
      await ok(stripeEvent("charge.refunded", charge({ id: ch, paymentIntent: pi, amount: 5000, amountRefunded: 5000 })));
      const final = await data(db, `orders/${meta.orderId}`);
      expect(final).toMatchObject({ status: "refunded", amountRefunded: 5000 });
      expect((final?.history as Array<{ to: string }>).map((h) => h.to)).toEqual(["paid", "partially_refunded", "refunded"]);
      // One live deal job for the order: every later change folded into it (it reads the order when it runs).
      const deals = await jobs(db, { kind: "crm.deal.upsert" });
      expect(deals).toHaveLength(1);
      expect(deals[0]?.coalesced).toBeGreaterThanOrEqual(2);
    });

    it("async payment methods: pending_payment, then async_payment_succeeded / failed", async () => {
      const a = order();
      await ok(stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", paymentStatus: "unpaid", metadata: a })));
      expect(await data(db, `orders/${a.orderId}`)).toMatchObject({ status: "pending_payment" });
      await ok(stripeEvent("checkout.session.async_payment_succeeded", checkoutSession({ id: uniq("cs"), mode: "payment", metadata: a })));
      expect(await data(db, `orders/${a.orderId}`)).toMatchObject({ status: "paid" });

      const b = order();
      await ok(stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", paymentStatus: "unpaid", metadata: b })));
      await ok(stripeEvent("checkout.session.async_payment_failed", checkoutSession({ id: uniq("cs"), mode: "payment", paymentStatus: "unpaid", metadata: b })));
      expect(await data(db, `orders/${b.orderId}`)).toMatchObject({ status: "payment_failed" });
    });

    it("payment_failed then canceled", async () => {
      const meta = order();
      const pi = uniq("pi");
      await ok(stripeEvent("payment_intent.payment_failed", paymentIntent({ id: pi, status: "requires_payment_method", metadata: meta })));
      await ok(stripeEvent("payment_intent.canceled", paymentIntent({ id: pi, status: "canceled", metadata: meta })));
      expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "canceled" });
    });

    it("dispute opens one ticket job and records its outcome", async () => {
      const meta = order();
      const pi = uniq("pi");
      const ch = uniq("ch");
      await ok(stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", metadata: meta })));
      const dp = uniq("dp");
      await ok(stripeEvent("charge.dispute.created", dispute({ id: dp, charge: ch, paymentIntent: pi, status: "needs_response" })));
      const tickets = await jobs(db, { kind: "helpdesk.ticket.create" });
      expect(tickets).toHaveLength(1);
      expect(tickets[0]).toMatchObject({ reason: "dispute", idempotencyKey: `dispute:${dp}`, target: { orderId: meta.orderId, uid: meta.buyerUid } });
      await ok(stripeEvent("charge.dispute.closed", dispute({ id: dp, charge: ch, paymentIntent: pi, status: "won" })));
      expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "paid", dispute: { id: dp, status: "won" } });
      expect(await jobs(db, { kind: "helpdesk.ticket.create" })).toHaveLength(1);
    });

    it("an illegal transition is recorded and sent to review, never applied", async () => {
      const meta = order();
      const pi = uniq("pi");
      await ok(stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", metadata: meta })));
      await ok(stripeEvent("charge.refunded", charge({ id: uniq("ch"), paymentIntent: pi, amountRefunded: 5000 })));
      const late = stripeEvent("payment_intent.payment_failed", paymentIntent({ id: uniq("pi"), status: "requires_payment_method", metadata: meta }));
      await ok(late, "needs_review");
      const o = await data(db, `orders/${meta.orderId}`);
      expect(o).toMatchObject({ status: "refunded" });
      expect(o?.rejectedTransitions).toEqual([expect.objectContaining({ from: "refunded", to: "payment_failed", by: `stripe:${late.id}` })]);
      expect(await data(db, `reviewQueue/${late.id}`)).toMatchObject({ reason: "illegal_order_transition", status: "open" });
      expect((await audits(db, late.id)).map((a) => a.action)).toContain("order.transition_rejected");
    });
  });

  it("disputes on a subscription payment find the customer through the payment intent", async () => {
    const { uid, cus } = await mapped();
    const pi = uniq("pi");
    await ok(stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, customer: cus, status: "succeeded" })));
    const dp = uniq("dp");
    await ok(stripeEvent("charge.dispute.created", dispute({ id: dp, charge: uniq("ch"), paymentIntent: pi, status: "needs_response" })));
    expect(await data(db, `customers/${uid}/private/billing`)).toMatchObject({ disputes: { [dp]: { status: "needs_response" } } });
    expect(await jobs(db, { kind: "helpdesk.ticket.create" })).toEqual([expect.objectContaining({ target: { uid, disputeId: dp } })]);
  });
});
