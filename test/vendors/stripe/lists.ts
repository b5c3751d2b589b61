/**
 * Stripe's read semantics for the stand-in: query parsing (`a`, `a[]`, `a[0]`, `a[gte]`, as Stripe's form encoding
 * and the SDK's indexed arrays send them), list filters, cursor pagination and top-level `expand[]`.
 *
 * Pagination follows docs.stripe.com/api/pagination: newest first (`created` descending; objects created in the same
 * second: the later-seeded first, since real ids are random and carry no order), `limit` 1–100 (default 10),
 * `starting_after` / `ending_before` mutually exclusive, a cursor naming an object Stripe does not have answers 400
 * `resource_missing` with `param` set to the cursor's name. Deleted customers are retrievable but never listed.
 */
import { invalidRequest, newerFirst, noSuch, type Rank, type Resource, type StripeObject, type StripeStore } from "./store";

export type QueryValue = { kind: "scalar"; value: string } | { kind: "array"; value: string[] } | { kind: "hash"; value: Record<string, string> };

/** `?limit=3&types[0]=a&types[]=b&created[gte]=1` → limit: scalar, types: array, created: hash. */
export function parseQuery(search: URLSearchParams): Map<string, QueryValue> {
  const out = new Map<string, QueryValue>();
  for (const [rawKey, value] of search) {
    const m = /^([^[\]]+)(?:\[([^[\]]*)\])?$/.exec(rawKey);
    if (!m?.[1]) throw invalidRequest(`Invalid parameter name: ${rawKey}`, rawKey);
    const name = m[1];
    const sub = m[2];
    const prev = out.get(name);
    if (sub === undefined) {
      if (prev) throw invalidRequest(`Received the parameter ${name} more than once.`, name);
      out.set(name, { kind: "scalar", value });
    } else if (sub === "" || /^\d+$/.test(sub)) {
      if (prev && prev.kind !== "array") throw invalidRequest(`Invalid array: ${name}`, name);
      out.set(name, { kind: "array", value: [...(prev?.kind === "array" ? prev.value : []), value] });
    } else {
      if (prev && prev.kind !== "hash") throw invalidRequest(`Invalid hash: ${name}`, name);
      out.set(name, { kind: "hash", value: { ...(prev?.kind === "hash" ? prev.value : {}), [sub]: value } });
    }
  }
  return out;
}

function scalar(query: Map<string, QueryValue>, name: string): string | undefined {
  const v = query.get(name);
  if (v === undefined) return undefined;
  if (v.kind !== "scalar") throw invalidRequest(`Invalid string: ${name} must be a string`, name);
  return v.value;
}

function integer(value: string, param: string): number {
  if (!/^-?\d+$/.test(value)) throw invalidRequest(`Invalid integer: ${value}`, param);
  return Number(value);
}

/** The id behind a reference field, whether it holds an id or (seeded expanded) the object. */
function refId(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "id" in value && typeof value.id === "string") return value.id;
  return null;
}

type Filter = (param: QueryValue | undefined) => ((o: StripeObject) => boolean) | null;

const byRef =
  (name: string, field = name): Filter =>
  (param) => {
    if (param === undefined) return null;
    if (param.kind !== "scalar") throw invalidRequest(`Invalid string: ${name} must be a string`, name);
    return (o) => refId(o[field]) === param.value;
  };

const byEnum =
  (name: string, allowed: readonly string[]): Filter =>
  (param) => {
    if (param === undefined) return null;
    if (param.kind !== "scalar" || !allowed.includes(param.value)) {
      throw invalidRequest(`Invalid ${name}: must be one of ${allowed.join(", ")}`, name);
    }
    return (o) => o[name] === param.value;
  };

const SUBSCRIPTION_STATUSES = ["active", "past_due", "unpaid", "canceled", "incomplete", "incomplete_expired", "trialing", "paused"] as const;

/** Stripe: "If no value is supplied, all subscriptions that have not been canceled are returned"; `all`; `ended`. */
const subscriptionStatus: Filter = (param) => {
  if (param === undefined) return (o) => o.status !== "canceled";
  const allowed = [...SUBSCRIPTION_STATUSES, "all", "ended"];
  if (param.kind !== "scalar" || !allowed.includes(param.value)) {
    throw invalidRequest(`Invalid status: must be one of ${allowed.join(", ")}`, "status");
  }
  const v = param.value;
  if (v === "all") return null;
  if (v === "ended") return (o) => o.status === "canceled" || o.status === "incomplete_expired";
  return (o) => o.status === v;
};

const wildcard = (pattern: string) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);

/** `type` (one name, `*` wildcards allowed) and `types[]` (up to 20 names) are exclusive, as on Stripe. */
const eventTypes = (query: Map<string, QueryValue>): ((o: StripeObject) => boolean) | null => {
  const type = query.get("type");
  const types = query.get("types");
  if (type && types) throw invalidRequest("You may only specify one of these parameters: type, types.", "type");
  if (type) {
    if (type.kind !== "scalar") throw invalidRequest("Invalid string: type must be a string", "type");
    const re = wildcard(type.value);
    return (o) => typeof o.type === "string" && re.test(o.type);
  }
  if (types) {
    if (types.kind !== "array") throw invalidRequest("Invalid array: types", "types");
    if (types.value.length > 20) throw invalidRequest("types may contain at most 20 event types.", "types");
    const set = new Set(types.value);
    return (o) => typeof o.type === "string" && set.has(o.type);
  }
  return null;
};

const deliverySuccess: Filter = (param) => {
  if (param === undefined) return null;
  if (param.kind !== "scalar" || (param.value !== "true" && param.value !== "false")) {
    throw invalidRequest("Invalid boolean: delivery_success", "delivery_success");
  }
  // Stripe: false also lists events still pending delivery.
  const wanted = param.value === "true";
  return (o) => (o.pending_webhooks === 0 || o.pending_webhooks === undefined) === wanted;
};

/** `created=T` (exact) or `created[gt|gte|lt|lte]=T`, on every list. */
const created: Filter = (param) => {
  if (param === undefined) return null;
  if (param.kind === "scalar") {
    const t = integer(param.value, "created");
    return (o) => o.created === t;
  }
  if (param.kind !== "hash") throw invalidRequest("Invalid created: must be an integer or a hash", "created");
  const checks: Array<(c: number) => boolean> = [];
  for (const [op, raw] of Object.entries(param.value)) {
    const t = integer(raw, `created[${op}]`);
    if (op === "gt") checks.push((c) => c > t);
    else if (op === "gte") checks.push((c) => c >= t);
    else if (op === "lt") checks.push((c) => c < t);
    else if (op === "lte") checks.push((c) => c <= t);
    else throw invalidRequest(`Received unknown parameter: created[${op}]`, `created[${op}]`);
  }
  return (o) => typeof o.created === "number" && checks.every((check) => check(o.created as number));
};

/** The filters each list accepts beyond limit / cursors / expand / created. */
const FILTERS: Record<string, Record<string, Filter>> = {
  customer: { email: byRef("email") },
  subscription: { customer: byRef("customer"), status: subscriptionStatus },
  invoice: { customer: byRef("customer"), subscription: byRef("subscription"), status: byEnum("status", ["draft", "open", "paid", "uncollectible", "void"]) },
  payment_intent: { customer: byRef("customer") },
  charge: { customer: byRef("customer"), payment_intent: byRef("payment_intent") },
  refund: { charge: byRef("charge"), payment_intent: byRef("payment_intent") },
  dispute: { charge: byRef("charge"), payment_intent: byRef("payment_intent") },
  "checkout.session": {
    customer: byRef("customer"),
    payment_intent: byRef("payment_intent"),
    subscription: byRef("subscription"),
    status: byEnum("status", ["open", "complete", "expired"]),
  },
  event: { delivery_success: deliverySuccess },
};

const COMMON = new Set(["limit", "starting_after", "ending_before", "expand", "created"]);

function expandPaths(query: Map<string, QueryValue>): string[] {
  const v = query.get("expand");
  if (v === undefined) return [];
  if (v.kind !== "array") throw invalidRequest("Invalid array: expand must be an array", "expand");
  return v.value;
}

/** Replaces the named top-level reference fields by the stored objects; ids the store lacks stay ids. */
export function expandObject(store: StripeStore, resource: Resource, object: StripeObject, fields: readonly string[]): StripeObject {
  if (fields.length === 0) return object;
  const out: StripeObject = { ...object };
  for (const field of fields) {
    const target = resource.expandable[field];
    const id = typeof out[field] === "string" ? (out[field] as string) : null;
    if (target === undefined || id === null) continue;
    const found = store.get(target, id);
    if (found) out[field] = found;
  }
  return out;
}

/** Checks `expand[]` paths (Stripe answers 400 for a path that cannot be expanded) and returns the top-level fields. */
export function expandFields(resource: Resource, query: Map<string, QueryValue>, prefix: "" | "data."): string[] {
  return expandPaths(query).map((path) => {
    const field = path.startsWith(prefix) ? path.slice(prefix.length) : null;
    if (field === null || !(field in resource.expandable)) {
      throw invalidRequest(`This property cannot be expanded (${path}).`, "expand");
    }
    return field;
  });
}

export interface ListPage {
  object: "list";
  data: StripeObject[];
  has_more: boolean;
  url: string;
}

export function listPage(store: StripeStore, resource: Resource, query: Map<string, QueryValue>): ListPage {
  const filters = FILTERS[resource.object] ?? {};
  for (const name of query.keys()) {
    const known = COMMON.has(name) || name in filters || (resource.object === "event" && (name === "type" || name === "types"));
    if (!known) throw invalidRequest(`Received unknown parameter: ${name}`, name);
  }

  const rawLimit = scalar(query, "limit");
  const limit = rawLimit === undefined ? 10 : integer(rawLimit, "limit");
  if (limit < 1) throw invalidRequest("This value must be greater than or equal to 1.", "limit");
  if (limit > 100) throw invalidRequest("This value must be less than or equal to 100.", "limit");
  const startingAfter = scalar(query, "starting_after");
  const endingBefore = scalar(query, "ending_before");
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw invalidRequest("Received both starting_after and ending_before parameters. Please pass in only one.", "starting_after");
  }
  const fields = expandFields(resource, query, "data.");

  const predicates = [
    created(query.get("created")),
    ...Object.entries(filters).map(([name, filter]) => filter(query.get(name))),
    resource.object === "event" ? eventTypes(query) : null,
  ].filter((p): p is (o: StripeObject) => boolean => p !== null);
  const matching = store
    .newestFirst(resource.object)
    .filter((e) => e.value.deleted !== true && predicates.every((p) => p(e.value)));

  const cursorRank = (param: "starting_after" | "ending_before", id: string): Rank => {
    const rank = store.rank(resource.object, id);
    if (!rank) throw noSuch(resource.object, id, param, 400);
    return rank;
  };

  let page: typeof matching;
  let hasMore: boolean;
  if (endingBefore !== undefined) {
    // The `limit` objects just newer than the cursor, still listed newest first.
    const cursor = cursorRank("ending_before", endingBefore);
    const newer = matching.filter((e) => newerFirst(e, cursor) < 0);
    page = newer.slice(Math.max(0, newer.length - limit));
    hasMore = newer.length > limit;
  } else {
    const cursor = startingAfter !== undefined ? cursorRank("starting_after", startingAfter) : null;
    const older = cursor ? matching.filter((e) => newerFirst(e, cursor) > 0) : matching;
    page = older.slice(0, limit);
    hasMore = older.length > limit;
  }
  return {
    object: "list",
    data: page.map((e) => expandObject(store, resource, e.value, fields)),
    has_more: hasMore,
    url: `/v1/${resource.path}`,
  };
}
