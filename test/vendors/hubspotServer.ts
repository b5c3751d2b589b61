/**
 * A local stand-in for the parts of HubSpot's CRM v3/v4 API that opsync uses, so the real adapter (and the real
 * @hubspot/api-client) can be tested without the network. It answers with HubSpot's status codes, headers and
 * error bodies (`{status:"error", message, correlationId, category}`) and is strict where HubSpot is: see
 * hubspot/objects.ts (objects, unique properties, dealstage per pipeline, forward-only lifecyclestage, 207),
 * hubspot/pipelines.ts (deal stages), hubspot/limits.ts (one rate budget per portal). Requests are not serialized.
 *
 * Failure switches (control.ts) are reachable in-process and over HTTP at `/__control` (docs/local-vendors.md).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { CONTROL_PATH, Switches, controlReply } from "./control";
import { HttpError, isRecord, objectType, type ObjectType, type Reply } from "./hubspot/http";
import { PROFESSIONAL, PortalBudget, type RateLimit } from "./hubspot/limits";
import { ObjectStore, type Association, type HubspotObject, type PropertyDef } from "./hubspot/objects";
import { Pipelines, type Stage } from "./hubspot/pipelines";
import { closeServer, listenLocal, trackConnections } from "./lifecycle";

export type { Association, HubspotObject, ObjectType, PropertyDef, Stage };

/** `GET /__requests`: how many API requests the stand-in answered (total, of them search, of them 429). */
export const REQUESTS_PATH = "/__requests";

export interface LoggedRequest {
  method: string;
  /** Path without the query string; a token in the path is redacted. */
  path: string;
  query: Record<string, string>;
  /** Parsed body; a `tokenKey` in it is redacted. */
  body: unknown;
  status: number;
  correlationId: string;
}

export interface HubspotServerOptions {
  token?: string;
  scopes?: string[];
  /** Requests allowed per sliding window for the whole portal (Professional private apps: 190 per 10 s). */
  rateLimit?: RateLimit;
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
  readonly switches: Switches;
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
  dealStages(pipelineId?: string): Stage[];
  /** Changes or removes (null) properties of an object directly (no HTTP, no checks): someone editing it in HubSpot. */
  edit(type: ObjectType, id: string, properties: Record<string, string | null>): void;
  /** Deletes an object directly, as someone archiving it in HubSpot. */
  remove(type: ObjectType, id: string): void;
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

const CATEGORY_BY_STATUS: Record<number, string> = {
  400: "VALIDATION_ERROR",
  401: "INVALID_AUTHENTICATION",
  403: "MISSING_SCOPES",
  404: "OBJECT_NOT_FOUND",
  408: "TIMEOUT",
  409: "CONFLICT",
  429: "RATE_LIMITS",
};

interface Ctx {
  method: string;
  segments: string[];
  query: URLSearchParams;
  body: unknown;
}

export async function startHubspotServer(opts: HubspotServerOptions = {}): Promise<HubspotServer> {
  const token = opts.token ?? `pat-na1-${randomUUID()}`;
  let scopes = [...(opts.scopes ?? ALL_SCOPES)];
  const pipelines = new Pipelines();
  const store = new ObjectStore(pipelines, opts.withOpsyncProperties ?? false);
  const budget = new PortalBudget(opts.rateLimit ?? PROFESSIONAL);
  const switches = new Switches();
  const requests: LoggedRequest[] = [];

  function tokenInfo(candidate: unknown, version: "v1" | "v2"): Reply {
    if (candidate !== token) throw new HttpError(404, "OBJECT_NOT_FOUND", "Token not found");
    if (version === "v2") return { status: 200, body: { userId: 77, hubId: 1234567, appId: 42, scopes } };
    // The OAuth (v1) endpoint: HubSpot answers it for OAuth access tokens; kept so an old client gets an answer.
    return { status: 200, body: { token: "<redacted>", user: "dev@example.com", hub_domain: "opsync-test.com", scopes, hub_id: 1234567, app_id: 42, expires_in: 1800, user_id: 77, token_type: "access" } };
  }

  async function route(ctx: Ctx): Promise<Reply> {
    const { method, segments: s } = ctx;
    const path = s.join("/");
    if (method === "POST" && path === "oauth/v2/private-apps/get/access-token-info") return tokenInfo(isRecord(ctx.body) ? ctx.body.tokenKey : null, "v2");
    if (method === "GET" && /^oauth\/v1\/access-tokens\/[^/]+$/.test(path)) return tokenInfo(s[3], "v1");
    if (/^crm\/v3\/objects\/[^/]+\/batch\/upsert$/.test(path) && method === "POST") return store.batchUpsert(objectType(s[3]), ctx.body);
    if (/^crm\/v3\/objects\/[^/]+\/batch\/read$/.test(path) && method === "POST") return store.batchRead(objectType(s[3]), ctx.body);
    if (/^crm\/v3\/objects\/[^/]+\/search$/.test(path) && method === "POST") return store.search(objectType(s[3]), ctx.body);
    if (/^crm\/v3\/objects\/[^/]+$/.test(path) && method === "POST") return store.createObject(objectType(s[3]), ctx.body);
    if (/^crm\/v3\/objects\/[^/]+\/[^/]+$/.test(path)) {
      const type = objectType(s[3]);
      const id = s[4] ?? "";
      if (method === "GET") return { status: 200, body: store.publicObject(store.lookup(type, id, ctx.query), requestedProps(ctx.query)) };
      if (method === "PATCH") return store.patchObject(type, id, ctx.query, ctx.body);
    }
    if (/^crm\/v4\/objects\/[^/]+\/[^/]+\/associations\/default\/[^/]+\/[^/]+$/.test(path) && method === "PUT") {
      return store.associate(objectType(s[3]), s[4] ?? "", objectType(s[7]), s[8] ?? "");
    }
    if (/^crm\/v3\/properties\/[^/]+$/.test(path) && method === "POST") return store.createProperty(objectType(s[3]), ctx.body);
    if (/^crm\/v3\/properties\/[^/]+\/[^/]+$/.test(path) && method === "GET") return store.getProperty(objectType(s[3]), s[4] ?? "");
    if (/^crm\/v3\/pipelines\/[^/]+\/[^/]+\/stages$/.test(path)) return pipelines.route(method, s[3] ?? "", s[4] ?? "", ctx.body);
    throw new HttpError(404, "OBJECT_NOT_FOUND", `No route for ${method} /${path}`);
  }

  function checkAuth(req: IncomingMessage, segments: string[]): void {
    // Token introspection is authenticated by the token it is given (in the path or body).
    if (segments[0] === "oauth" && !switches.authRevoked) return;
    const header = req.headers.authorization;
    if (!header) throw new HttpError(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.");
    if (header !== `Bearer ${token}` || switches.authRevoked) {
      throw new HttpError(401, "INVALID_AUTHENTICATION", "Authentication credentials are invalid or expired.");
    }
  }

  function injectedFailure(method: string, path: string): HttpError | null {
    const forced = switches.forcedRateLimit();
    if (forced !== null) return budget.tooMany("You have reached your ten_secondly_rolling limit.", "TEN_SECONDLY_ROLLING", forced * 1000);
    const next = switches.takeFault(method, path);
    if (!next) return null;
    const category = CATEGORY_BY_STATUS[next.status] ?? (next.status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR");
    const headers: Record<string, string> = next.retryAfterSeconds === undefined ? {} : { "retry-after": String(next.retryAfterSeconds) };
    const extra = next.status === 429 ? { errorType: "RATE_LIMIT", policyName: "TEN_SECONDLY_ROLLING" } : {};
    return new HttpError(next.status, category, `Injected failure (${next.status})`, extra, headers);
  }

  async function handle(req: IncomingMessage, ctx: Ctx): Promise<Reply> {
    if (switches.down) throw new HttpError(503, "SERVICE_UNAVAILABLE", "Service Unavailable");
    checkAuth(req, ctx.segments);
    const injected = injectedFailure(ctx.method, `/${ctx.segments.join("/")}`);
    if (injected) throw injected;
    const limits = budget.take(ctx.segments[ctx.segments.length - 1] === "search");
    try {
      const reply = await route(ctx);
      return { ...reply, headers: { ...limits, ...reply.headers } };
    } catch (err) {
      // As HubSpot does: an accepted request's error answer (404, 400, 409…) carries the rate-limit headers too.
      if (err instanceof HttpError) throw new HttpError(err.status, err.category, err.message, err.extra, { ...limits, ...err.headers });
      throw err;
    }
  }

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const correlationId = randomUUID();
    const url = new URL(req.url ?? "/", "http://localhost");
    const raw = await readBody(req);
    if (url.pathname === REQUESTS_PATH && req.method === "GET") {
      // Counts only (no bodies): what a bench or a person needs to count opsync's calls while `npm start` runs.
      const search = requests.filter((r) => r.path.endsWith("/search")).length;
      send(res, { status: 200, body: { total: requests.length, search, rateLimited: requests.filter((r) => r.status === 429).length } }, correlationId);
      return;
    }
    if (url.pathname === CONTROL_PATH) {
      const { status, body } = controlReply(switches, req.method ?? "GET", raw);
      send(res, { status, body }, correlationId);
      return;
    }
    const segments = url.pathname.split("/").filter((p) => p.length > 0).map(decodeURIComponent);
    if (switches.latencyMs > 0) await new Promise((r) => setTimeout(r, switches.latencyMs));
    let body: unknown = null;
    let reply: Reply;
    try {
      body = raw.length > 0 ? JSON.parse(raw) : null;
      reply = await handle(req, { method: req.method ?? "GET", segments, query: url.searchParams, body });
    } catch (err) {
      reply = errorReply(err, correlationId);
    }
    const loggedPath = segments[0] === "oauth" && segments[1] === "v1" ? url.pathname.replace(/[^/]+$/, "<redacted>") : url.pathname;
    const loggedBody = isRecord(body) && "tokenKey" in body ? { ...body, tokenKey: "<redacted>" } : body;
    requests.push({ method: req.method ?? "GET", path: loggedPath, query: Object.fromEntries(url.searchParams), body: loggedBody, status: reply.status, correlationId });
    if (!res.destroyed) send(res, reply, correlationId);
  }

  const server = createServer((req, res) => void respond(req, res));
  // "down" answers 503 here (HubSpot's edge answers while its API is out), so connections are never refused.
  const sockets = trackConnections(server, () => false);
  const port = await listenLocal(server, opts.port ?? 0);
  const list = (type: ObjectType) => [...store.objects[type].values()].map((o) => structuredClone(o));

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    switches,
    get requests() {
      return requests;
    },
    close: () => closeServer(server, sockets),
    failNext(n, status, o = {}) {
      switches.failNext(n, { status, ...o });
    },
    setLatency(ms) {
      switches.latencyMs = ms;
    },
    setDown(down) {
      switches.down = down;
    },
    setScopes(next) {
      scopes = [...next];
    },
    setRateLimit(max, windowMs) {
      budget.set({ max, windowMs });
    },
    contacts: () => list("contacts"),
    deals: () => list("deals"),
    tickets: () => list("tickets"),
    associations: () => [...store.associations.values()].map((a) => ({ ...a })),
    properties: (type) => [...store.props[type].values()].map((d) => ({ ...d })),
    dealStages: (pipelineId = "default") => pipelines.stages(pipelineId),
    seed: (type, properties) => structuredClone(store.insert(type, properties)),
    edit(type, id, properties) {
      const obj = store.objects[type].get(id);
      if (!obj) return;
      for (const [k, v] of Object.entries(properties)) {
        if (v === null) delete obj.properties[k];
        else obj.properties[k] = v;
      }
    },
    remove(type, id) {
      store.objects[type].delete(id);
    },
    reset() {
      store.reset();
      pipelines.reset();
      switches.reset();
      scopes = [...(opts.scopes ?? ALL_SCOPES)];
      budget.reset(opts.rateLimit ?? PROFESSIONAL);
      requests.length = 0;
    },
  };
}

function requestedProps(query: URLSearchParams): string[] | undefined {
  const names = query.getAll("properties").flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s.length > 0);
  return names.length > 0 ? ["hs_object_id", "createdate", "hs_lastmodifieddate", ...names] : undefined;
}

function errorReply(err: unknown, correlationId: string): Reply {
  if (err instanceof HttpError) {
    return { status: err.status, body: { status: "error", message: err.message, correlationId, category: err.category, ...err.extra }, headers: err.headers };
  }
  const status = err instanceof SyntaxError ? 400 : 500;
  const message = status === 400 ? "Invalid input JSON" : "internal error";
  return { status, body: { status: "error", message, correlationId, category: status === 400 ? "VALIDATION_ERROR" : "INTERNAL_ERROR" } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, reply: Reply, correlationId: string): void {
  res.writeHead(reply.status, { "content-type": "application/json;charset=utf-8", "x-hubspot-correlation-id": correlationId, ...reply.headers });
  res.end(reply.status === 204 ? "" : JSON.stringify(reply.body));
}
