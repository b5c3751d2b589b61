/** Bad input is answered with the right status and a one-line reason, and writes nothing. */
import Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";
import { PREVIOUS_SECRET, TEST_SECRET, deliver } from "../support/deliver";
import { dumpAll, resetFirestore, testDb } from "../support/firestore";
import { customer, stripeEvent, uniq } from "../support/stripeFixtures";

describe("stripeWebhook input handling", () => {
  const db = testDb();
  beforeEach(resetFirestore);
  const event = () => stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("user") }));

  const cases: Array<[string, number, (e: object) => ReturnType<typeof deliver>, RegExp]> = [
    ["GET", 405, (e) => deliver(db, e, { method: "GET" }), /not allowed/],
    ["oversized body", 413, (e) => deliver(db, e, { maxBodyBytes: 1024, rawBody: Buffer.alloc(2048, 32) }), /larger than 1024/],
    ["missing signature", 400, (e) => deliver(db, e, { signature: null }), /missing Stripe-Signature/],
    ["wrong secret", 400, (e) => deliver(db, e, { secret: "whsec_somebody_else" }), /does not match/],
    ["garbled signature header", 400, (e) => deliver(db, e, { signature: "garbage" }), /malformed/],
    ["expired signature", 400, (e) => deliver(db, e, { timestamp: Math.floor(Date.now() / 1000) - 301 }), /outside the 300 s tolerance/],
    ["live-mode event on a test project", 400, (e) => deliver(db, { ...e, livemode: true }), /live-mode event .* refused/],
    ["test-mode event on a live project", 400, (e) => deliver(db, e, { acceptLivemode: true }), /test-mode event .* refused/],
  ];

  for (const [name, status, send, reason] of cases) {
    it(`${name} -> ${status}, nothing written`, async () => {
      const res = await send(event());
      expect(res.status).toBe(status);
      expect(String(res.body.error)).toMatch(reason);
      expect(String(res.body.error)).not.toContain("\n");
      expect(await dumpAll(db)).toEqual({});
    });
  }

  it("signed malformed JSON -> 400, nothing written", async () => {
    const raw = Buffer.from("{not json");
    const res = await deliver(db, {}, { rawBody: raw, signature: signedHeaderFor(raw) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/not valid JSON/);
    expect(await dumpAll(db)).toEqual({});
  });

  it("signed JSON that is not a Stripe event -> 400 naming the field, nothing written", async () => {
    const raw = Buffer.from(JSON.stringify({ hello: "world" }));
    const res = await deliver(db, {}, { rawBody: raw, signature: signedHeaderFor(raw) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/not a Stripe event: id/);
    expect(await dumpAll(db)).toEqual({});
  });

  it("accepts the previous secret during rotation", async () => {
    const res = await deliver(db, event(), { secret: PREVIOUS_SECRET });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("applied");
  });

  it("answers 200 and records `ignored` for event types opsync does not handle", async () => {
    const e = stripeEvent("product.created", { id: uniq("prod"), object: "product", name: "Widget" });
    const res = await deliver(db, e);
    expect(res).toMatchObject({ status: 200, body: { status: "ignored" } });
    const all = await dumpAll(db);
    expect(Object.keys(all)).toEqual([`stripeEvents/${e.id}`]);
  });
});

function signedHeaderFor(raw: Buffer): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: raw.toString("utf8"), secret: TEST_SECRET });
}
