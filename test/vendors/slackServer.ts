/**
 * A local stand-in for Slack incoming webhooks: `POST /services/T.../B.../XXXX` with JSON `{text}` answers
 * 200 `ok` (text/plain). Errors are text/plain too, like Slack's: 400 `invalid_payload` (bad JSON or no
 * text; real Slack says `no_text` for the latter), 404 `no_service` (unknown webhook), 429 `rate_limited`
 * with Retry-After when a webhook gets more than `perSecond` messages in a sliding second (Slack: about one
 * per second per webhook). Fault switches as in the Zendesk server. Every response carries `x-slack-req-id`.
 *
 * Listens on 127.0.0.1 on a random port. Only for tests and local demos.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listenLocal, trackConnections } from "./lifecycle";

export interface SlackServerOptions {
  /** Webhook paths that exist. Default: ["/services/T000/B000/XXXX"]. */
  webhookPaths?: string[];
  /** Messages admitted per webhook per sliding second before 429. Default 1; Infinity disables. */
  perSecond?: number;
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
  let latencyMs = 0;
  let down = false;
  let faults: { status: number; opts: SlackFailOptions }[] = [];
  const admitted = new Map<string, number[]>();
  const requests: SlackRecordedRequest[] = [];
  const messages: SlackMessage[] = [];
  const timers = new Set<NodeJS.Timeout>();

  function rateLimited(path: string): Reply | null {
    const t = now();
    const window = (admitted.get(path) ?? []).filter((x) => t - x < 1000);
    if (window.length >= perSecond) {
      admitted.set(path, window);
      const oldest = window[0] ?? t;
      return { status: 429, body: "rate_limited", headers: { "retry-after": String(Math.max(1, Math.ceil((oldest + 1000 - t) / 1000))) } };
    }
    window.push(t);
    admitted.set(path, window);
    return null;
  }

  function handle(rec: SlackRecordedRequest): Reply {
    const fault = faults[0];
    if (fault) {
      faults = faults.slice(1);
      const headers: Record<string, string> = {};
      if (fault.opts.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.opts.retryAfterSeconds);
      const body = fault.opts.body ?? (fault.status === 429 ? "rate_limited" : fault.status >= 500 ? "internal_error" : "invalid_payload");
      return { status: fault.status, body, headers };
    }
    if (!paths.includes(rec.path)) return { status: 404, body: "no_service" };
    if (rec.method !== "POST") return { status: 405, body: "invalid_method" };
    let payload: unknown;
    try {
      payload = JSON.parse(rec.rawBody) as unknown;
    } catch {
      return { status: 400, body: "invalid_payload" };
    }
    if (!isRecord(payload) || typeof payload.text !== "string" || payload.text.trim() === "") {
      return { status: 400, body: "invalid_payload" };
    }
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
    if (down) {
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
      requests.push(rec);
      const run = () => {
        if (down) {
          req.socket.destroy();
          return;
        }
        send(res, rec, handle(rec));
      };
      if (latencyMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          run();
        }, latencyMs);
        timers.add(timer);
      } else run();
    });
  });
  const sockets = trackConnections(server, () => down);
  const port = await listenLocal(server, opts.port ?? 0);
  const baseUrl = `http://127.0.0.1:${port}`;
  const first = paths[0] ?? DEFAULT_PATH;

  return {
    url: `${baseUrl}${first}`,
    baseUrl,
    urlFor: (path) => `${baseUrl}${path}`,
    requests,
    messages: () => messages.map((m) => ({ ...m })),
    failNext(n, status, failOpts = {}) {
      for (let i = 0; i < n; i++) faults.push({ status, opts: failOpts });
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    setDown(value) {
      down = value;
      if (value) for (const s of sockets) s.destroy();
    },
    setRateLimit(value) {
      perSecond = value;
      admitted.clear();
    },
    reset() {
      requests.length = 0;
      messages.length = 0;
      faults = [];
      admitted.clear();
      latencyMs = 0;
      down = false;
      perSecond = opts.perSecond ?? 1;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await closeServer(server, sockets);
    },
  };
}
