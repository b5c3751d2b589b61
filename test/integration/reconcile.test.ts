/**
 * Three-way reconciliation on the Firestore emulator with the local Stripe stand-in, the in-memory CRM and claims:
 * an account imported by backfill and synced by the queue reconciles to nothing; then each kind of drift is found
 * for the right customer, `fix` repairs it through jobs (run by the queue harness) and the next run finds nothing.
 */
import { describe, expect, it } from "vitest";
import { runBackfill } from "../../functions/src/services/backfill";
import { reconcile, type ReconcileDeps } from "../../functions/src/services/reconcile";
import { MemoryClaims, MemoryCrm, MemoryHelpdesk } from "../fakes/memorySinks";
import { stripeReadClient } from "../../functions/src/sinks/stripeApi";
import type { StripeServer } from "../vendors/stripeServer";
import { testDb } from "../support/firestore";
import { harness } from "../support/syncHarness";
import { deliver } from "../support/deliver";
import { account, jsonCustomer, jsonSubscription, PRO, useStripeStandIn, type StripeJsonObject } from "../support/stripeAccount";
import { invoice, paymentIntent, stripeEvent } from "../support/stripeFixtures";

const KEY = "sk_test_reconcile";
let stripe: StripeServer;
useStripeStandIn(KEY, (s) => (stripe = s));

async function syncedAccount(count: number) {
  const db = testDb();
  const stripeApi = stripeReadClient({ secretKey: KEY, host: "127.0.0.1", port: stripe.port, protocol: "http" });
  stripe.seedObjects(account({ count, prefix: "r" }));
  const crm = new MemoryCrm();
  const claims = new MemoryClaims();
  for (let i = 0; i < count; i++) claims.addUser(`u_r${i}`);
  claims.addUser("u_new");
  await runBackfill({ db, stripe: stripeApi, graceDays: 3 });
  const queue = harness(db, { crm, claims, helpdesk: new MemoryHelpdesk(), notify: null, stripe: null });
  await queue.runPending();
  const deps: ReconcileDeps = { db, stripe: stripeApi, crm, claims, graceDays: 3 };
  return { db, crm, claims, queue, deps };
}

describe("reconcile", () => {
  it("finds each kind of drift, repairs it through jobs with --fix, and the next run finds none", async () => {
    const { db, crm, claims, queue, deps } = await syncedAccount(6);
    const clean = await reconcile(deps);
    expect(clean).toMatchObject({ status: "done", checked: 6, driftTotal: 0, alertId: null });

    // Drift, one kind per customer.
    await db.doc("customers/u_r0").update({ subscriptionStatus: "canceled" });
    crm.deleteContact("u_r1");
    crm.editDeal("subscription:sub_r2", { vendorStage: "closedlost" });
    claims.addUser("u_r3", { entitlements: [], plan: null, supportTier: "free", admin: true });
    stripe.seedObjects([
      { id: "cus_r4", object: "customer", deleted: true },
      jsonSubscription({ id: "sub_r4", customer: "cus_r4", status: "canceled", price: PRO }, 1_780_000_004),
      jsonCustomer({ id: "cus_new", uid: "u_new", email: "new@example.com" }, 1_790_000_000),
      jsonSubscription({ id: "sub_new", customer: "cus_new", status: "active", price: PRO }, 1_790_000_000),
      jsonCustomer({ id: "cus_anon", email: "anon@example.com" }, 1_790_000_001),
    ]);

    const report = await reconcile(deps);
    expect(report.status).toBe("done");
    expect(report.checked).toBe(8);
    const has = (kind: string, uid: string | null, extra: Record<string, unknown> = {}) =>
      expect(report.findings).toContainEqual(expect.objectContaining({ kind, uid, ...extra }));
    has("firestore_differs", "u_r0", { field: "subscriptionStatus", expected: "active", found: "canceled" });
    has("crm_contact_missing", "u_r1");
    has("crm_deal_stage_differs", "u_r2", { field: "subscription:sub_r2", expected: "closedwon", found: "closedlost" });
    has("claims_stale", "u_r3", { field: "entitlements", expected: ["api", "reports"], found: [] });
    has("stripe_customer_deleted", "u_r4", { stripeCustomerId: "cus_r4", field: "stripeCustomerDeleted", expected: true, found: false });
    has("stripe_customer_unknown", "u_new", { stripeCustomerId: "cus_new" });
    has("stripe_customer_unknown", null, { stripeCustomerId: "cus_anon" });
    expect(report.findings.filter((f) => f.uid === "u_r5")).toEqual([]);
    // Reporting changed nothing but the run document and the alert.
    expect((await db.doc("customers/u_r0").get()).get("subscriptionStatus")).toBe("canceled");
    const run = (await db.doc(`ops/reconcile/runs/${report.runId}`).get()).data();
    expect(run).toMatchObject({ status: "done", fix: false, checked: 8, drift: report.drift, fixed: 0 });
    expect(run?.finishedAt).toBeDefined();
    expect((await db.doc(`alerts/reconcile_${report.runId}`).get()).data()).toMatchObject({ type: "reconcile_drift", status: "open", total: report.driftTotal });

    const fixed = await reconcile(deps, { fix: true });
    expect(fixed.driftTotal).toBe(report.driftTotal);
    expect(fixed.fixed).toBe(report.driftTotal);
    const repairJobs = await db.collection("syncJobs").where("cause.jobId", "==", fixed.runId).get();
    expect(repairJobs.docs.map((d) => `${d.get("kind")} ${d.get("target.uid")}`).sort()).toEqual(
      expect.arrayContaining(["crm.contact.upsert u_r0", "crm.contact.upsert u_r1", "crm.deal.upsert u_r2", "auth.claims.update u_r3", "auth.claims.update u_r4", "crm.contact.upsert u_new"]),
    );
    expect((await db.doc("customers/u_r0").get()).get("subscriptionStatus")).toBe("active");
    expect((await db.doc("customers/u_r4").get()).data()).toMatchObject({ stripeCustomerDeleted: true, subscriptionStatus: "canceled", entitlements: [] });
    expect((await db.doc("customers/u_new").get()).get("stripeCustomerId")).toBe("cus_new");
    expect((await db.doc("reviewQueue/backfill_cus_anon").get()).data()).toMatchObject({ status: "open", reason: "unmapped_customer" });
    const audit = await db.collection("auditLog").where("actor.id", "==", "reconcile").get();
    expect(audit.docs.map((d) => d.get("target"))).toEqual(expect.arrayContaining(["customers/u_r0", "customers/u_r1", "customers/u_r2", "customers/u_r3"]));

    await queue.runPending();
    expect(crm.contacts().some((c) => c.uid === "u_r1")).toBe(true);
    expect(crm.deals().find((d) => d.key === "subscription:sub_r2")?.vendorStage).toBe("closedwon");
    expect(claims.claimsOf("u_r3")).toMatchObject({ entitlements: ["api", "reports"], plan: "pro", admin: true });

    const after = await reconcile(deps);
    expect(after).toMatchObject({ driftTotal: 0, drift: {}, awaitingReview: 1, alertId: null });
  });

  it("compares marketplace order deals and invoices / payment intents newer than the snapshots; --fix repairs, the next run finds none", async () => {
    const { db, crm, queue, deps } = await syncedAccount(3);
    const t = Math.floor(Date.now() / 1000) - 3600;
    const asJson = (o: object, created: number) => ({ ...(JSON.parse(JSON.stringify(o)) as StripeJsonObject), created });
    // Two marketplace orders paid through webhooks; the first one's deal is synced, then edited by hand in the CRM.
    const order = (n: number) => ({ orderId: `order_rc${n}`, buyerUid: "u_r0", sellerUid: "u_seller" });
    await deliver(db, stripeEvent("payment_intent.succeeded", paymentIntent({ id: "pi_order1", status: "succeeded", amount: 5000, metadata: order(1) }), { created: t }));
    await queue.runPending();
    crm.editDeal("order:order_rc1", { vendorStage: "closedlost", amount: 12 });
    // The second order's deal job never ran (a CRM outage, say): its deal is missing.
    await deliver(db, stripeEvent("payment_intent.succeeded", paymentIntent({ id: "pi_order2", status: "succeeded", amount: 3000, metadata: order(2) }), { created: t }));
    for (const j of (await db.collection("syncJobs").where("target.orderId", "==", "order_rc2").get()).docs) await j.ref.delete();
    // A customer's payment Stripe holds that no event brought (missed), and one whose last event is out of date.
    await deliver(db, stripeEvent("payment_intent.payment_failed", paymentIntent({ id: "pi_r1", customer: "cus_r1", status: "requires_payment_method", amount: 4900, declineCode: "insufficient_funds" }), { created: t }));
    stripe.seedObjects([
      asJson(invoice({ id: "in_r0", customer: "cus_r0", subscription: "sub_r0", status: "paid", amount: 4900, paidAt: t + 60 }), t + 60),
      asJson(paymentIntent({ id: "pi_r1", customer: "cus_r1", status: "succeeded", amount: 4900 }), t),
    ]);

    const report = await reconcile(deps);
    expect(report).toMatchObject({ status: "done", checked: 3, checkedOrders: 2, listed: { invoices: 1, paymentIntents: 1 } });
    const has = (kind: string, uid: string | null, extra: Record<string, unknown> = {}) =>
      expect(report.findings).toContainEqual(expect.objectContaining({ kind, uid, ...extra }));
    has("stripe_object_missing", "u_r0", { field: "in_r0", expected: "invoice paid" });
    has("firestore_differs", "u_r0", { field: "lastPaymentAt" });
    has("stripe_object_differs", "u_r1", { field: "pi_r1", expected: "succeeded", found: "requires_payment_method" });
    has("order_deal_differs", "u_r0", { field: "order:order_rc1.stage", expected: "closedwon", found: "closedlost" });
    has("order_deal_differs", "u_r0", { field: "order:order_rc1.amount", expected: "50", found: "12" });
    has("order_deal_missing", "u_r0", { field: "order:order_rc2" });
    expect(report.findings.filter((f) => f.uid === "u_r2")).toEqual([]);

    const fixed = await reconcile(deps, { fix: true });
    expect(fixed.fixed).toBe(fixed.driftTotal);
    expect((await db.doc("customers/u_r0/private/billing").get()).get("invoices.in_r0.status")).toBe("paid");
    expect((await db.doc("customers/u_r1/private/billing").get()).get("payments.pi_r1.status")).toBe("succeeded");
    const audit = await db.collection("auditLog").where("actor.id", "==", "reconcile").where("target", "==", "orders/order_rc2").get();
    expect(audit.size).toBe(1);
    await queue.runPending();
    expect(crm.deals().find((d) => d.key === "order:order_rc1")).toMatchObject({ vendorStage: "closedwon", amount: 50 });
    expect(crm.deals().find((d) => d.key === "order:order_rc2")).toMatchObject({ vendorStage: "closedwon", amount: 30 });

    const after = await reconcile(deps);
    expect(after).toMatchObject({ driftTotal: 0, drift: {} });
  });
});
