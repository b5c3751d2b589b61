/**
 * fast-check arbitraries for hostile webhook traffic: realistic Stripe objects (from the typed fixtures) with ids,
 * metadata, envelopes, encodings and sizes bent the way an attacker, a Payment Link visitor or an odd Stripe
 * event would bend them. Everything is signed with the test secret unless the case is about signatures.
 */
import fc from "fast-check";
import { STRIPE_API_VERSION } from "../../functions/src/domain/stripeVersion";
import { charge, checkoutSession, customer, dispute, invoice, paymentIntent, price, refund, subscription } from "./stripeFixtures";

export const BASE_UIDS = ["u-ana", "u-bob", "auth0|carl", "dee@example.com"] as const;
const CUSTOMERS = ["cus_A", "cus_B"] as const;

/** Values that must never become a path, plus some that only look odd. */
export const hostileId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "a/b", "../admin", "/x", "x/", "a//b", ".", "..", "...", "__reserved__", "__proto__", "__name__", " ", "",
    "\u0000", "x".repeat(1600), "é".repeat(800), "\ud800", "a\udfffb", "constructor", "u-ana/private/billing",
    "cus_A/x/y", "orders/o1", "u\nx", "%2F", "\u202e", "😀",
  ),
  fc.tuple(fc.constantFrom(...BASE_UIDS), fc.constantFrom("/private/billing", "/x", "/", "//", "/..", "/a/b/c")).map(([b, s]) => b + s),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ unit: fc.constantFrom("a", "/", ".", "_", "\ud800", "é"), maxLength: 12 }),
);

const appId = fc.oneof({ weight: 3, arbitrary: fc.constantFrom<string>(...BASE_UIDS) }, { weight: 2, arbitrary: hostileId });
const stripeIdOf = (prefix: string) =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(`${prefix}_A`, `${prefix}_B`, `${prefix}_1x`) }, { weight: 1, arbitrary: hostileId });
const customerId = fc.oneof({ weight: 4, arbitrary: fc.constantFrom<string>(...CUSTOMERS) }, { weight: 1, arbitrary: hostileId });

/** A value of the wrong kind for any field. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.string({ maxLength: 20 }),
  fc.constant("x".repeat(70_000)),
  fc.constantFrom(1e21, -1, 253_402_300_800, Number.MAX_SAFE_INTEGER + 2),
);

const metadata = fc.dictionary(
  fc.constantFrom("firebaseUid", "firebase_uid", "uid", "orderId", "buyerUid", "sellerUid", "entitlements", "supportTier", "note"),
  fc.oneof({ weight: 5, arbitrary: appId }, { weight: 1, arbitrary: oddValue }),
  { maxKeys: 5 },
);

type Obj = Record<string, unknown>;

/** A realistic object of one handled family, ids drawn from small pools so events meet each other. */
const handledObject: fc.Arbitrary<{ type: string; object: Obj }> = fc.oneof(
  fc.record({ c: customerId, uid: fc.option(appId, { nil: undefined }) }).chain(({ c, uid }) =>
    fc.constantFrom("customer.created", "customer.updated", "customer.deleted").map((type) => ({ type, object: customer({ id: c, ...(uid === undefined ? {} : { uid }) }) as Obj })),
  ),
  fc.record({ id: stripeIdOf("sub"), c: customerId, uid: fc.option(appId, { nil: undefined }), status: fc.constantFrom("active", "past_due", "canceled", "trialing", "unpaid") }).chain((o) =>
    fc.constantFrom("customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted").map((type) => ({
      type,
      object: subscription({ id: o.id, customer: o.c, status: o.status as "active", price: price({ id: "price_pro", entitlements: "pro,api" }), ...(o.uid === undefined ? {} : { uid: o.uid }) }) as Obj,
    })),
  ),
  fc.record({ id: stripeIdOf("in"), c: customerId, sub: stripeIdOf("sub"), paid: fc.boolean(), uid: fc.option(appId, { nil: undefined }) }).map((o) => ({
    type: o.paid ? "invoice.paid" : "invoice.payment_failed",
    object: invoice({ id: o.id, customer: o.c, subscription: o.sub, status: o.paid ? "paid" : "open", ...(o.uid === undefined ? {} : { uid: o.uid }) }) as Obj,
  })),
  fc.record({ id: stripeIdOf("cs"), c: fc.option(customerId, { nil: null }), ref: fc.option(appId, { nil: null }), md: metadata, mode: fc.constantFrom("subscription", "payment") }).map((o) => ({
    type: "checkout.session.completed",
    object: checkoutSession({ id: o.id, mode: o.mode as "payment", customer: o.c, clientReferenceId: o.ref, metadata: o.md as Record<string, string>, subscription: o.mode === "subscription" ? "sub_A" : null, paymentIntent: "pi_A" }) as Obj,
  })),
  fc.record({ id: stripeIdOf("pi"), c: fc.option(customerId, { nil: null }), md: metadata, ok: fc.boolean() }).map((o) => ({
    type: o.ok ? "payment_intent.succeeded" : "payment_intent.payment_failed",
    object: paymentIntent({ id: o.id, customer: o.c, status: o.ok ? "succeeded" : "requires_payment_method", metadata: o.md as Record<string, string> }) as Obj,
  })),
  fc.record({ id: stripeIdOf("ch"), pi: stripeIdOf("pi"), md: metadata }).map((o) => ({
    type: "charge.refunded",
    object: charge({ id: o.id, paymentIntent: o.pi, amountRefunded: 1000, metadata: o.md as Record<string, string> }) as Obj,
  })),
  fc.record({ id: stripeIdOf("re"), ch: stripeIdOf("ch"), pi: stripeIdOf("pi"), md: metadata }).map((o) => ({
    type: "refund.created",
    object: refund({ id: o.id, charge: o.ch, paymentIntent: o.pi, amount: 1000, metadata: o.md as Record<string, string> }) as Obj,
  })),
  fc.record({ id: stripeIdOf("dp"), ch: stripeIdOf("ch"), pi: stripeIdOf("pi"), md: metadata }).map((o) => ({
    type: "charge.dispute.created",
    object: dispute({ id: o.id, charge: o.ch, paymentIntent: o.pi, status: "needs_response", metadata: o.md as Record<string, string> }) as Obj,
  })),
);

/** Objects of types opsync does not handle, some without an id (as Stripe sends them). */
const otherObject: fc.Arbitrary<{ type: string; object: Obj }> = fc.oneof(
  fc.constant({ type: "invoice.upcoming", object: { object: "invoice", customer: "cus_A", amount_due: 100, currency: "usd" } as Obj }),
  fc.constant({ type: "balance.available", object: { object: "balance", available: [{ amount: 1, currency: "usd" }] } as Obj }),
  fc.constant({ type: "entitlements.active_entitlement_summary.updated", object: { object: "entitlements.active_entitlement_summary", customer: "cus_A", entitlements: { data: [] } } as Obj }),
  fc.constant({ type: "customer.discount.created", object: { object: "discount", customer: "cus_A", coupon: { id: "SAVE" } } as Obj }),
  fc.record({ type: fc.string({ minLength: 1, maxLength: 60 }), id: hostileId }).map(({ type, id }) => ({ type, object: { id, object: "thing" } as Obj })),
);

const FIELD_PATHS = [
  "id", "customer", "client_reference_id", "metadata", "metadata.firebaseUid", "metadata.orderId", "metadata.buyerUid",
  "metadata.sellerUid", "subscription", "payment_intent", "charge", "email", "name", "status", "amount", "currency",
  "items", "items.data", "current_period_end", "parent.subscription_details.subscription", "customer_details.email",
] as const;

const mutation = fc.record({
  path: fc.constantFrom(...FIELD_PATHS),
  op: fc.constantFrom("set-hostile", "set-odd", "delete"),
  hostile: hostileId,
  odd: oddValue,
});

function mutate(object: Obj, m: { path: string; op: string; hostile: string; odd: unknown }): Obj {
  const copy = structuredClone(object);
  const keys = m.path.split(".");
  let at: Obj = copy;
  for (const key of keys.slice(0, -1)) {
    if (typeof at[key] !== "object" || at[key] === null || Array.isArray(at[key])) at[key] = {};
    at = at[key] as Obj;
  }
  const last = keys[keys.length - 1] as string;
  if (m.op === "delete") delete at[last];
  else at[last] = m.op === "set-hostile" ? m.hostile : m.odd;
  return copy;
}

const envelopeTweaks = fc.record({
  id: fc.oneof({ weight: 9, arbitrary: fc.uuid().map((u) => `evt_${u.replace(/-/g, "")}`) }, { weight: 1, arbitrary: hostileId }),
  created: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(0, -5, 1.5, 1e13, 253_402_300_800, "1700000000") }),
  livemode: fc.oneof({ weight: 19, arbitrary: fc.constant<unknown>(false) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(true, "false", null) }),
  apiVersion: fc.constantFrom<unknown>(STRIPE_API_VERSION, "2024-06-20", null, undefined, "x".repeat(150)),
  previous: fc.constantFrom<unknown>(undefined, null, {}, { status: "active" }, [], "x"),
  dropObjectId: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

/** A signed-able Stripe-like event: realistic most of the time, bent in one to three places. */
export const fuzzEvent: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    base: fc.oneof({ weight: 4, arbitrary: handledObject }, { weight: 1, arbitrary: otherObject }),
    mutations: fc.array(mutation, { maxLength: 3 }),
    env: envelopeTweaks,
  })
  .map(({ base, mutations, env }) => {
    let object = base.object;
    for (const m of mutations) object = mutate(object, m);
    if (env.dropObjectId) delete object.id;
    const data: Obj = { object };
    if (env.previous !== undefined) data.previous_attributes = env.previous;
    const event: Obj = { id: env.id, object: "event", type: base.type, created: env.created, livemode: env.livemode, data, pending_webhooks: 1, request: { id: null, idempotency_key: null } };
    if (env.apiVersion !== undefined) event.api_version = env.apiVersion;
    return event;
  });

/** How the bytes reach the endpoint. */
export type Transport =
  | { kind: "signed" }
  | { kind: "raw"; body: Buffer }
  | { kind: "bad-signature"; header: string | null }
  | { kind: "padded"; bytes: number };

export const transport: fc.Arbitrary<Transport> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Transport>({ kind: "signed" }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        Buffer.from("\ufeff{}"), Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from("["+"[".repeat(200_000)), Buffer.from("null"),
        Buffer.from("[]"), Buffer.from('"evt_1"'), Buffer.from("{\"id\":\"evt_1\",\"object\":\"event\"}"), Buffer.from("{not json"),
        Buffer.from('{"id":"evt_x","object":"event","type":"customer.created","created":1,"livemode":false,"data":{"object":[]}}'),
      )
      .map((body): Transport => ({ kind: "raw", body })),
  },
  { weight: 1, arbitrary: fc.constantFrom<string | null>(null, "", "t=1,v1=00", "garbage", "t=9999999999,v1=abc").map((header): Transport => ({ kind: "bad-signature", header })) },
  { weight: 1, arbitrary: fc.constantFrom(100_000, 300_000).map((bytes): Transport => ({ kind: "padded", bytes })) },
);

export const fuzzRequest = fc.record({ event: fuzzEvent, transport });
export type FuzzRequest = { event: Record<string, unknown>; transport: Transport };
