/**
 * Ids from Stripe never choose where opsync writes: path-like, reserved or oversized values are recorded (ledger
 * `needs_review` / `failed` naming the field) and answered 200, and nothing outside the event's own documents
 * changes. Also: odd but genuine Stripe envelopes are accepted, impossible ones refused without writing.
 */
import functionsTest from "firebase-functions-test";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ensureCustomerForUser } from "../../functions/src/services/support";
import { fulfillOrder } from "../../functions/src/triggers/fulfillOrder";
import { deliver } from "../support/deliver";
import { dumpAll, resetFirestore, testDb } from "../support/firestore";
import { checkoutSession, customer, paymentIntent, stripeEvent, uniq } from "../support/stripeFixtures";

const fft = functionsTest({ projectId: "demo-opsync" });
afterAll(() => fft.cleanup());

const HOSTILE = ["a/b", "../admin", "/x", "x/", "a//b", ".", "..", "__reserved__", "__proto__", "x".repeat(1600)];

describe("hostile ids in Stripe events", () => {
  const db = testDb();
  beforeEach(resetFirestore);

  async function ledger(eventId: string) {
    return (await db.collection("stripeEvents").doc(eventId).get()).data();
  }

  it.each(HOSTILE)("client_reference_id %j → 200, needs_review naming the field, only ledger + review written", async (ref) => {
    const e = stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", clientReferenceId: ref, customer: uniq("cus") }));
    const res = await deliver(db, e);
    expect(res).toMatchObject({ status: 200, body: { status: "needs_review" } });
    expect(await ledger(e.id)).toMatchObject({ status: "needs_review", field: "client_reference_id" });
    const review = (await db.collection("reviewQueue").doc(e.id).get()).data();
    expect(review).toMatchObject({ reason: "invalid_id", field: "client_reference_id", status: "open", event: null });
    expect(Object.keys(await dumpAll(db)).sort()).toEqual([`reviewQueue/${e.id}`, `stripeEvents/${e.id}`]);
  });

  it("a uid that would escape into customers/<uid>/private/billing leaves an existing customer untouched", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    expect((await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid })))).body.status).toBe("applied");
    const before = await dumpAll(db);
    const e = stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", clientReferenceId: `${uid}/private/billing`, customer: cus }));
    const res = await deliver(db, e);
    expect(res).toMatchObject({ status: 200, body: { status: "needs_review" } });
    const after = await dumpAll(db);
    const added = Object.keys(after).filter((p) => !(p in before)).sort();
    expect(added).toEqual([`reviewQueue/${e.id}`, `stripeEvents/${e.id}`]);
    for (const path of Object.keys(before)) expect(after[path]).toEqual(before[path]);
  });

  it.each([
    ["metadata.firebaseUid", { firebaseUid: "__u__" }],
    ["metadata.orderId", { orderId: "cus_a/b/c" }],
    ["metadata.buyerUid", { orderId: "o-1", buyerUid: "b/../../x" }],
    ["metadata.sellerUid", { orderId: "o-1", sellerUid: ".." }],
  ])("%s unusable → needs_review naming it", async (field, metadata) => {
    const e = stripeEvent("payment_intent.succeeded", paymentIntent({ id: uniq("pi"), status: "succeeded", metadata }));
    expect((await deliver(db, e)).body.status).toBe("needs_review");
    expect(await ledger(e.id)).toMatchObject({ status: "needs_review", field });
  });

  it.each([
    ["id", { id: "cus_a/b" }],
    ["id", { id: "__cus__" }],
  ])("a Stripe %s that cannot be a document id → 200 failed naming it", async (field, patch) => {
    const e = stripeEvent("customer.updated", { ...customer({ id: uniq("cus"), uid: uniq("u") }), ...patch });
    const res = await deliver(db, e);
    expect(res).toMatchObject({ status: 200, body: { status: "failed" } });
    expect(String((await ledger(e.id))?.reason)).toContain(`${field} must`);
    expect(Object.keys(await dumpAll(db))).toEqual([`stripeEvents/${e.id}`]);
  });
});

describe("envelopes Stripe really sends", () => {
  const db = testDb();
  beforeEach(resetFirestore);

  it("invoice.upcoming (no data.object.id) → 200 ignored, objectId null", async () => {
    const e = stripeEvent("invoice.upcoming", { object: "invoice", customer: "cus_1", amount_due: 100 } as never);
    expect(await deliver(db, e)).toMatchObject({ status: 200, body: { status: "ignored" } });
    expect((await db.collection("stripeEvents").doc(e.id).get()).data()).toMatchObject({ objectId: null, objectType: "invoice" });
  });

  it("checkout.session.completed with previous_attributes: null → applied", async () => {
    const e = stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", clientReferenceId: uniq("u"), customer: uniq("cus") }));
    Object.assign(e.data, { previous_attributes: null });
    expect(await deliver(db, e)).toMatchObject({ status: 200, body: { status: "applied" } });
  });

  it("a lone UTF-16 surrogate in a name is stored as U+FFFD, not a 500", async () => {
    const uid = uniq("u");
    const e = stripeEvent("customer.created", customer({ id: uniq("cus"), uid, name: "Ada \ud800 L" }));
    expect(await deliver(db, e)).toMatchObject({ status: 200, body: { status: "applied" } });
    expect((await db.collection("customers").doc(uid).get()).get("name")).toBe("Ada \ufffd L");
  });

  it.each([253_402_300_800, 1e15, -1, 0])("created %s (outside any time Firestore holds) → 400, nothing written", async (created) => {
    const res = await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("u") }), { created }));
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toMatch(/created/);
    expect(await dumpAll(db)).toEqual({});
  });

  it("a period end past year 9999 → 200 failed naming the field", async () => {
    const e = stripeEvent("customer.subscription.updated", {
      id: uniq("sub"), object: "subscription", customer: uniq("cus"), status: "active", current_period_end: 253_402_300_800, metadata: { firebaseUid: uniq("u") },
    } as never);
    const res = await deliver(db, e);
    expect(res).toMatchObject({ status: 200, body: { status: "failed" } });
    expect(String((await db.collection("stripeEvents").doc(e.id).get()).get("reason"))).toContain("current_period_end");
  });

  it("a signature timestamp more than 300 s in the future → 400, nothing written", async () => {
    const res = await deliver(db, stripeEvent("customer.created", customer({ id: uniq("cus") })), { timestamp: Math.floor(Date.now() / 1000) + 600 });
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toMatch(/in the future/);
    expect(await dumpAll(db)).toEqual({});
  });
});

describe("hostile ids at the other entry points", () => {
  const db = testDb();
  beforeEach(resetFirestore);

  it.each(["a/b", "__x__", "..", "u1/private/billing"])("an Auth user with uid %j gets no record and writes nothing", async (uid) => {
    expect(await ensureCustomerForUser(db, { uid, email: "x@example.com", displayName: null }, new Date())).toBe(false);
    expect(await dumpAll(db)).toEqual({});
  });

  it.each(["a/b", "__x__", ".."])("fulfillOrder refuses orderId %j as invalid-argument naming the field", async (orderId) => {
    const wrapped = fft.wrap(fulfillOrder);
    await expect(wrapped({ data: { orderId, status: "completed" }, auth: { uid: "seller_1", token: {} } } as never)).rejects.toMatchObject({
      code: "invalid-argument",
      message: expect.stringContaining("orderId"),
    });
    expect(await dumpAll(db)).toEqual({});
  });
});
