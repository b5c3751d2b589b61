/**
 * A local stand-in for Slack incoming webhooks: `POST /services/T.../B.../XXXX` with JSON `{text}` answers
 * 200 `ok` (text/plain). Errors are text/plain too, like Slack's: 400 `invalid_payload` (bad JSON), 400 `no_text`
 * (no or blank text), 404 `no_service` (unknown webhook), 403 `invalid_token` (auth revoked by a switch), 429
 * `rate_limited` with Retry-After. The limit is burst-friendly like Slack's: a token bucket of `burst` messages
 * refilled at `perSecond` (about 1 per second sustained). Failure switches (control.ts) also answer at
 * `/__control`. Every response carries `x-slack-req-id`.
 *
 * Listens on 127.0.0.1 on a random port. Only for tests and local demos.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { CONTROL_PATH, Switches, controlReply } from "./control";
import { closeServer, listenLocal, trackConnections } from "./lifecycle";

export interface SlackServerOptions {
  /** Webhook paths that exist. Default: ["/services/T000/B000/XXXX"]. */
  webhookPaths?: string[];
  /** Sustained messages per second per webhook (the bucket's refill rate). Default 1; Infinity disables the limit. */
  perSecond?: number;
  /** Messages a webhook may send at once before the sustained rate applies. Default 4. */
  burst?: number;
  now?: () => number;
  /** Fixed port (the local stack uses fixed ports); 0 or absent picks a free one. */
  port?: number;
}

export interface SlackFailOptions {
  retryAfterSeconds?: number;
  /** text/plain body of the injected failure. */
  body?: string;
}

export interface SlackRecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  at: number;
  status: number | null;
  requestId: string;
}

export interface SlackMessage {
  path: string;
  text: string;
  /** The whole parsed payload (blocks, attachments... are kept but not checked). */
  payload: Record<string, unknown>;
  at: number;
}

export interface SlackServer {
  /** URL of the first (default) webhook. */
  url: string;
  baseUrl: string;
  urlFor(path: string): string;
  readonly requests: SlackRecordedRequest[];
  readonly switches: Switches;
  messages(): SlackMessage[];
  failNext(n: number, status: number, opts?: SlackFailOptions): void;
  setLatency(ms: number): void;
  setDown(down: boolean): void;
  setRateLimit(perSecond: number): void;
  reset(): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const DEFAULT_PATH = "/services/T000/B000/XXXX";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export async function startSlackServer(opts: SlackServerOptions = {}): Promise<SlackServer> {
  const paths = opts.webhookPaths && opts.webhookPaths.length > 0 ? opts.webhookPaths : [DEFAULT_PATH];
  const now = opts.now ?? Date.now;
  let perSecond = opts.perSecond ?? 1;
  const burst = opts.burst ?? 4;
  const switches = new Switches(now);
  const buckets = new Map<string, { tokens: number; at: number }>();
  const requests: SlackRecordedRequest[] = [];
  const messages: SlackMessage[] = [];
  const timers = new Set<NodeJS.Timeout>();

  /** Token bucket per webhook: short bursts pass, the sustained rate is `perSecond`. */
  function rateLimited(path: string): Reply | null {
    if (!Number.isFinite(perSecond)) return null;
    const t = now();
    const b = buckets.get(path) ?? { tokens: burst, at: t };
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * perSecond);
    b.at = t;
    buckets.set(path, b);
    if (b.tokens < 1) return { status: 429, body: "rate_limited", headers: { "retry-after": String(Math.max(1, Math.ceil((1 - b.tokens) / perSecond))) } };
    b.tokens -= 1;
    return null;
  }

  function handle(rec: SlackRecordedRequest): Reply {
    const forced = switches.forcedRateLimit();
    if (forced !== null) return { status: 429, body: "rate_limited", headers: { "retry-after": String(forced) } };
    const fault = switches.takeFault(rec.method, rec.path);
    if (fault) {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
      const text = typeof fault.body === "string" ? fault.body : fault.status === 429 ? "rate_limited" : fault.status >= 500 ? "internal_error" : "invalid_payload";
      return { status: fault.status, body: text, headers };
    }
    if (switches.authRevoked) return { status: 403, body: "invalid_token" };
    if (!paths.includes(rec.path)) return { status: 404, body: "no_service" };
    if (rec.method !== "POST") return { status: 405, body: "invalid_method" };
    let payload: unknown;
    try {
      payload = JSON.parse(rec.rawBody) as unknown;
    } catch {
      return { status: 400, body: "invalid_payload" };
    }
    if (!isRecord(payload)) return { status: 400, body: "invalid_payload" };
    if (typeof payload.text !== "string" || payload.text.trim() === "") return { status: 400, body: "no_text" };
    const limited = rateLimited(rec.path);
    if (limited) return limited;
    messages.push({ path: rec.path, text: payload.text, payload, at: now() });
    return { status: 200, body: "ok" };
  }

  function send(res: ServerResponse, rec: SlackRecordedRequest, reply: Reply) {
    rec.status = reply.status;
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(reply.status, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(reply.body),
      "x-slack-req-id": rec.requestId,
      ...reply.headers,
    });
    res.end(reply.body);
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
      const rec: SlackRecordedRequest = {
        method: req.method ?? "GET",
        path: new URL(req.url ?? "/", "http://127.0.0.1").pathname,
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString("utf8"),
        at: now(),
        status: null,
        requestId: randomUUID().replace(/-/g, ""),
      };
      if (isControl) {
        const reply = controlReply(switches, rec.method, rec.rawBody);
        res.writeHead(reply.status, { "content-type": "application/json" });
        res.end(JSON.stringify(reply.body));
        return;
      }
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
  // "down" is decided per request (above), so /__control stays reachable while the webhook is down.
  const sockets = trackConnections(server, () => false);
  const port = await listenLocal(server, opts.port ?? 0);
  const baseUrl = `http://127.0.0.1:${port}`;
  const first = paths[0] ?? DEFAULT_PATH;

  return {
    url: `${baseUrl}${first}`,
    baseUrl,
    urlFor: (path) => `${baseUrl}${path}`,
    requests,
    switches,
    messages: () => messages.map((m) => ({ ...m })),
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
    setRateLimit(value) {
      perSecond = value;
      buckets.clear();
    },
    reset() {
      requests.length = 0;
      messages.length = 0;
      switches.reset();
      buckets.clear();
      perSecond = opts.perSecond ?? 1;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await closeServer(server, sockets);
    },
  };
}
