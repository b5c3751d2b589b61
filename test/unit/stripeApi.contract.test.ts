/**
 * The Stripe read port (functions/src/sinks/stripeApi.ts) driving the real stripe SDK against the local stand-in
 * (test/vendors/stripeServer.ts) on a random port: retrieve of every kind, Stripe's pagination through the SDK's
 * auto-pagination, event filters, errors mapped to opsync's error classes, and the stand-in's `__seed` / `__control`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PermanentError, TransientError } from "../../functions/src/domain/errors";
import { STRIPE_OBJECT_KINDS, stripeReadClient, type StripeJson, type StripeObjectKind, type StripeReadPort } from "../../functions/src/sinks/stripeApi";
import { startStripeServer, type StripeServer } from "../vendors/stripeServer";

const KEY = "sk_test_contract";
const T0 = 1_780_000_000;

let server: StripeServer;
let stripe: StripeReadPort;

beforeAll(async () => {
  // No rate limit here: tests that are about the limit set one.
  server = await startStripeServer({ secretKey: KEY, readsPerSecond: null });
  stripe = stripeReadClient({ secretKey: KEY, host: server.host, port: server.port, protocol: "http", maxNetworkRetries: 0 });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  server.setRateLimit(null);
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${KEY}` }, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function post(path: string, body: unknown, method = "POST"): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

async function collect(items: AsyncIterable<StripeJson>): Promise<StripeJson[]> {
  const out: StripeJson[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const OBJECT_TYPE: Record<StripeObjectKind, string> = {
  customer: "customer",
  subscription: "subscription",
  invoice: "invoice",
  payment_intent: "payment_intent",
  charge: "charge",
  refund: "refund",
  dispute: "dispute",
  checkout_session: "checkout.session",
};

const PREFIX: Record<StripeObjectKind, string> = {
  customer: "cus",
  subscription: "sub",
  invoice: "in",
  payment_intent: "pi",
  charge: "ch",
  refund: "re",
  dispute: "dp",
  checkout_session: "cs_test",
};

const customer = (i: number, created = T0 + i) => ({ id: `cus_${String(i).padStart(4, "0")}`, object: "customer", created, metadata: { firebaseUid: `u${i}` } });
const event = (id: string, type: string, created: number) => ({ id, object: "event", type, created, livemode: false, pending_webhooks: 0, data: { object: { id: "cus_1", object: "customer" } } });

describe("retrieveObject / retrieveEvent", () => {
  it("returns each kind as Stripe sent it", async () => {
    const objects = STRIPE_OBJECT_KINDS.map((kind, i) => ({ id: `${PREFIX[kind]}_one`, object: OBJECT_TYPE[kind], created: T0 + i, livemode: false, metadata: { n: String(i) } }));
    server.seedObjects(objects);
    server.seedEvent(event("evt_one", "customer.updated", T0));
    for (const [i, kind] of STRIPE_OBJECT_KINDS.entries()) {
      expect(await stripe.retrieveObject(kind, `${PREFIX[kind]}_one`)).toEqual(objects[i]);
    }
    expect(await stripe.retrieveEvent("evt_one")).toMatchObject({ id: "evt_one", type: "customer.updated" });
    expect(server.requests.map((r) => r.path)).toEqual([
      "/v1/customers/cus_one",
      "/v1/subscriptions/sub_one",
      "/v1/invoices/in_one",
      "/v1/payment_intents/pi_one",
      "/v1/charges/ch_one",
      "/v1/refunds/re_one",
      "/v1/disputes/dp_one",
      "/v1/checkout/sessions/cs_test_one",
      "/v1/events/evt_one",
    ]);
  });

  it("an id Stripe does not have → null; the wire answer is Stripe's 404 resource_missing body", async () => {
    for (const kind of STRIPE_OBJECT_KINDS) expect(await stripe.retrieveObject(kind, `${PREFIX[kind]}_missing`)).toBeNull();
    expect(await stripe.retrieveEvent("evt_missing")).toBeNull();
    const raw = await get("/v1/customers/cus_x");
    expect(raw.status).toBe(404);
    expect(raw.body).toEqual({ error: { type: "invalid_request_error", code: "resource_missing", message: "No such customer: 'cus_x'", param: "id" } });
    expect((await get("/v1/checkout/sessions/cs_x")).body).toMatchObject({ error: { message: "No such checkout.session: 'cs_x'" } });
  });

  it("a deleted customer is returned as Stripe sends it, and lists leave it out", async () => {
    server.seedObjects([customer(1), { id: "cus_gone", object: "customer", deleted: true }]);
    expect(await stripe.retrieveObject("customer", "cus_gone")).toEqual({ id: "cus_gone", object: "customer", deleted: true });
    expect((await collect(stripe.listCustomers())).map((c) => c.id)).toEqual(["cus_0001"]);
  });

  it("expand[] replaces a top-level id by the stored object; a path that cannot be expanded → 400", async () => {
    server.seedObjects([customer(1), { id: "sub_1", object: "subscription", customer: "cus_0001", latest_invoice: "in_unknown", status: "active", created: T0 }]);
    const one = await get("/v1/subscriptions/sub_1?expand[]=customer&expand[]=latest_invoice");
    expect(one.body).toMatchObject({ customer: { id: "cus_0001", object: "customer" }, latest_invoice: "in_unknown" });
    const list = await get("/v1/subscriptions?expand[0]=data.customer");
    expect(list.body).toMatchObject({ data: [{ id: "sub_1", customer: { id: "cus_0001" } }] });
    const bad = await get("/v1/subscriptions?expand[]=data.plan_thing");
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: { type: "invalid_request_error", message: "This property cannot be expanded (data.plan_thing).", param: "expand" } });
    expect((await get("/v1/subscriptions/sub_1?expand[]=data.customer")).status).toBe(400);
  });
});

describe("lists and pagination", () => {
  it("250 customers: auto-pagination yields all 250 newest first, no duplicates, in 3 requests of 100", async () => {
    // Three customers per second: ties on `created` are broken by seeding order (the later-seeded first).
    const seeded = Array.from({ length: 250 }, (_, i) => customer(i, T0 + Math.floor(i / 3)));
    server.seedObjects(seeded);
    const ids = (await collect(stripe.listCustomers())).map((c) => c.id);
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    expect(ids).toEqual(seeded.map((c) => c.id).reverse());
    expect(server.requests.map((r) => r.path)).toEqual(["/v1/customers", "/v1/customers", "/v1/customers"]);
  });

  it("pages by hand like Stripe: default limit 10, has_more, starting_after / ending_before, url", async () => {
    server.seedObjects(Array.from({ length: 25 }, (_, i) => customer(i)));
    const first = await get("/v1/customers");
    expect(first.body).toMatchObject({ object: "list", has_more: true, url: "/v1/customers" });
    const firstIds = (first.body.data as StripeJson[]).map((c) => c.id);
    expect(firstIds).toEqual(Array.from({ length: 10 }, (_, i) => customer(24 - i).id));
    const next = await get(`/v1/customers?limit=20&starting_after=${String(firstIds.at(-1))}`);
    expect((next.body.data as StripeJson[]).map((c) => c.id)).toEqual(Array.from({ length: 15 }, (_, i) => customer(14 - i).id));
    expect(next.body.has_more).toBe(false);
    const before = await get(`/v1/customers?limit=3&ending_before=${customer(10).id}`);
    expect((before.body.data as StripeJson[]).map((c) => c.id)).toEqual([customer(13).id, customer(12).id, customer(11).id]);
    expect(before.body.has_more).toBe(true);
  });

  it("limit out of range → 400 naming limit, a PermanentError through the port; unknown cursor → 400 resource_missing", async () => {
    for (const limit of [0, 101]) {
      const error = await rejection(stripe.listEvents({ types: ["customer.created"], createdGte: 0, limit }));
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).httpStatus).toBe(400);
      expect((error as PermanentError).message).toContain(limit === 0 ? "greater than or equal to 1" : "less than or equal to 100");
    }
    const raw = await get("/v1/customers?limit=101");
    expect(raw.body).toEqual({ error: { type: "invalid_request_error", message: "This value must be less than or equal to 100.", param: "limit" } });
    const cursor = await get("/v1/customers?starting_after=cus_nope");
    expect(cursor.status).toBe(400);
    expect(cursor.body).toEqual({ error: { type: "invalid_request_error", code: "resource_missing", message: "No such customer: 'cus_nope'", param: "starting_after" } });
    expect((await get("/v1/customers?starting_after=a&ending_before=b")).status).toBe(400);
    expect((await get("/v1/customers?colour=red")).body).toMatchObject({ error: { message: "Received unknown parameter: colour", param: "colour" } });
  });

  it("events: types[] and created[gte] / created[lt] filter; pages run newest first through startingAfter", async () => {
    for (let i = 0; i < 30; i++) server.seedEvent(event(`evt_${String(i).padStart(2, "0")}`, i % 3 === 0 ? "invoice.paid" : i % 3 === 1 ? "customer.updated" : "charge.refunded", T0 + i));
    const wanted = ["invoice.paid", "customer.updated"];
    const seen: StripeJson[] = [];
    let page = await stripe.listEvents({ types: wanted, createdGte: T0 + 5, createdLt: T0 + 25, limit: 4 });
    seen.push(...page.data);
    while (page.hasMore) {
      page = await stripe.listEvents({ types: wanted, createdGte: T0 + 5, createdLt: T0 + 25, limit: 4, startingAfter: String(seen.at(-1)?.id) });
      seen.push(...page.data);
    }
    const expected = Array.from({ length: 20 }, (_, k) => 24 - k)
      .filter((i) => i % 3 !== 2)
      .map((i) => `evt_${String(i).padStart(2, "0")}`);
    expect(seen.map((e) => e.id)).toEqual(expected);
    const wildcard = await get("/v1/events?type=invoice.*&limit=100");
    expect((wildcard.body.data as StripeJson[]).every((e) => e.type === "invoice.paid")).toBe(true);
    expect((wildcard.body.data as StripeJson[]).length).toBe(10);
  });

  it("subscriptions: Stripe's default leaves canceled out, status=all keeps them; checkout sessions by customer", async () => {
    server.seedObjects([
      { id: "sub_a", object: "subscription", customer: "cus_a", status: "active", created: T0 + 1 },
      { id: "sub_c", object: "subscription", customer: "cus_a", status: "canceled", created: T0 + 2 },
      { id: "sub_b", object: "subscription", customer: "cus_b", status: "past_due", created: T0 + 3 },
      { id: "cs_test_a", object: "checkout.session", customer: "cus_a", status: "complete", created: T0 + 4 },
      { id: "cs_test_b", object: "checkout.session", customer: "cus_b", status: "complete", created: T0 + 5 },
    ]);
    expect(((await get("/v1/subscriptions")).body.data as StripeJson[]).map((s) => s.id)).toEqual(["sub_b", "sub_a"]);
    expect((await collect(stripe.listSubscriptions({ status: "all" }))).map((s) => s.id)).toEqual(["sub_b", "sub_c", "sub_a"]);
    expect((await collect(stripe.listSubscriptions({ customer: "cus_a", status: "all" }))).map((s) => s.id)).toEqual(["sub_c", "sub_a"]);
    expect((await collect(stripe.listSubscriptions({ status: "canceled" }))).map((s) => s.id)).toEqual(["sub_c"]);
    expect((await collect(stripe.listCheckoutSessions({ customer: "cus_a" }))).map((s) => s.id)).toEqual(["cs_test_a"]);
  });
});

describe("failures", () => {
  it("over the read rate limit → 429 with Stripe-Rate-Limited-Reason; the port throws TransientError", async () => {
    server.seedObjects([customer(1)]);
    server.setRateLimit(2);
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => stripe.retrieveObject("customer", "cus_0001")));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as unknown);
    expect(results.filter((r) => r.status === "fulfilled").length).toBeGreaterThanOrEqual(2);
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    for (const error of rejected) {
      expect(error).toBeInstanceOf(TransientError);
      expect((error as TransientError).httpStatus).toBe(429);
    }
    const raw = await get("/v1/customers/cus_0001");
    expect(raw.status).toBe(429);
    expect(raw.headers.get("stripe-rate-limited-reason")).toBe("global-rate");
    expect(raw.body).toMatchObject({ error: { type: "invalid_request_error", code: "rate_limit" } });
  });

  it("a list that fails on a later page surfaces opsync's error from the iterator", async () => {
    server.seedObjects(Array.from({ length: 150 }, (_, i) => customer(i)));
    const seen: StripeJson[] = [];
    const error = await rejection(
      (async () => {
        for await (const c of stripe.listCustomers()) {
          seen.push(c);
          if (seen.length === 100) server.failNext(1, 503);
        }
      })(),
    );
    expect(seen).toHaveLength(100);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).httpStatus).toBe(503);
  });

  it("a wrong key → 401 PermanentError", async () => {
    const wrong = stripeReadClient({ secretKey: "sk_test_wrong", host: server.host, port: server.port, protocol: "http", maxNetworkRetries: 0 });
    const error = await rejection(wrong.retrieveObject("customer", "cus_1"));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).httpStatus).toBe(401);
  });
});

describe("__seed over HTTP", () => {
  it("POST upserts by type + id (twice → no duplicates), answers counts; DELETE empties", async () => {
    const body = { objects: [customer(1), customer(2), { id: "sub_1", object: "subscription", customer: "cus_0001", status: "active", created: T0 }], events: [event("evt_1", "customer.created", T0)] };
    expect(await post("/__seed", body)).toEqual({ status: 200, body: { objects: 3, events: 1, stored: { customer: 2, subscription: 1, event: 1 } } });
    const changed = { objects: [{ ...customer(1), email: "new@example.com" }] };
    expect((await post("/__seed", body)).body.stored).toEqual({ customer: 2, subscription: 1, event: 1 });
    expect((await post("/__seed", changed)).body.stored).toEqual({ customer: 2, subscription: 1, event: 1 });
    expect((await collect(stripe.listCustomers())).map((c) => [c.id, c.email])).toEqual([
      ["cus_0002", undefined],
      ["cus_0001", "new@example.com"],
    ]);
    expect(await stripe.retrieveEvent("evt_1")).toMatchObject({ type: "customer.created" });

    expect(await post("/__seed", undefined, "DELETE")).toEqual({ status: 200, body: { deleted: 4 } });
    expect(await stripe.retrieveObject("customer", "cus_0001")).toBeNull();
    expect(await stripe.retrieveEvent("evt_1")).toBeNull();
  });

  it("a bad body → 400 naming the field; nothing is stored", async () => {
    const cases: Array<[unknown, string]> = [
      [{ customers: [] }, "customers"],
      [{ objects: [customer(1), { id: "cus_2" }] }, "objects.1.object"],
      [{ objects: [{ object: "customer" }] }, "objects.0.id"],
      [{ events: [{ id: "evt_1", object: "event", created: T0 }] }, "events.0.type"],
      [{ events: [{ id: "evt_1", object: "event", type: "x", created: "yesterday" }] }, "events.0.created"],
      [{ objects: [{ id: "evt_1", object: "event" }] }, "objects.0.object"],
    ];
    for (const [body, param] of cases) {
      const res = await post("/__seed", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: { type: "invalid_request_error", param } });
    }
    expect((await post("/__seed", "{not json")).status).toBe(400);
    expect(await stripe.retrieveObject("customer", "cus_0001")).toBeNull();
  });
});

describe("__control over HTTP", () => {
  it("failNext makes the next N API requests fail with the status; GET shows the state; reset clears it", async () => {
    server.seedObjects([customer(1)]);
    expect(await post("/__control", { failNext: 2, status: 503 })).toMatchObject({ status: 200, body: { failNext: [503, 503], mode: "up" } });
    for (let i = 0; i < 2; i++) {
      const error = await rejection(stripe.retrieveObject("customer", "cus_0001"));
      expect(error).toBeInstanceOf(TransientError);
      expect((error as TransientError).httpStatus).toBe(503);
    }
    expect(await stripe.retrieveObject("customer", "cus_0001")).toMatchObject({ id: "cus_0001" });

    await post("/__control", { failNext: 1, status: 429 });
    const limited = await rejection(stripe.retrieveObject("customer", "cus_0001"));
    expect(limited).toBeInstanceOf(TransientError);
    expect((limited as TransientError).httpStatus).toBe(429);

    await post("/__control", { failNext: 5, latencyMs: 10 });
    expect((await get("/__control")).body).toEqual({ mode: "up", failNext: [500, 500, 500, 500, 500], latencyMs: 10, rateLimitPerSecond: null });
    expect((await post("/__control", { reset: true })).body).toMatchObject({ failNext: [], latencyMs: 0 });
    expect(await stripe.retrieveObject("customer", "cus_0001")).toMatchObject({ id: "cus_0001" });
  });

  it("mode down resets API connections (TransientError) while __control still answers; up brings it back", async () => {
    server.seedObjects([customer(1)]);
    await post("/__control", { mode: "down" });
    const error = await rejection(stripe.retrieveObject("customer", "cus_0001"));
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).httpStatus).toBeNull();
    expect((await post("/__control", { mode: "up" })).body).toMatchObject({ mode: "up" });
    expect(await stripe.retrieveObject("customer", "cus_0001")).toMatchObject({ id: "cus_0001" });
  });

  it("a bad control body → 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ failNext: -1 }, "failNext"],
      [{ mode: "sideways" }, "mode"],
      [{ status: 503 }, "status"],
      [{ failnext: 1 }, "failnext"],
    ];
    for (const [body, param] of cases) {
      const res = await post("/__control", body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { param } });
    }
  });
});
