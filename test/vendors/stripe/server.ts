/**
 * A local stand-in for the Stripe API reads opsync makes (retrieve and list of customers, subscriptions, invoices,
 * payment intents, charges, refunds, disputes, checkout sessions and events), from an in-memory store, so the real
 * stripe SDK can be driven without the network. Answers like Stripe: Bearer secret-key auth (401
 * `invalid_request_error` otherwise), 404 `resource_missing` for an unknown id, JSON errors
 * `{error: {type, code?, message, param?}}`, `request-id: req_…` / `stripe-version` headers on every answer, and a read
 * rate limit (25/s by default, Stripe's test-mode limit). Pagination and filters: ./lists.ts. Test surface over HTTP:
 * `POST|DELETE /__seed` and `GET|POST /__control` (./control.ts); the same in process through the returned handle.
 *
 * Listens on 127.0.0.1: a random port in tests, a fixed one (4640) for the local stack. See docs/local-stripe.md.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { closeServer, listenLocal, trackConnections } from "../lifecycle";
import { STRIPE_API_VERSION } from "../../../functions/src/domain/stripeVersion";
import { asObject, controlBody, injectedFailure, parseBody, RateWindow, rateLimited, seedBody, type ControlBody } from "./control";
import { expandFields, expandObject, listPage, parseQuery } from "./lists";
import { createStore, invalidRequest, noSuch, RESOURCES, StripeApiFailure } from "./store";

export interface StripeServerOptions {
  /** The only key accepted; absent: any `sk_…` / `rk_…` key. */
  secretKey?: string;
  /** Fixed port (the local stack uses 4640); 0 or absent picks a free one. */
  port?: number;
  /** API reads per second before 429 (default 25, Stripe's test-mode limit); null: unlimited. */
  readsPerSecond?: number | null;
}

export interface StripeLoggedRequest {
  method: string;
  path: string;
  status: number;
  requestId: string;
  stripeVersion: string | null;
}

export interface StripeServer {
  /** `http://127.0.0.1:<port>`, the value for STRIPE_API_BASE_URL. */
  url: string;
  host: string;
  port: number;
  /** API requests only (`__seed` / `__control` are not logged). */
  readonly requests: StripeLoggedRequest[];
  /** Stores (or replaces) an event; `GET /v1/events/{event.id}` answers it and `GET /v1/events` lists it. */
  seedEvent(event: { id: string } & object): void;
  removeEvent(eventId: string): void;
  /** Upserts Stripe objects by `object` type + id (a deleted customer: `{id, object: "customer", deleted: true}`). */
  seedObjects<T extends { id: string; object: string }>(objects: readonly T[]): void;
  /** The next `n` API requests answer `status` with a Stripe-shaped error. */
  failNext(n: number, status: number): void;
  setDown(down: boolean): void;
  setLatency(ms: number): void;
  setRateLimit(perSecond: number | null): void;
  /** Empties the store and the request log and clears every injected failure. */
  reset(): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const failureReply = (f: StripeApiFailure): Reply => ({ status: f.status, body: { error: f.error }, headers: f.headers });

export async function startStripeServer(opts: StripeServerOptions = {}): Promise<StripeServer> {
  const store = createStore();
  const requests: StripeLoggedRequest[] = [];
  const rate = new RateWindow(opts.readsPerSecond === undefined ? 25 : opts.readsPerSecond);
  let faults: number[] = [];
  let down = false;
  let latencyMs = 0;

  function authorize(header: string | undefined): void {
    const bearer = /^Bearer\s+(\S+)$/i.exec(header ?? "");
    if (!bearer?.[1]) {
      throw new StripeApiFailure(401, {
        type: "invalid_request_error",
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      });
    }
    const key = bearer[1];
    const valid = opts.secretKey !== undefined ? key === opts.secretKey : /^(sk|rk)_(test|live)_\S+$/.test(key);
    const shown = key.length > 12 ? `${key.slice(0, 8)}${"*".repeat(8)}${key.slice(-4)}` : key;
    if (!valid) throw new StripeApiFailure(401, { type: "invalid_request_error", message: `Invalid API Key provided: ${shown}` });
  }

  function api(req: IncomingMessage, url: URL): Reply {
    const fault = faults[0];
    if (fault !== undefined) {
      faults = faults.slice(1);
      throw injectedFailure(fault);
    }
    authorize(req.headers.authorization);
    if (!rate.take()) throw rateLimited();
    const path = url.pathname;
    const unrecognized = invalidRequest(`Unrecognized request URL (${req.method ?? "GET"}: ${path}).`, undefined, undefined, 404);
    const match = RESOURCES.map((r) => ({ r, m: new RegExp(`^/v1/${r.path}(?:/([^/]+))?$`).exec(path) })).find((x) => x.m !== null);
    if (!match?.m) throw unrecognized;
    // A read-only stand-in: writes are not Stripe's 404 but a plain refusal, so a test that writes fails clearly.
    if (req.method !== "GET") throw invalidRequest(`Unrecognized request URL (${req.method ?? "?"}: ${path}).`, undefined, undefined, 405);
    const query = parseQuery(url.searchParams);
    const { r: resource } = match;
    const rawId = match.m[1];
    if (rawId === undefined) return { status: 200, body: listPage(store, resource, query) };

    const id = decodeURIComponent(rawId);
    for (const name of query.keys()) if (name !== "expand") throw invalidRequest(`Received unknown parameter: ${name}`, name);
    const fields = expandFields(resource, query, "");
    const found = store.get(resource.object, id);
    if (!found) throw noSuch(resource.object, id, "id", 404);
    return { status: 200, body: expandObject(store, resource, found, fields) };
  }

  function seed(req: IncomingMessage, body: string): Reply {
    if (req.method === "DELETE") return { status: 200, body: { deleted: store.clear() } };
    if (req.method === "GET") return { status: 200, body: { stored: store.counts() } };
    if (req.method !== "POST") throw invalidRequest(`Unsupported method ${req.method ?? "?"} on /__seed.`, undefined, undefined, 405);
    const parsed = parseBody(seedBody, body, "__seed");
    const objects = parsed.objects ?? [];
    const events = parsed.events ?? [];
    for (const o of [...objects, ...events]) store.upsert(asObject(o));
    return { status: 200, body: { objects: objects.length, events: events.length, stored: store.counts() } };
  }

  const controlState = () => ({ mode: down ? "down" : "up", failNext: faults, latencyMs, rateLimitPerSecond: rate.perSecond });

  /** `from`: the socket carrying a `__control` request, spared so its answer still arrives. */
  function applyControl(c: ControlBody, from?: Socket): void {
    if (c.reset) {
      faults = [];
      setDown(false);
      latencyMs = 0;
      rate.perSecond = opts.readsPerSecond === undefined ? 25 : opts.readsPerSecond;
      rate.clear();
    }
    if (c.failNext !== undefined) for (let i = 0; i < c.failNext; i++) faults.push(c.status ?? 500);
    if (c.mode !== undefined) setDown(c.mode === "down", from);
    if (c.latencyMs !== undefined) latencyMs = c.latencyMs;
    if (c.rateLimitPerSecond !== undefined) {
      rate.perSecond = c.rateLimitPerSecond;
      rate.clear();
    }
  }

  function control(req: IncomingMessage, body: string): Reply {
    if (req.method === "POST") applyControl(parseBody(controlBody, body, "__control"), req.socket);
    else if (req.method !== "GET") throw invalidRequest(`Unsupported method ${req.method ?? "?"} on /__control.`, undefined, undefined, 405);
    return { status: 200, body: controlState() };
  }

  function send(req: IncomingMessage, res: ServerResponse, reply: Reply, requestId: string): void {
    const version = req.headers["stripe-version"];
    const body = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...reply.headers,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "request-id": requestId,
      "stripe-version": typeof version === "string" ? version : STRIPE_API_VERSION,
      "cache-control": "no-cache, no-store",
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const requestId = `req_${randomBytes(7).toString("hex")}`;
    const attempt = (fn: () => Reply): Reply => {
      try {
        return fn();
      } catch (error) {
        if (error instanceof StripeApiFailure) return failureReply(error);
        throw error;
      }
    };
    if (url.pathname === "/__seed") return send(req, res, attempt(() => seed(req, raw)), requestId);
    if (url.pathname === "/__control") return send(req, res, attempt(() => control(req, raw)), requestId);
    // Down: the API's connections reset, as an unreachable Stripe would; the test surface stays reachable to undo it.
    if (down) {
      req.socket.destroy();
      return;
    }
    if (latencyMs > 0) await sleep(latencyMs);
    if (down) {
      req.socket.destroy();
      return;
    }
    const reply = attempt(() => api(req, url));
    const version = req.headers["stripe-version"];
    requests.push({ method: req.method ?? "GET", path: url.pathname, status: reply.status, requestId, stripeVersion: typeof version === "string" ? version : null });
    send(req, res, reply, requestId);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("error", () => undefined);
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > MAX_BODY_BYTES) {
        send(req, res, failureReply(invalidRequest(`Request body over ${MAX_BODY_BYTES} bytes.`, undefined, undefined, 413)), "req_too_large");
        return;
      }
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        send(req, res, { status: 500, body: { error: { type: "api_error", message: `Stand-in bug: ${message}` } } }, "req_internal");
      });
    });
  });
  // Connections are always accepted: "down" is decided per request so that /__control can bring the API back up.
  const sockets = trackConnections(server, () => false);
  const port = await listenLocal(server, opts.port ?? 0);

  function setDown(value: boolean, spare?: Socket): void {
    down = value;
    // Kept-alive connections go too, so a client with a pooled socket sees the outage at once.
    if (value) for (const s of sockets) if (s !== spare) s.destroy();
  }

  return {
    url: `http://127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    requests,
    seedEvent(event) {
      store.upsert({ ...event, object: "event" });
    },
    removeEvent(eventId) {
      store.remove("event", eventId);
    },
    seedObjects(objects) {
      for (const o of objects) store.upsert({ ...o });
    },
    failNext(n, status) {
      for (let i = 0; i < n; i++) faults.push(status);
    },
    setDown(value) {
      setDown(value);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    setRateLimit(perSecond) {
      rate.perSecond = perSecond;
      rate.clear();
    },
    reset() {
      store.clear();
      requests.length = 0;
      applyControl({ reset: true });
    },
    async close() {
      await closeServer(server, sockets);
    },
  };
}
