/**
 * A local stand-in for the subset of Zendesk's Support API opsync uses (tickets create, show, list by
 * external_id, tags add/set, search), with the behaviours the adapter must cope with: basic auth
 * (`email/token:TOKEN`), the `Idempotency-Key` header (`x-idempotency-lookup: hit|miss`, replay of the first response,
 * 400 `IdempotentRequestError` on reuse with different parameters, keys expire after 2 h), per-endpoint rate limits
 * (the account's per-minute limit, and List Tickets' own 100/min with `Zendesk-RateLimit-tickets-index`; 429 +
 * Retry-After), 422 RecordInvalid, and failure switches (control.ts, also at `/__control`). Every response carries
 * `x-request-id`.
 *
 * Listens on 127.0.0.1 on a random port. Only for tests and local demos.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { CONTROL_PATH, Switches, controlReply } from "./control";
import { closeServer, listenLocal, trackConnections } from "./lifecycle";

export interface ZendeskServerOptions {
  email?: string;
  token?: string;
  /** Requests admitted per sliding minute before 429 (Zendesk plans: 200-700). Default: Infinity. */
  rateLimitPerMinute?: number;
  /** List Tickets (`GET /api/v2/tickets.json`, e.g. by external_id) requests per sliding minute. Zendesk: 100. */
  ticketListPerMinute?: number;
  /** How long an idempotency key is remembered. Zendesk: 2 hours. */
  idempotencyTtlMs?: number;
  /** Clock, for rate-limit windows, idempotency expiry and timestamps. */
  now?: () => number;
  /** First ticket id handed out. */
  firstTicketId?: number;
  /** Fixed port (the local stack uses fixed ports); 0 or absent picks a free one. */
  port?: number;
}

export interface FailOptions {
  retryAfterSeconds?: number;
  /** Response body (JSON) for the injected failure; a Zendesk-shaped default otherwise. */
  body?: unknown;
  /** Only requests with this method (e.g. "PUT") take the failure; others pass. */
  method?: string;
  /** Only requests whose path contains this take the failure; others pass. */
  pathIncludes?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body, or null when empty or not JSON. */
  body: unknown;
  at: number;
  /** Status answered, null while pending (or when the connection was dropped). */
  status: number | null;
  requestId: string;
}

export interface ZendeskTicketRecord {
  id: number;
  subject: string;
  description: string;
  comments: { body: string; public: boolean }[];
  priority: "low" | "normal" | "high" | "urgent" | null;
  status: "new";
  tags: string[];
  external_id: string | null;
  requester: { id: number; name: string | null; email: string | null };
  created_at: string;
  updated_at: string;
}

export interface ZendeskServer {
  url: string;
  email: string;
  token: string;
  /** Every request received (after its body was read), oldest first. Cleared by reset(). */
  readonly requests: RecordedRequest[];
  readonly switches: Switches;
  tickets(): ZendeskTicketRecord[];
  /** The next `n` requests (matching `method`/`pathIncludes` when given) are answered `status` before auth, rate limits or routing. */
  failNext(n: number, status: number, opts?: FailOptions): void;
  /** Delay before each request is processed (the work still happens if the client gave up). */
  setLatency(ms: number): void;
  /** While down, connections are reset without an answer. */
  setDown(down: boolean): void;
  setRateLimit(perMinute: number): void;
  /** Forget tickets, users, requests, idempotency keys, rate-limit window and fault switches. */
  reset(): void;
  close(): Promise<void>;
}

const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
type Priority = (typeof PRIORITIES)[number];
const AGENT_ID = 1;

interface IdempotencyEntry {
  canonicalBody: string;
  status: number;
  body: unknown;
  at: number;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** JSON with object keys sorted, so two bodies that differ only in key order compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Zendesk tags are lowercase, without spaces (a space separates two tags). */
function normalizeTags(raw: unknown[]): string[] {
  const out: string[] = [];
  for (const t of raw) {
    if (typeof t !== "string") continue;
    for (const part of t.toLowerCase().split(/\s+/)) if (part && !out.includes(part)) out.push(part);
  }
  return out;
}

function defaultFaultBody(status: number): unknown {
  if (status === 429) return { error: "TooManyRequests", description: "Rate limit exceeded" };
  if (status === 401) return { error: "Couldn't authenticate you" };
  if (status === 403) return { error: "Forbidden", description: "You do not have access to this page." };
  if (status === 404) return { error: "RecordNotFound", description: "Not found" };
  if (status === 422) return { error: "RecordInvalid", description: "Record validation errors", details: {} };
  if (status === 503) return { error: "ServiceUnavailable", description: "Zendesk is temporarily unavailable" };
  return { error: "Error", description: `Injected failure ${status}` };
}

export async function startZendeskServer(opts: ZendeskServerOptions = {}): Promise<ZendeskServer> {
  const email = opts.email ?? "agent@example.test";
  const token = opts.token ?? "zd_test_token_0123456789";
  const now = opts.now ?? Date.now;
  const ttl = opts.idempotencyTtlMs ?? 2 * 60 * 60 * 1000;
  const firstTicketId = opts.firstTicketId ?? 1001;

  let rateLimit = opts.rateLimitPerMinute ?? Number.POSITIVE_INFINITY;
  const switches = new Switches(now);
  const listLimit = opts.ticketListPerMinute ?? 100;
  let listed: number[] = [];
  let nextTicketId = firstTicketId;
  let nextUserId = AGENT_ID + 1;
  let admitted: number[] = [];
  const requests: RecordedRequest[] = [];
  const tickets = new Map<number, ZendeskTicketRecord>();
  const users = new Map<string, { id: number; name: string | null; email: string | null }>();
  const idempotency = new Map<string, IdempotencyEntry>();
  const timers = new Set<NodeJS.Timeout>();
  let url = "";

  const expectedAuth = `Basic ${Buffer.from(`${email}/token:${token}`).toString("base64")}`;

  const ticketJson = (t: ZendeskTicketRecord) => ({
    id: t.id,
    url: `${url}/api/v2/tickets/${t.id}.json`,
    external_id: t.external_id,
    via: { channel: "api" },
    created_at: t.created_at,
    updated_at: t.updated_at,
    type: null,
    subject: t.subject,
    raw_subject: t.subject,
    description: t.description,
    priority: t.priority,
    status: t.status,
    requester_id: t.requester.id,
    submitter_id: AGENT_ID,
    assignee_id: null,
    tags: [...t.tags],
  });

  const invalid = (details: Record<string, { description: string; error: string }[]>): Reply => ({
    status: 422,
    body: { error: "RecordInvalid", description: "Record validation errors", details },
  });

  function createTicket(body: unknown): Reply {
    const ticket = isRecord(body) ? body.ticket : undefined;
    if (!isRecord(ticket)) return invalid({ base: [{ description: "Ticket: is missing", error: "BlankValue" }] });
    const details: Record<string, { description: string; error: string }[]> = {};
    const subject = typeof ticket.subject === "string" ? ticket.subject.trim() : "";
    if (!subject) details.subject = [{ description: "Subject: cannot be blank", error: "BlankValue" }];
    const comment = isRecord(ticket.comment) ? ticket.comment : null;
    const commentBody = comment && typeof comment.body === "string" ? comment.body : "";
    if (!commentBody.trim()) details.description = [{ description: "Description: cannot be blank", error: "BlankValue" }];
    let priority: Priority | null = null;
    if (ticket.priority !== undefined && ticket.priority !== null) {
      const p = PRIORITIES.find((x) => x === ticket.priority);
      if (!p) details.priority = [{ description: `Priority: ${String(ticket.priority)} is not valid`, error: "InvalidValue" }];
      else priority = p;
    }
    if (ticket.tags !== undefined && !Array.isArray(ticket.tags)) {
      details.tags = [{ description: "Tags: must be an array of strings", error: "InvalidValue" }];
    }
    if (ticket.external_id !== undefined && ticket.external_id !== null) {
      if (typeof ticket.external_id !== "string" || ticket.external_id.length > 255) {
        details.external_id = [{ description: "External id: is invalid", error: "InvalidValue" }];
      }
    }
    let requester = { id: AGENT_ID, name: "Opsync Agent" as string | null, email: email as string | null };
    if (ticket.requester !== undefined && ticket.requester !== null) {
      const r = isRecord(ticket.requester) ? ticket.requester : {};
      const rEmail = typeof r.email === "string" && r.email.trim() ? r.email.trim().toLowerCase() : null;
      const rName = typeof r.name === "string" && r.name.trim() ? r.name.trim() : null;
      if (rEmail !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(rEmail)) {
        details.requester = [{ description: "Requester: Email is not properly formatted", error: "InvalidValue" }];
      } else if (!rEmail && !rName) {
        details.requester = [{ description: "Requester: Name is too short", error: "InvalidValue" }];
      } else {
        const existing = rEmail ? users.get(rEmail) : undefined;
        if (existing) requester = existing;
        else {
          requester = { id: nextUserId++, name: rName ?? rEmail, email: rEmail };
          if (rEmail) users.set(rEmail, requester);
        }
      }
    }
    if (Object.keys(details).length > 0) return invalid(details);

    const at = new Date(now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    const record: ZendeskTicketRecord = {
      id: nextTicketId++,
      subject,
      description: commentBody,
      comments: [{ body: commentBody, public: comment?.public !== false }],
      priority,
      status: "new",
      tags: normalizeTags(Array.isArray(ticket.tags) ? ticket.tags : []),
      external_id: typeof ticket.external_id === "string" ? ticket.external_id : null,
      requester,
      created_at: at,
      updated_at: at,
    };
    tickets.set(record.id, record);
    return { status: 201, body: { ticket: ticketJson(record) }, headers: { location: `${url}/api/v2/tickets/${record.id}.json` } };
  }

  function byExternalId(externalId: string): ZendeskTicketRecord[] {
    return [...tickets.values()].filter((t) => t.external_id === externalId).sort((a, b) => a.id - b.id);
  }

  function search(query: string): Reply {
    let results = [...tickets.values()];
    for (const term of query.trim().split(/\s+/).filter(Boolean)) {
      const m = /^([a-z_]+):(.*)$/.exec(term);
      if (!m) continue;
      const [, key, rawValue = ""] = m;
      const value = rawValue.replace(/^"(.*)"$/, "$1");
      if (key === "type" && value !== "ticket") results = [];
      if (key === "external_id") results = results.filter((t) => t.external_id === value);
      if (key === "tags") results = results.filter((t) => t.tags.includes(value.toLowerCase()));
      if (key === "status") results = results.filter((t) => t.status === value);
    }
    results.sort((a, b) => a.id - b.id);
    return {
      status: 200,
      body: { results: results.map((t) => ({ ...ticketJson(t), result_type: "ticket" })), count: results.length, next_page: null, previous_page: null },
    };
  }

  function route(method: string, path: string, query: Record<string, string>, rec: RecordedRequest): Reply {
    if (path === "/api/v2/tickets.json" || path === "/api/v2/tickets") {
      if (method === "POST") {
        if (rec.body === null && rec.rawBody.trim() !== "") {
          return { status: 400, body: { error: "Unprocessable Entity", description: "Server could not parse JSON" } };
        }
        const key = typeof rec.headers["idempotency-key"] === "string" ? rec.headers["idempotency-key"] : null;
        if (key === null) return createTicket(rec.body);
        const canonicalBody = canonicalJson(rec.body);
        const seen = idempotency.get(key);
        if (seen && now() - seen.at < ttl) {
          if (seen.canonicalBody !== canonicalBody) {
            return {
              status: 400,
              body: { error: "IdempotentRequestError", description: "Request parameters do not match a previous request with the same Idempotency-Key" },
            };
          }
          return { status: seen.status, body: seen.body, headers: { "x-idempotency-lookup": "hit" } };
        }
        const reply = createTicket(rec.body);
        if (reply.status >= 200 && reply.status < 300) {
          idempotency.set(key, { canonicalBody, status: reply.status, body: reply.body, at: now() });
        }
        return { ...reply, headers: { ...reply.headers, "x-idempotency-lookup": "miss" } };
      }
      if (method === "GET") {
        const limited = ticketListLimited();
        if (limited) return limited;
        const list = query.external_id !== undefined ? byExternalId(query.external_id) : [...tickets.values()];
        return { status: 200, body: { tickets: list.map(ticketJson), count: list.length, next_page: null, previous_page: null } };
      }
      return { status: 405, body: { error: "MethodNotAllowed" } };
    }
    const tagsRoute = /^\/api\/v2\/tickets\/(\d+)\/tags(?:\.json)?$/.exec(path);
    if (tagsRoute) {
      const t = tickets.get(Number(tagsRoute[1]));
      if (!t) return { status: 404, body: { error: "RecordNotFound", description: "Not found" } };
      if (method === "GET") return { status: 200, body: { tags: [...t.tags] } };
      const given = isRecord(rec.body) && Array.isArray(rec.body.tags) ? normalizeTags(rec.body.tags) : null;
      if (given === null) return invalid({ tags: [{ description: "Tags: must be an array of strings", error: "InvalidValue" }] });
      // PUT adds tags (Zendesk "Add Tags"), POST replaces them ("Set Tags").
      if (method === "PUT") t.tags = [...t.tags, ...given.filter((g) => !t.tags.includes(g))];
      else if (method === "POST") t.tags = given;
      else return { status: 405, body: { error: "MethodNotAllowed" } };
      t.updated_at = new Date(now()).toISOString().replace(/\.\d{3}Z$/, "Z");
      return { status: 200, body: { tags: [...t.tags] } };
    }
    const show = /^\/api\/v2\/tickets\/(\d+)(?:\.json)?$/.exec(path);
    if (show && method === "GET") {
      const t = tickets.get(Number(show[1]));
      return t ? { status: 200, body: { ticket: ticketJson(t) } } : { status: 404, body: { error: "RecordNotFound", description: "Not found" } };
    }
    if ((path === "/api/v2/search.json" || path === "/api/v2/search") && method === "GET") return search(query.query ?? "");
    return { status: 404, body: { error: "InvalidEndpoint", description: "Not found" } };
  }

  function rateLimited(): Reply | null {
    const t = now();
    admitted = admitted.filter((x) => t - x < 60_000);
    if (admitted.length >= rateLimit) {
      const oldest = admitted[0] ?? t;
      const retryAfter = Math.max(1, Math.ceil((oldest + 60_000 - t) / 1000));
      return {
        status: 429,
        body: { error: "TooManyRequests", description: "Rate limit exceeded" },
        headers: { "retry-after": String(retryAfter), "x-rate-limit": String(rateLimit), "x-rate-limit-remaining": "0" },
      };
    }
    admitted.push(t);
    return null;
  }

  /** List Tickets has its own limit on top of the account's; its header tells what is left. */
  function ticketListLimited(): Reply | null {
    const t = now();
    listed = listed.filter((x) => t - x < 60_000);
    const oldest = listed[0] ?? t;
    const resets = Math.max(1, Math.ceil((oldest + 60_000 - t) / 1000));
    if (listed.length >= listLimit) {
      return {
        status: 429,
        body: { error: "TooManyRequests", description: "List Tickets rate limit exceeded" },
        headers: { "retry-after": String(resets), "zendesk-ratelimit-tickets-index": `total=${listLimit}; remaining=0; resets=${resets}` },
      };
    }
    listed.push(t);
    return null;
  }

  function handle(rec: RecordedRequest): Reply {
    const forced = switches.forcedRateLimit();
    if (forced !== null) return { status: 429, body: defaultFaultBody(429), headers: { "retry-after": String(forced) } };
    const fault = switches.takeFault(rec.method, rec.path);
    if (fault) {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
      return { status: fault.status, body: fault.body ?? defaultFaultBody(fault.status), headers };
    }
    if (rec.headers.authorization !== expectedAuth || switches.authRevoked) {
      return { status: 401, body: { error: "Couldn't authenticate you" }, headers: { "www-authenticate": 'Basic realm="Web Password"' } };
    }
    const limited = rateLimited();
    if (limited) return limited;
    return route(rec.method, rec.path, rec.query, rec);
  }

  function send(res: ServerResponse, rec: RecordedRequest, reply: Reply) {
    rec.status = reply.status;
    if (res.destroyed || res.writableEnded) return;
    const payload = JSON.stringify(reply.body);
    const isList = rec.method === "GET" && /^\/api\/v2\/tickets(\.json)?$/.test(rec.path);
    const listHeader = isList && reply.status !== 429
      ? { "zendesk-ratelimit-tickets-index": `total=${listLimit}; remaining=${Math.max(0, listLimit - listed.length)}; resets=60` }
      : {};
    res.writeHead(reply.status, {
      ...listHeader,
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(payload),
      "x-request-id": rec.requestId,
      ...(Number.isFinite(rateLimit) ? { "x-rate-limit": String(rateLimit), "x-rate-limit-remaining": String(Math.max(0, rateLimit - admitted.length)) } : {}),
      ...reply.headers,
    });
    res.end(payload);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const isControl = new URL(req.url ?? "/", "http://127.0.0.1").pathname === CONTROL_PATH;
    if (switches.down && !isControl) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => undefined);
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      if (isControl) {
        const reply = controlReply(switches, req.method ?? "GET", rawBody);
        res.writeHead(reply.status, { "content-type": "application/json" });
        res.end(JSON.stringify(reply.body));
        return;
      }
      let body: unknown = null;
      try {
        body = rawBody ? (JSON.parse(rawBody) as unknown) : null;
      } catch {
        body = null;
      }
      const u = new URL(req.url ?? "/", "http://127.0.0.1");
      const rec: RecordedRequest = {
        method: req.method ?? "GET",
        path: u.pathname,
        query: Object.fromEntries(u.searchParams.entries()),
        headers: req.headers,
        rawBody,
        body,
        at: now(),
        status: null,
        requestId: randomUUID(),
      };
      requests.push(rec);
      const run = () => {
        if (switches.down) {
          req.socket.destroy();
          return;
        }
        send(res, rec, handle(rec));
      };
      if (switches.latencyMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          run();
        }, switches.latencyMs);
        timers.add(timer);
      } else run();
    });
  });
  // "down" is decided per request (above), so /__control stays reachable while the API is down.
  const sockets = trackConnections(server, () => false);
  const port = await listenLocal(server, opts.port ?? 0);
  url = `http://127.0.0.1:${port}`;

  return {
    url,
    email,
    token,
    requests,
    switches,
    tickets: () => [...tickets.values()].sort((a, b) => a.id - b.id).map((t) => ({ ...t, tags: [...t.tags], comments: [...t.comments] })),
    failNext(n, status, failOpts = {}) {
      switches.failNext(n, { status, ...failOpts });
    },
    setLatency(ms) {
      switches.latencyMs = Math.max(0, ms);
    },
    setDown(value) {
      switches.down = value;
      if (value) for (const s of sockets) s.destroy();
    },
    setRateLimit(perMinute) {
      rateLimit = perMinute;
      admitted = [];
    },
    reset() {
      tickets.clear();
      users.clear();
      idempotency.clear();
      requests.length = 0;
      switches.reset();
      admitted = [];
      listed = [];
      rateLimit = opts.rateLimitPerMinute ?? Number.POSITIVE_INFINITY;
      nextTicketId = firstTicketId;
      nextUserId = AGENT_ID + 1;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await closeServer(server, sockets);
    },
  };
}
