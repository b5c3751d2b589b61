/**
 * Convergence gaps, on the Firestore emulator with the local Stripe stand-in: a refund that arrives before its payment
 * and names no order or customer is held, then released when its payment intent gets an owner; a session whose async
 * payment failed keeps that fact through a revalidation from the Stripe API (which shows it only as `unpaid`) and when
 * the failure arrives in the same second as the completion.
 */
import { describe, expect, it } from "vitest";
import type { JobDoc } from "../../functions/src/store/jobs";
import { releaseHeldEventsForObject } from "../../functions/src/services/heldEvents";
import { revalidateObject } from "../../functions/src/services/revalidate";
import { stripeEventsClient } from "../../functions/src/sinks/stripeApi";
import { deliver } from "../support/deliver";
import { testDb } from "../support/firestore";
import { data, ledger } from "../support/read";
import { useStripeStandIn } from "../support/stripeAccount";
import { checkoutSession, customer, paymentIntent, refund, stripeEvent, uniq } from "../support/stripeFixtures";
import type { StripeServer } from "../vendors/stripeServer";

const db = testDb();
const KEY = "sk_test_convergence_gaps_0123456789";
let stripe: StripeServer;
useStripeStandIn(KEY, (s) => (stripe = s));
const nowSec = () => Math.floor(Date.now() / 1000);

function revalidationJob(target: JobDoc["target"]): JobDoc {
  const at = new Date();
  return {
    jobId: uniq("job"), kind: "stripe.object.revalidate", status: "running", target, idempotencyKey: `revalidate:${target.stripeObjectId}`, reason: "test",
    cause: { type: "system" }, attempts: 1, nextAttemptAt: null, lastError: null, leaseExpiresAt: null, firstAttemptAt: at, completedAt: null, createdAt: at, updatedAt: at,
  };
}

const revalidateDeps = () => ({ db, stripe: stripeEventsClient({ secretKey: KEY, host: stripe.host, port: stripe.port, protocol: "http", maxNetworkRetries: 0 }), graceDays: 3 });

describe("held refunds released by their payment", () => {
  it("a refund before its payment intent (no orderId, no customer) is held, then applied once the payment intent names the order", async () => {
    const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    const pi = uniq("pi");
    const ch = uniq("ch");
    const re = uniq("re");
    const t = nowSec() - 600;
    const early = stripeEvent("refund.created", refund({ id: re, charge: ch, paymentIntent: pi, amount: 1500 }), { created: t + 30 });
    expect((await deliver(db, early)).body.status).toBe("needs_review");
    expect(await data(db, `reviewQueue/${early.id}`)).toMatchObject({ status: "open", reason: "unmapped_customer", stripeCustomerId: null, waitingFor: [pi, ch] });
    // Nothing links the payment yet: releasing for it finds the refund but cannot attribute it.
    expect(await releaseHeldEventsForObject(db, "pi_unrelated", { graceDays: 3 })).toEqual([]);

    await deliver(db, stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: 5000, metadata: meta }), { created: t }));
    expect(await data(db, `stripeObjects/${pi}`)).toMatchObject({ orderId: meta.orderId });
    expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "paid", amountRefunded: 0 });

    // What onStripeObjectLinked does when the link gains its owner.
    const released = await releaseHeldEventsForObject(db, pi, { graceDays: 3 });
    expect(released.map((r) => r.status)).toEqual(["applied"]);
    expect(await ledger(db, early.id)).toMatchObject({ status: "applied", orderId: meta.orderId });
    expect(await data(db, `reviewQueue/${early.id}`)).toMatchObject({ status: "resolved", resolution: "applied as applied" });
    expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "partially_refunded", amountRefunded: 1500, refunds: { [re]: { amount: 1500 } } });
    // Released once: a second link write changes nothing.
    expect(await releaseHeldEventsForObject(db, pi, { graceDays: 3 })).toEqual([]);
  });

  it("a refund before a customer's payment is released through the payment intent's link to the customer", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    const pi = uniq("pi");
    const ch = uniq("ch");
    const t = nowSec() - 600;
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid }), { created: t - 100 }));
    const early = stripeEvent("refund.created", refund({ id: uniq("re"), charge: ch, paymentIntent: pi, amount: 700 }), { created: t + 30 });
    expect((await deliver(db, early)).body.status).toBe("needs_review");
    await deliver(db, stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, customer: cus, status: "succeeded", amount: 2000 }), { created: t }));
    expect(await data(db, `stripeObjects/${pi}`)).toMatchObject({ uid });
    expect((await releaseHeldEventsForObject(db, pi, { graceDays: 3 })).map((r) => r.status)).toEqual(["applied"]);
    const billing = await data(db, `customers/${uid}/private/billing`);
    expect(billing?.refunds).toMatchObject({ [String(early.data.object.id)]: { amount: 700, chargeId: ch } });
  });
});

describe("facts only an event carries survive revalidation", () => {
  const setUp = async () => {
    const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    const cs = uniq("cs");
    const pi = uniq("pi");
    const session = checkoutSession({ id: cs, mode: "payment", paymentIntent: pi, paymentStatus: "unpaid", amount: 4200, metadata: meta });
    return { meta, cs, pi, session };
  };

  it("an order whose async payment failed stays payment_failed after the session is re-read from the Stripe API", async () => {
    const { meta, cs, session } = await setUp();
    const t = nowSec() - 600;
    await deliver(db, stripeEvent("checkout.session.completed", session, { created: t }));
    expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "pending_payment" });
    await deliver(db, stripeEvent("checkout.session.async_payment_failed", session, { created: t + 60 }));
    expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "payment_failed" });

    // Stripe's session now: complete, unpaid — the failure is not in the object. A different field makes the read news.
    const truth = { ...session, id: cs, object: "checkout.session", customer_details: { ...session.customer_details, name: "G. Hopper" }, created: t };
    stripe.seedObjects([truth]);
    const result = await revalidateObject(revalidateDeps(), revalidationJob({ stripeObjectId: cs, stripeObjectKind: "checkout", orderId: meta.orderId }));
    expect(result).toMatchObject({ revalidated: cs, status: "applied" });
    const snap = (await data(db, `orders/${meta.orderId}/private/stripe`)) as { objects: Record<string, unknown> } | undefined;
    expect(snap?.objects[cs]).toMatchObject({ mark: { source: "api" }, facts: ["checkout.session.async_payment_failed"] });
    expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "payment_failed" });
  });

  it("an async failure in the same second as the completion (same object content) still fails the order", async () => {
    const { meta, session } = await setUp();
    const t = nowSec() - 600;
    await deliver(db, stripeEvent("checkout.session.completed", session, { created: t }));
    const failed = stripeEvent("checkout.session.async_payment_failed", session, { created: t });
    expect((await deliver(db, failed)).body.status).toBe("stale");
    expect((await ledger(db, failed.id))?.reason).toMatch(/kept as a fact/);
    expect(await data(db, `orders/${meta.orderId}`)).toMatchObject({ status: "payment_failed" });
  });

  it("a customer's failed async checkout keeps lastPaymentFailure after a revalidation", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    const cs = uniq("cs");
    const pi = uniq("pi");
    const t = nowSec() - 600;
    const session = checkoutSession({ id: cs, mode: "payment", customer: cus, clientReferenceId: uid, paymentIntent: pi, paymentStatus: "unpaid" });
    await deliver(db, stripeEvent("checkout.session.completed", session, { created: t }));
    await deliver(db, stripeEvent("checkout.session.async_payment_failed", session, { created: t + 60 }));
    expect((await data(db, `customers/${uid}/private/billing`))?.lastPaymentFailure).toMatchObject({ paymentIntentId: pi });
    const truth = { ...session, id: cs, object: "checkout.session", customer_details: { ...session.customer_details, name: "G. Hopper" }, created: t };
    stripe.seedObjects([truth]);
    expect(await revalidateObject(revalidateDeps(), revalidationJob({ stripeObjectId: cs, stripeObjectKind: "checkout", uid }))).toMatchObject({ status: "applied" });
    expect((await data(db, `customers/${uid}/private/billing`))?.lastPaymentFailure).toMatchObject({ paymentIntentId: pi });
    expect(await data(db, `customers/${uid}`)).toMatchObject({ name: "G. Hopper", lastPaymentAt: null });
  });
});
