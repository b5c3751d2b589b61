/**
 * The local Stripe stand-in's data: every seeded object, keyed by its `object` type and id (Stripe ids are unique per
 * type, and a test may reuse one id across types), plus the resources the stand-in serves and Stripe's error shape.
 */

export type StripeObject = Record<string, unknown> & { id: string; object: string };

/** A Stripe API error as Stripe sends it: `{error: {type, code?, message, param?}}` with an HTTP status. */
export class StripeApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: { type: string; code?: string; message: string; param?: string },
    readonly headers: Record<string, string> = {},
  ) {
    super(error.message);
  }
}

export const invalidRequest = (message: string, param?: string, code?: string, status = 400): StripeApiFailure =>
  new StripeApiFailure(status, {
    type: "invalid_request_error",
    ...(code !== undefined ? { code } : {}),
    message,
    ...(param !== undefined ? { param } : {}),
  });

/** "No such customer: 'cus_x'": Stripe names the object type as it spells `object` (payment_intent, checkout.session). */
export const noSuch = (object: string, id: string, param: string, status: number): StripeApiFailure =>
  invalidRequest(`No such ${object}: '${id}'`, param, "resource_missing", status);

export interface Resource {
  /** The URL path after `/v1/`. */
  path: string;
  /** The `object` value of what it serves. */
  object: string;
  /** Top-level fields holding an id that `expand[]` may replace with the stored object, and that object's type. */
  expandable: Record<string, string>;
}

export const RESOURCES: readonly Resource[] = [
  { path: "customers", object: "customer", expandable: {} },
  { path: "subscriptions", object: "subscription", expandable: { customer: "customer", latest_invoice: "invoice" } },
  { path: "invoices", object: "invoice", expandable: { customer: "customer", subscription: "subscription", payment_intent: "payment_intent", charge: "charge" } },
  { path: "payment_intents", object: "payment_intent", expandable: { customer: "customer", latest_charge: "charge", invoice: "invoice" } },
  { path: "charges", object: "charge", expandable: { customer: "customer", payment_intent: "payment_intent", invoice: "invoice" } },
  { path: "refunds", object: "refund", expandable: { charge: "charge", payment_intent: "payment_intent" } },
  { path: "disputes", object: "dispute", expandable: { charge: "charge", payment_intent: "payment_intent" } },
  {
    path: "checkout/sessions",
    object: "checkout.session",
    expandable: { customer: "customer", subscription: "subscription", payment_intent: "payment_intent", invoice: "invoice" },
  },
  { path: "events", object: "event", expandable: {} },
];

export interface Rank {
  created: number;
  seq: number;
}

export interface Ranked extends Rank {
  value: StripeObject;
}

interface Entry {
  value: StripeObject;
  /** Insertion order, the tie-break between objects created in the same second. */
  seq: number;
}

export interface StripeStore {
  upsert(object: StripeObject): void;
  get(object: string, id: string): StripeObject | null;
  remove(object: string, id: string): boolean;
  /** Every stored object of one type, newest first: `created` descending, then the later-seeded first. */
  newestFirst(object: string): Ranked[];
  /** Position in `newestFirst` order, for cursors (`starting_after` / `ending_before`). */
  rank(object: string, id: string): Rank | null;
  counts(): Record<string, number>;
  clear(): number;
}

const key = (object: string, id: string) => `${object}\u0000${id}`;
const createdOf = (o: StripeObject) => (typeof o.created === "number" ? o.created : 0);

/** Newer first: a higher `created`, then a higher insertion sequence. */
export const newerFirst = (a: Rank, b: Rank): number =>
  b.created - a.created || b.seq - a.seq;

export function createStore(): StripeStore {
  const entries = new Map<string, Entry>();
  let seq = 0;
  return {
    upsert(object) {
      // A copy, so a caller mutating its fixture later does not change what the stand-in answers. An update keeps the
      // object's place in lists, as on Stripe, where lists are ordered by creation.
      const existing = entries.get(key(object.object, object.id));
      entries.set(key(object.object, object.id), { value: structuredClone(object), seq: existing?.seq ?? ++seq });
    },
    get(object, id) {
      return entries.get(key(object, id))?.value ?? null;
    },
    remove(object, id) {
      return entries.delete(key(object, id));
    },
    newestFirst(object) {
      return [...entries.values()]
        .filter((e) => e.value.object === object)
        .map((e) => ({ created: createdOf(e.value), seq: e.seq, value: e.value }))
        .sort(newerFirst);
    },
    rank(object, id) {
      const e = entries.get(key(object, id));
      return e ? { created: createdOf(e.value), seq: e.seq } : null;
    },
    counts() {
      const out: Record<string, number> = {};
      for (const e of entries.values()) out[e.value.object] = (out[e.value.object] ?? 0) + 1;
      return out;
    },
    clear() {
      const n = entries.size;
      entries.clear();
      return n;
    },
  };
}
