/**
 * The webhook's ack path without Firestore (record is a fake): what reaches the one write, for the shortcuts the ack
 * takes for speed — JSON parsed without a reviver unless the body has a surrogate escape, and the validated webhook
 * configuration reused while its raw values are unchanged.
 */
import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { webhookConfig } from "../../functions/src/config";
import { handleStripeWebhook, type WebhookDeps } from "../../functions/src/services/stripeWebhook";
import type { NormalizeResult } from "../../functions/src/domain/normalize";
import { customer, stripeEvent, uniq } from "../support/stripeFixtures";

const SECRET = "whsec_unit_ack_secret";

async function ack(body: string | Buffer) {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  // Signs the exact bytes (these tests need raw bodies, not JSON.stringify of an event).
  const header = Stripe.webhooks.generateTestHeaderString({ payload: raw.toString("utf8"), secret: SECRET });
  const recorded: NormalizeResult[] = [];
  const deps: WebhookDeps = {
    secrets: [SECRET],
    acceptLivemode: false,
    maxBodyBytes: 262_144,
    record: async (_envelope, normalized) => {
      recorded.push(normalized);
      return { status: "received", duplicate: false };
    },
  };
  const res = await handleStripeWebhook({ method: "POST", headers: { "stripe-signature": header }, rawBody: raw }, deps);
  return { res, recorded };
}

const customerName = (n: NormalizeResult | undefined) =>
  n?.outcome === "normalized" && n.event.subject.kind === "customer" ? n.event.subject.name : `not a customer: ${JSON.stringify(n)}`;

describe("webhook ack: JSON parsing", () => {
  it("a body without surrogate escapes is recorded as sent", async () => {
    const { res, recorded } = await ack(JSON.stringify(stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("u"), name: "Ada \u00e9 \ud83d\ude00" }))));
    expect(res.status).toBe(200);
    expect(customerName(recorded[0])).toBe("Ada \u00e9 \ud83d\ude00");
  });

  it.each([
    ["a lone high surrogate escape", "\\ud800"],
    ["a lone low surrogate escape (upper-case hex)", "\\uDFFF"],
    ["a reversed pair", "\\udc00\\ud800"],
  ])("%s becomes U+FFFD before the write", async (_name, escape) => {
    const json = JSON.stringify(stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("u"), name: "Ada X L" }))).replace("Ada X L", `Ada ${escape} L`);
    const { res, recorded } = await ack(json);
    expect(res.status).toBe(200);
    expect(customerName(recorded[0])).toBe(`Ada ${escape === "\\udc00\\ud800" ? "\ufffd\ufffd" : "\ufffd"} L`);
  });

  it("a valid pair written as escapes is kept", async () => {
    const json = JSON.stringify(stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("u"), name: "Ada X L" }))).replace("Ada X L", "Ada \\ud83d\\ude00 L");
    const { recorded } = await ack(json);
    expect(customerName(recorded[0])).toBe("Ada \ud83d\ude00 L");
  });

  it("a surrogate encoded as raw UTF-8 bytes (not valid UTF-8) decodes to U+FFFD", async () => {
    const json = JSON.stringify(stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("u"), name: "Ada X L" })));
    const [before, after] = json.split("X");
    const raw = Buffer.concat([Buffer.from(before ?? "", "utf8"), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(after ?? "", "utf8")]);
    const { res, recorded } = await ack(raw);
    expect(res.status).toBe(200);
    expect(customerName(recorded[0])).toMatch(/^Ada \ufffd+ L$/);
  });

  it("invalid JSON is still a 400 and records nothing", async () => {
    const { res, recorded } = await ack('{"id": "evt_1", ');
    expect(res).toEqual({ status: 400, body: { error: "body is not valid JSON" } });
    expect(recorded).toEqual([]);
  });
});

describe("webhookConfig reuse", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("answers the current values: a changed secret or mode is validated again, a bad one still throws", () => {
    process.env.STRIPE_WEBHOOK_SECRET = "whsec_first";
    process.env.STRIPE_MODE = "test";
    // Outside the functions runtime a param's default is not applied: set every value the webhook reads.
    process.env.ENTITLEMENT_GRACE_DAYS = "3";
    process.env.WEBHOOK_MAX_BODY_BYTES = "262144";
    const first = webhookConfig();
    expect(first.secrets).toEqual(["whsec_first"]);
    expect(webhookConfig()).toBe(first);

    process.env.STRIPE_WEBHOOK_SECRET = "whsec_first,whsec_second";
    expect(webhookConfig().secrets).toEqual(["whsec_first", "whsec_second"]);

    process.env.STRIPE_WEBHOOK_SECRET = "not_a_secret";
    expect(() => webhookConfig()).toThrow(/STRIPE_WEBHOOK_SECRET/);
    expect(() => webhookConfig()).toThrow(/STRIPE_WEBHOOK_SECRET/);

    process.env.STRIPE_WEBHOOK_SECRET = "whsec_first";
    process.env.STRIPE_MODE = "bogus";
    expect(() => webhookConfig()).toThrow(/STRIPE_MODE/);
  });
});
