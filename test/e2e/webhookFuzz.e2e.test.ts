/**
 * A smaller fuzz run through the real Functions emulator (the in-process suite runs 500+): hostile signed and
 * unsigned requests over HTTP never get a 5xx, and the deployed function keeps serving real deliveries.
 */
import fc from "fast-check";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { readLocalWebhookSecret } from "../../scripts/lib/localSecret";
import { testDb } from "../support/firestore";
import { fuzzRequest } from "../support/fuzzArbitraries";
import { customer, signedDelivery, stripeEvent, uniq } from "../support/stripeFixtures";
import { until } from "../support/wait";

const URL = "http://127.0.0.1:5001/demo-opsync/us-central1/stripeWebhook";
const REQUESTS = Number(process.env.OPSYNC_E2E_FUZZ_REQUESTS ?? 60);

describe("stripeWebhook fuzz on the Functions emulator", () => {
  const db = testDb();

  it(`${REQUESTS} hostile requests over HTTP: no 5xx; then a real delivery is applied`, async () => {
    const secret = readLocalWebhookSecret();
    if (!secret) throw new Error("functions/.secret.local has no STRIPE_WEBHOOK_SECRET");
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async ({ event, transport }) => {
        let raw = Buffer.from(JSON.stringify(event));
        if (transport.kind === "raw") raw = Buffer.from(transport.body);
        if (transport.kind === "padded") raw = Buffer.from(JSON.stringify({ ...event, padding: "p".repeat(transport.bytes) }));
        const signature = transport.kind === "bad-signature" ? transport.header : Stripe.webhooks.generateTestHeaderString({ payload: raw.toString("utf8"), secret });
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (signature !== null) headers["stripe-signature"] = signature;
        const res = await fetch(URL, { method: "POST", headers, body: raw, signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        statuses.push(res.status);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: REQUESTS, endOnFailure: true },
    );
    expect(statuses.length).toBe(REQUESTS);

    const uid = uniq("user");
    const good = stripeEvent("customer.created", customer({ id: uniq("cus"), uid }));
    const { body, signature } = signedDelivery(good, secret);
    const res = await fetch(URL, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body, signal: AbortSignal.timeout(30_000) });
    expect(res.status).toBe(200);
    const record = await until(async () => (await db.doc(`customers/${uid}`).get()).exists, (exists) => exists);
    expect(record).toBe(true);
  });
});
