/**
 * A local stand-in for the parts of HubSpot's CRM v3/v4 API that opsync uses, so the real adapter (and the real
 * @hubspot/api-client) can be tested without the network. It answers with HubSpot's status codes, headers and
 * error bodies (`{status:"error", message, correlationId, category}`), enforces unique properties, the
 * duplicate-email 409, bearer auth and a sliding-window rate limit, and has switches to inject faults.
 *
 * Each request body is read first and then handled synchronously, so concurrent requests are applied one at a
 * time, like HubSpot's own uniqueness checks.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type ObjectType = "contacts" | "deals" | "tickets";
const OBJECT_TYPES: readonly ObjectType[] = ["contacts", "deals", "tickets"];

export interface HubspotObject {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface PropertyDef {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  hasUniqueValue: boolean;
  hubspotDefined: boolean;
}

export interface Association {
  fromType: ObjectType;
  fromId: string;
  toType: ObjectType;
  toId: string;
}

export interface LoggedRequest {
  method: string;
  /** Path without the query string; the token in the access-token path is redacted. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  correlationId: string;
}

export interface HubspotServerOptions {
  token?: string;
  scopes?: string[];
  /** Requests allowed per sliding window (HubSpot Professional private apps: 190 per 10 s). */
  rateLimit?: { max: number; windowMs: number };
  /** Register opsync's custom properties at start (default false: setup must create them). */
  withOpsyncProperties?: boolean;
  /** Fixed port (the local stack uses fixed ports); 0 or absent picks a free one. */
  port?: number;
}

export interface HubspotServer {
  url: string;
  token: string;
  close(): Promise<void>;
  readonly requests: LoggedRequest[];
  /** The next `n` requests (only those whose path contains `pathIncludes`, if given) answer `status`. */
  failNext(n: number, status: number, opts?: { retryAfterSeconds?: number; pathIncludes?: string }): void;
  setLatency(ms: number): void;
  setDown(down: boolean): void;
  setScopes(scopes: string[]): void;
  setRateLimit(max: number, windowMs: number): void;
  contacts(): HubspotObject[];
  deals(): HubspotObject[];
  tickets(): HubspotObject[];
  associations(): Association[];
  properties(type: ObjectType): PropertyDef[];
  /** Inserts an object directly (no HTTP, no checks), e.g. to seed a contact a salesperson made by hand. */
  seed(type: ObjectType, properties: Record<string, string>): HubspotObject;
  reset(): void;
}

export const ALL_SCOPES = [
  "oauth",
  "crm.objects.contacts.read",
  "crm.objects.contacts.write",
  "crm.objects.deals.read",
  "crm.objects.deals.write",
  "crm.schemas.contacts.read",
  "crm.schemas.contacts.write",
  "crm.schemas.deals.read",
  "crm.schemas.deals.write",
  "tickets",
];

const BUILT_IN: Record<ObjectType, string[]> = {
  contacts: ["email", "firstname", "lastname", "lifecyclestage"],
  deals: ["dealname", "amount", "dealstage", "pipeline", "deal_currency_code", "closedate"],
  tickets: ["subject", "content", "hs_ticket_priority", "hs_pipeline", "hs_pipeline_stage"],
};

const DEFAULT_GROUP: Record<ObjectType, string> = {
  contacts: "contactinformation",
  deals: "dealinformation",
  tickets: "ticketinformation",
};

/** Properties opsync's setup creates; used only when `withOpsyncProperties` is set. */
const OPSYNC_PROPERTIES: Record<ObjectType, Array<{ name: string; unique: boolean }>> = {
  contacts: [
    { name: "opsync_uid", unique: true },
    { name: "opsync_plan", unique: false },
    { name: "opsync_subscription_status", unique: false },
    { name: "opsync_mrr", unique: false },
    { name: "opsync_last_payment_at", unique: false },
    { name: "opsync_stripe_customer_id", unique: false },
  ],
  deals: [{ name: "opsync_deal_key", unique: true }],
  tickets: [
    { name: "opsync_request_id", unique: true },
    { name: "opsync_tags", unique: false },
  ],
};

/** Thrown inside a handler to answer with a HubSpot error body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface Ctx {
  method: string;
  segments: string[];
  query: URLSearchParams;
  body: unknown;
}

interface State {
  objects: Record<ObjectType, Map<string, HubspotObject>>;
  props: Record<ObjectType, Map<string, PropertyDef>>;
  associations: Map<string, Association>;
  nextId: number;
}

interface Faults {
  failures: Array<{ status: number; retryAfterSeconds: number | undefined; pathIncludes: string | undefined }>;
  latencyMs: number;
  down: boolean;
}

const CATEGORY_BY_STATUS: Record<number, string> = {
  400: "VALIDATION_ERROR",
  401: "INVALID_AUTHENTICATION",
  403: "MISSING_SCOPES",
  404: "OBJECT_NOT_FOUND",
  408: "TIMEOUT",
  409: "CONFLICT",
  429: "RATE_LIMITS",
};

function propertyDef(type: ObjectType, name: string, unique: boolean, hubspotDefined: boolean): PropertyDef {
  return { name, label: name, type: "string", fieldType: "text", groupName: DEFAULT_GROUP[type], hasUniqueValue: unique, hubspotDefined };
}

function initialState(withOpsync: boolean): State {
  const props = {} as Record<ObjectType, Map<string, PropertyDef>>;
  const objects = {} as Record<ObjectType, Map<string, HubspotObject>>;
  for (const type of OBJECT_TYPES) {
    const defs = BUILT_IN[type].map((name) => propertyDef(type, name, false, true));
    if (withOpsync) defs.push(...OPSYNC_PROPERTIES[type].map((p) => propertyDef(type, p.name, p.unique, false)));
    props[type] = new Map(defs.map((d) => [d.name, d]));
    objects[type] = new Map();
  }
  return { objects, props, associations: new Map(), nextId: 1001 };
}

function objectType(segment: string | undefined): ObjectType {
  const found = OBJECT_TYPES.find((t) => t === segment);
  if (!found) throw new HttpError(400, "VALIDATION_ERROR", `Unable to infer object type from: ${segment ?? ""}`);
  return found;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** HubSpot stores every property value as a string; null clears it. */
function stringProps(value: unknown): Record<string, string | null> {
  if (!isRecord(value)) throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: properties must be an object");
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(value)) out[k] = v === null ? null : String(v);
  return out;
}

function normalizeValue(name: string, value: string): string {
  return name === "email" ? value.trim().toLowerCase() : value;
}

export async function startHubspotServer(opts: HubspotServerOptions = {}): Promise<HubspotServer> {
  const token = opts.token ?? `pat-na1-${randomUUID()}`;
  const withOpsync = opts.withOpsyncProperties ?? false;
  let scopes = [...(opts.scopes ?? ALL_SCOPES)];
  let limit = { ...(opts.rateLimit ?? { max: 190, windowMs: 10_000 }) };
  let state = initialState(withOpsync);
  let faults: Faults = { failures: [], latencyMs: 0, down: false };
  let window: number[] = [];
  const requests: LoggedRequest[] = [];

  const now = () => new Date().toISOString();

  // ---- storage helpers -------------------------------------------------------------------------------------

  function findBy(type: ObjectType, name: string, value: string): HubspotObject | undefined {
    const wanted = normalizeValue(name, value);
    if (name === "hs_object_id") return state.objects[type].get(value);
    for (const obj of state.objects[type].values()) if (obj.properties[name] === wanted) return obj;
    return undefined;
  }

  function invalidProperty(message: string, name: string, error: string): HttpError {
    const detail = JSON.stringify([{ isValid: false, message, error, name }]);
    return new HttpError(400, "VALIDATION_ERROR", `Property values were not valid: ${detail}`);
  }

  /** Rejects unknown properties, unique-value clashes and (contacts) an email that another contact has. */
  function validateWrite(type: ObjectType, props: Record<string, string | null>, selfId: string | null): void {
    for (const [name, value] of Object.entries(props)) {
      const def = state.props[type].get(name);
      if (!def) throw invalidProperty(`Property "${name}" does not exist`, name, "PROPERTY_DOESNT_EXIST");
      if (!def.hasUniqueValue || value === null || value === "") continue;
      const other = findBy(type, name, value);
      if (other && other.id !== selfId) {
        throw invalidProperty(`${value} already has that value on object ${other.id}`, name, "INVALID_OPTION");
      }
    }
    const email = props.email;
    if (type === "contacts" && email) {
      const other = findBy("contacts", "email", email);
      if (other && other.id !== selfId) throw new HttpError(409, "CONFLICT", `Contact already exists. Existing ID: ${other.id}`);
    }
  }

  function applyProps(obj: HubspotObject, props: Record<string, string | null>): void {
    for (const [name, value] of Object.entries(props)) {
      if (value === null || value === "") delete obj.properties[name];
      else obj.properties[name] = normalizeValue(name, value);
    }
    obj.properties.hs_lastmodifieddate = obj.updatedAt = now();
  }

  function insert(type: ObjectType, props: Record<string, string | null>): HubspotObject {
    const id = String(state.nextId++);
    const at = now();
    const obj: HubspotObject = { id, properties: { hs_object_id: id, createdate: at }, createdAt: at, updatedAt: at };
    applyProps(obj, props);
    state.objects[type].set(id, obj);
    return obj;
  }

  function publicObject(obj: HubspotObject, only?: string[]) {
    const properties: Record<string, string | null> = {};
    const names = only ?? Object.keys(obj.properties);
    for (const n of names) properties[n] = obj.properties[n] ?? null;
    return { id: obj.id, properties, createdAt: obj.createdAt, updatedAt: obj.updatedAt, archived: false };
  }

  function requestedProps(query: URLSearchParams): string[] | undefined {
    const raw = query.getAll("properties").flatMap((v) => v.split(","));
    const names = raw.map((s) => s.trim()).filter((s) => s.length > 0);
    return names.length > 0 ? ["hs_object_id", "createdate", "hs_lastmodifieddate", ...names] : undefined;
  }

  // ---- routes ----------------------------------------------------------------------------------------------

  function batchUpsert(type: ObjectType, body: unknown): Reply {
    const inputs = isRecord(body) ? body.inputs : undefined;
    if (!Array.isArray(inputs) || inputs.length === 0) throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: inputs required");
    if (inputs.length > 100) throw new HttpError(400, "VALIDATION_ERROR", "Batch input limit is 100");
    const startedAt = now();
    // Validate every input before writing any, so a 4xx leaves the portal unchanged.
    const plan = inputs.map((input: unknown) => planUpsert(type, input));
    const ids = plan.map((p) => `${p.idProperty}=${p.idValue}`);
    if (new Set(ids).size !== ids.length) throw new HttpError(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input");
    const results = plan.map((p) => {
      const isNew = !p.existing;
      const obj = p.existing ?? insert(type, p.props);
      if (p.existing) applyProps(obj, p.props);
      return { ...publicObject(obj), new: isNew };
    });
    return { status: 200, body: { status: "COMPLETE", results, startedAt, completedAt: now() } };
  }

  function planUpsert(type: ObjectType, input: unknown) {
    if (!isRecord(input) || typeof input.id !== "string" || input.id === "") {
      throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: each input needs an id");
    }
    const idProperty = typeof input.idProperty === "string" ? input.idProperty : "hs_object_id";
    const def = state.props[type].get(idProperty);
    const usable = idProperty === "hs_object_id" || (type === "contacts" && idProperty === "email") || def?.hasUniqueValue === true;
    if (!usable) {
      throw new HttpError(400, "VALIDATION_ERROR", `Property ${idProperty} is not a unique identifier property`, { subCategory: "INVALID_ID_PROPERTY" });
    }
    const existing = findBy(type, idProperty, input.id);
    const props = { ...stringProps(input.properties ?? {}), [idProperty]: input.id };
    if (idProperty === "hs_object_id") delete props.hs_object_id;
    validateWrite(type, props, existing?.id ?? null);
    return { idProperty, idValue: normalizeValue(idProperty, input.id), existing, props };
  }

  function createObject(type: ObjectType, body: unknown): Reply {
    const props = stringProps(isRecord(body) ? (body.properties ?? {}) : undefined);
    validateWrite(type, props, null);
    return { status: 201, body: publicObject(insert(type, props)) };
  }

  function lookup(type: ObjectType, id: string, query: URLSearchParams): HubspotObject {
    const obj = findBy(type, query.get("idProperty") ?? "hs_object_id", id);
    if (!obj) throw new HttpError(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.");
    return obj;
  }

  function patchObject(type: ObjectType, id: string, ctx: Ctx): Reply {
    const obj = lookup(type, id, ctx.query);
    const props = stringProps(isRecord(ctx.body) ? (ctx.body.properties ?? {}) : undefined);
    validateWrite(type, props, obj.id);
    applyProps(obj, props);
    return { status: 200, body: publicObject(obj) };
  }

  function search(type: ObjectType, body: unknown): Reply {
    const groups = isRecord(body) && Array.isArray(body.filterGroups) ? body.filterGroups : [];
    const matches = (obj: HubspotObject, group: unknown) => {
      const filters = isRecord(group) && Array.isArray(group.filters) ? group.filters : [];
      return filters.every((f: unknown) => {
        if (!isRecord(f) || typeof f.propertyName !== "string") return false;
        const actual = obj.properties[f.propertyName];
        if (f.operator === "HAS_PROPERTY") return actual !== undefined;
        if (f.operator !== "EQ") throw new HttpError(400, "VALIDATION_ERROR", `operator ${String(f.operator)} not supported here`);
        return actual === normalizeValue(f.propertyName, String(f.value));
      });
    };
    const all = [...state.objects[type].values()];
    const found = groups.length === 0 ? all : all.filter((o) => groups.some((g: unknown) => matches(o, g)));
    const limitN = isRecord(body) && typeof body.limit === "number" ? body.limit : 10;
    const only = isRecord(body) && Array.isArray(body.properties) ? body.properties.map(String) : undefined;
    const results = found.slice(0, limitN).map((o) => publicObject(o, only ? ["hs_object_id", ...only] : undefined));
    return { status: 200, body: { total: found.length, results } };
  }

  function associate(segments: string[]): Reply {
    // /crm/v4/objects/{fromType}/{fromId}/associations/default/{toType}/{toId}
    const fromType = objectType(segments[3]);
    const toType = objectType(segments[7]);
    const fromId = segments[4] ?? "";
    const toId = segments[8] ?? "";
    for (const [t, id] of [[fromType, fromId], [toType, toId]] as const) {
      if (!state.objects[t].has(id)) throw new HttpError(404, "OBJECT_NOT_FOUND", `No ${t} with ID ${id} exists`);
    }
    // One record per unordered pair: HubSpot associations are bidirectional, so repeating either way is a no-op.
    const key = [`${fromType}:${fromId}`, `${toType}:${toId}`].sort().join("|");
    if (!state.associations.has(key)) state.associations.set(key, { fromType, fromId, toType, toId });
    const spec = { associationCategory: "HUBSPOT_DEFINED", associationTypeId: fromType === "deals" ? 3 : 16 };
    const at = now();
    return {
      status: 200,
      body: { status: "COMPLETE", results: [{ from: { id: fromId }, to: { id: toId }, associationSpec: spec }], startedAt: at, completedAt: at },
    };
  }

  function createProperty(type: ObjectType, body: unknown): Reply {
    if (!isRecord(body) || typeof body.name !== "string" || typeof body.label !== "string" || typeof body.groupName !== "string") {
      throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: name, label, type, fieldType and groupName are required");
    }
    if (state.props[type].has(body.name)) {
      throw new HttpError(409, "OBJECT_ALREADY_EXISTS", `Property already exists: ${body.name}`);
    }
    const def: PropertyDef = {
      name: body.name,
      label: body.label,
      type: String(body.type ?? "string"),
      fieldType: String(body.fieldType ?? "text"),
      groupName: body.groupName,
      hasUniqueValue: body.hasUniqueValue === true,
      hubspotDefined: false,
    };
    state.props[type].set(def.name, def);
    return { status: 201, body: publicProperty(def) };
  }

  function publicProperty(def: PropertyDef) {
    return { ...def, description: "", options: [], formField: false, hidden: false, calculated: false, externalOptions: false };
  }

  function getProperty(type: ObjectType, name: string): Reply {
    const def = state.props[type].get(name);
    if (!def) throw new HttpError(404, "OBJECT_NOT_FOUND", `Unable to find property ${name}`);
    return { status: 200, body: publicProperty(def) };
  }

  function tokenInfo(candidate: string): Reply {
    if (candidate !== token) throw new HttpError(404, "OBJECT_NOT_FOUND", "Token not found");
    return {
      status: 200,
      body: { token: "<redacted>", user: "dev@example.com", hubDomain: "opsync-test.com", scopes, hubId: 1234567, appId: 42, expiresIn: 1800, userId: 77, tokenType: "access" },
    };
  }

  function route(ctx: Ctx): Reply {
    const { method, segments: s } = ctx;
    const path = s.join("/");
    if (method === "GET" && /^oauth\/v1\/access-tokens\/[^/]+$/.test(path)) return tokenInfo(s[3] ?? "");
    if (/^crm\/v3\/objects\/[^/]+\/batch\/upsert$/.test(path) && method === "POST") return batchUpsert(objectType(s[3]), ctx.body);
    if (/^crm\/v3\/objects\/[^/]+\/search$/.test(path) && method === "POST") return search(objectType(s[3]), ctx.body);
    if (/^crm\/v3\/objects\/[^/]+$/.test(path) && method === "POST") return createObject(objectType(s[3]), ctx.body);
    if (/^crm\/v3\/objects\/[^/]+\/[^/]+$/.test(path)) {
      const type = objectType(s[3]);
      const id = s[4] ?? "";
      if (method === "GET") return { status: 200, body: publicObject(lookup(type, id, ctx.query), requestedProps(ctx.query)) };
      if (method === "PATCH") return patchObject(type, id, ctx);
    }
    if (/^crm\/v4\/objects\/[^/]+\/[^/]+\/associations\/default\/[^/]+\/[^/]+$/.test(path) && method === "PUT") return associate(s);
    if (/^crm\/v3\/properties\/[^/]+$/.test(path) && method === "POST") return createProperty(objectType(s[3]), ctx.body);
    if (/^crm\/v3\/properties\/[^/]+\/[^/]+$/.test(path) && method === "GET") return getProperty(objectType(s[3]), s[4] ?? "");
    throw new HttpError(404, "OBJECT_NOT_FOUND", `No route for ${method} /${path}`);
  }

  // ---- cross-cutting: auth, faults, rate limit ---------------------------------------------------------------

  function rateHeaders(remaining: number): Record<string, string> {
    return {
      "x-hubspot-ratelimit-max": String(limit.max),
      "x-hubspot-ratelimit-remaining": String(Math.max(0, remaining)),
      "x-hubspot-ratelimit-interval-milliseconds": String(limit.windowMs),
    };
  }

  /** Sliding window over accepted requests; a rejected request does not use up budget. */
  function takeRateBudget(): Record<string, string> {
    const t = Date.now();
    window = window.filter((at) => at > t - limit.windowMs);
    const oldest = window[0];
    if (window.length >= limit.max && oldest !== undefined) {
      const retryAfter = Math.max(1, Math.ceil((oldest + limit.windowMs - t) / 1000));
      throw new HttpError(
        429,
        "RATE_LIMITS",
        "You have reached your ten_secondly_rolling limit.",
        { errorType: "RATE_LIMIT", policyName: "TEN_SECONDLY_ROLLING" },
        { "retry-after": String(retryAfter), ...rateHeaders(0) },
      );
    }
    window.push(t);
    return rateHeaders(limit.max - window.length);
  }

  function checkAuth(req: IncomingMessage, segments: string[]): void {
    // The access-token endpoint is authenticated by the token in its path; the SDK sends no Authorization header.
    if (segments[0] === "oauth") return;
    const header = req.headers.authorization;
    if (!header) throw new HttpError(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.");
    if (header !== `Bearer ${token}`) {
      throw new HttpError(401, "INVALID_AUTHENTICATION", "Authentication credentials are invalid or expired.");
    }
  }

  function injectedFailure(path: string): HttpError | null {
    const index = faults.failures.findIndex((f) => f.pathIncludes === undefined || path.includes(f.pathIncludes));
    const next = faults.failures[index];
    if (!next) return null;
    faults.failures.splice(index, 1);
    const category = CATEGORY_BY_STATUS[next.status] ?? (next.status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR");
    const headers: Record<string, string> = next.retryAfterSeconds === undefined ? {} : { "retry-after": String(next.retryAfterSeconds) };
    const extra = next.status === 429 ? { errorType: "RATE_LIMIT", policyName: "TEN_SECONDLY_ROLLING" } : {};
    return new HttpError(next.status, category, `Injected failure (${next.status})`, extra, headers);
  }

  function handle(req: IncomingMessage, segments: string[], ctx: Ctx): Reply {
    if (faults.down) throw new HttpError(503, "SERVICE_UNAVAILABLE", "Service Unavailable");
    checkAuth(req, segments);
    const injected = injectedFailure(`/${segments.join("/")}`);
    if (injected) throw injected;
    const budget = takeRateBudget();
    const reply = route(ctx);
    return { ...reply, headers: { ...budget, ...reply.headers } };
  }

  function errorReply(err: unknown, correlationId: string): Reply {
    if (err instanceof HttpError) {
      const body = { status: "error", message: err.message, correlationId, category: err.category, ...err.extra };
      return { status: err.status, body, headers: err.headers };
    }
    const message = err instanceof SyntaxError ? "Invalid input JSON" : "internal error";
    const status = err instanceof SyntaxError ? 400 : 500;
    return { status, body: { status: "error", message, correlationId, category: status === 400 ? "VALIDATION_ERROR" : "INTERNAL_ERROR" } };
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  function send(res: ServerResponse, reply: Reply, correlationId: string): void {
    const text = reply.status === 204 ? "" : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      "content-type": "application/json;charset=utf-8",
      "x-hubspot-correlation-id": correlationId,
      ...reply.headers,
    });
    res.end(text);
  }

  const server = createServer((req, res) => {
    void (async () => {
      const correlationId = randomUUID();
      const url = new URL(req.url ?? "/", "http://localhost");
      const segments = url.pathname.split("/").filter((p) => p.length > 0).map(decodeURIComponent);
      const raw = await readBody(req);
      if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
      let body: unknown = null;
      let reply: Reply;
      try {
        body = raw.length > 0 ? JSON.parse(raw) : null;
        reply = handle(req, segments, { method: req.method ?? "GET", segments, query: url.searchParams, body });
      } catch (err) {
        reply = errorReply(err, correlationId);
      }
      const loggedPath = segments[0] === "oauth" ? url.pathname.replace(/[^/]+$/, "<redacted>") : url.pathname;
      requests.push({ method: req.method ?? "GET", path: loggedPath, query: Object.fromEntries(url.searchParams), body, status: reply.status, correlationId });
      if (!res.destroyed) send(res, reply, correlationId);
    })();
  });

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const list = (type: ObjectType) => [...state.objects[type].values()].map((o) => structuredClone(o));

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Clients keep connections alive; drop them so close() does not wait for their idle timeout.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
    failNext(n, status, o = {}) {
      for (let i = 0; i < n; i++) faults.failures.push({ status, retryAfterSeconds: o.retryAfterSeconds, pathIncludes: o.pathIncludes });
    },
    setLatency(ms) {
      faults.latencyMs = ms;
    },
    setDown(down) {
      faults.down = down;
    },
    setScopes(next) {
      scopes = [...next];
    },
    setRateLimit(max, windowMs) {
      limit = { max, windowMs };
      window = [];
    },
    contacts: () => list("contacts"),
    deals: () => list("deals"),
    tickets: () => list("tickets"),
    associations: () => [...state.associations.values()].map((a) => ({ ...a })),
    properties: (type) => [...state.props[type].values()].map((d) => ({ ...d })),
    seed: (type, properties) => structuredClone(insert(type, properties)),
    reset() {
      state = initialState(withOpsync);
      faults = { failures: [], latencyMs: 0, down: false };
      scopes = [...(opts.scopes ?? ALL_SCOPES)];
      limit = { ...(opts.rateLimit ?? { max: 190, windowMs: 10_000 }) };
      window = [];
      requests.length = 0;
    },
  };
}
