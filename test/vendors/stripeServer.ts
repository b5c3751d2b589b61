/**
 * A local stand-in for the one Stripe API call opsync makes (`GET /v1/events/{id}`, the admin API's replayEvent),
 * so the real stripe SDK can be driven without the network. Answers like Stripe: Bearer secret-key auth (401
 * `invalid_request_error` otherwise), 404 `resource_missing` for an unknown event, JSON errors
 * `{error: {type, code?, message, param?}}`, and `request-id: req_…` / `stripe-version` headers on every answer.
 * Fault switches: `failNext(n, status)` (5xx `api_error`, 429 `rate_limit`, other 4xx `invalid_request_error`)
 * and `setDown` (connections are dropped).
 *
 * Listens on 127.0.0.1: a random port in tests, a fixed one (4640) for the local stack.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listenLocal, trackConnections } from "./lifecycle";
import { STRIPE_API_VERSION } from "../../functions/src/domain/stripeVersion";

export interface StripeServerOptions {
  /** The only key accepted; absent: any `sk_…` / `rk_…` key. */
  secretKey?: string;
  /** Fixed port (the local stack uses 4640); 0 or absent picks a free one. */
  port?: number;
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
  readonly requests: StripeLoggedRequest[];
  /** Stores (or replaces) an event; `GET /v1/events/{event.id}` answers it. */
  seedEvent(event: { id: string } & object): void;
  removeEvent(eventId: string): void;
  /** The next `n` requests answer `status` with a Stripe-shaped error. */
  failNext(n: number, status: number): void;
  setDown(down: boolean): void;
  reset(): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
}

const stripeError = (status: number, error: Record<string, string>): Reply => ({ status, body: { error } });

function faultReply(status: number): Reply {
  if (status === 429) {
    return stripeError(429, { type: "invalid_request_error", code: "rate_limit", message: "Too many requests hit the API too quickly." });
  }
  if (status >= 500) return stripeError(status, { type: "api_error", message: "An unknown error occurred (injected by the local Stripe stand-in)." });
  return stripeError(status, { type: "invalid_request_error", message: `Injected ${status} from the local Stripe stand-in.` });
}

export async function startStripeServer(opts: StripeServerOptions = {}): Promise<StripeServer> {
  const events = new Map<string, string>();
  const requests: StripeLoggedRequest[] = [];
  let faults: number[] = [];
  let down = false;

  function authorized(header: string | undefined): { ok: true } | { ok: false; message: string } {
    const bearer = /^Bearer\s+(\S+)$/i.exec(header ?? "");
    if (!bearer?.[1]) {
      return {
        ok: false,
        message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      };
    }
    const key = bearer[1];
    const valid = opts.secretKey !== undefined ? key === opts.secretKey : /^(sk|rk)_(test|live)_\S+$/.test(key);
    const shown = key.length > 12 ? `${key.slice(0, 8)}${"*".repeat(8)}${key.slice(-4)}` : key;
    return valid ? { ok: true } : { ok: false, message: `Invalid API Key provided: ${shown}` };
  }

  function handle(req: IncomingMessage, path: string): Reply {
    const fault = faults[0];
    if (fault !== undefined) {
      faults = faults.slice(1);
      return faultReply(fault);
    }
    const auth = authorized(req.headers.authorization);
    if (!auth.ok) return stripeError(401, { type: "invalid_request_error", message: auth.message });
    const route = /^\/v1\/events\/([^/]+)$/.exec(path);
    if (!route?.[1]) {
      return stripeError(404, { type: "invalid_request_error", message: `Unrecognized request URL (${req.method ?? "GET"}: ${path}).` });
    }
    if (req.method !== "GET") {
      return stripeError(405, { type: "invalid_request_error", message: `Unrecognized request URL (${req.method ?? "?"}: ${path}).` });
    }
    const id = decodeURIComponent(route[1]);
    const event = events.get(id);
    if (event === undefined) {
      return stripeError(404, { type: "invalid_request_error", code: "resource_missing", message: `No such event: '${id}'`, param: "id" });
    }
    return { status: 200, body: JSON.parse(event) as unknown };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    req.on("error", () => undefined);
    req.resume();
    req.on("end", () => {
      if (down) {
        req.socket.destroy();
        return;
      }
      const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
      const reply = handle(req, path);
      const requestId = `req_${randomBytes(7).toString("hex")}`;
      const version = req.headers["stripe-version"];
      requests.push({
        method: req.method ?? "GET",
        path,
        status: reply.status,
        requestId,
        stripeVersion: typeof version === "string" ? version : null,
      });
      const body = JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "request-id": requestId,
        "stripe-version": typeof version === "string" ? version : STRIPE_API_VERSION,
        "cache-control": "no-cache, no-store",
      });
      res.end(body);
    });
  });
  const sockets = trackConnections(server, () => down);
  const port = await listenLocal(server, opts.port ?? 0);

  return {
    url: `http://127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    requests,
    seedEvent(event) {
      events.set(event.id, JSON.stringify(event));
    },
    removeEvent(eventId) {
      events.delete(eventId);
    },
    failNext(n, status) {
      for (let i = 0; i < n; i++) faults.push(status);
    },
    setDown(value) {
      down = value;
      if (value) for (const s of sockets) s.destroy();
    },
    reset() {
      events.clear();
      requests.length = 0;
      faults = [];
      down = false;
    },
    async close() {
      await closeServer(server, sockets);
    },
  };
}
