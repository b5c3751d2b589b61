/**
 * Failure switches shared by the local vendor stand-ins (HubSpot, Zendesk, Slack), reachable in-process (tests) and
 * over HTTP at `/__control` on each stand-in's own port, so a developer can break a vendor while `npm start` runs:
 *
 *   curl -X POST localhost:4610/__control -d '{"failNext":3,"status":503}'
 *
 * The body is validated strictly (unknown fields answer 400) because a typo that silently did nothing would make a
 * developer believe opsync survived a failure it never saw. docs/local-vendors.md documents every field.
 */
import { z } from "zod";

export const controlBodySchema = z
  .strictObject({
    /** "down": the API resets connections (HubSpot answers 503); `/__control` keeps answering so it can be undone. */
    mode: z.enum(["up", "down"]).optional(),
    /** The next N API requests answer `status` (with `retryAfterSeconds` as Retry-After when given). */
    failNext: z.number().int().min(0).max(1000).optional(),
    status: z.number().int().min(400).max(599).optional(),
    retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
    /** Added before every API request is handled. */
    latencyMs: z.number().int().min(0).max(120_000).optional(),
    /** Every API request answers 429 with this Retry-After until that many seconds have passed; null lifts it. */
    rateLimit: z.strictObject({ retryAfterSeconds: z.number().int().min(1).max(3600) }).nullable().optional(),
    /** "revoked": every API request answers 401, as after a token was rotated or an app uninstalled. */
    auth: z.enum(["ok", "revoked"]).optional(),
    /** Clears every switch (data stays). Applied before the other fields of the same body. */
    reset: z.literal(true).optional(),
  })
  .refine((b) => (b.failNext === undefined) === (b.status === undefined), { message: "failNext and status go together" })
  .refine((b) => b.retryAfterSeconds === undefined || b.failNext !== undefined, { message: "retryAfterSeconds needs failNext" });

export type ControlBody = z.infer<typeof controlBodySchema>;

export interface Fault {
  status: number;
  retryAfterSeconds?: number;
  /** Only requests whose path contains this take the failure. */
  pathIncludes?: string;
  /** Only requests with this method take the failure. */
  method?: string;
  /** Vendor-shaped body for the failure (each stand-in has its default). */
  body?: unknown;
}

export interface ControlState {
  mode: "up" | "down";
  pendingFailures: Array<{ status: number; retryAfterSeconds: number | null }>;
  latencyMs: number;
  rateLimit: { retryAfterSeconds: number; until: string } | null;
  auth: "ok" | "revoked";
}

export class Switches {
  down = false;
  latencyMs = 0;
  authRevoked = false;
  private faults: Fault[] = [];
  private forced: { retryAfterSeconds: number; until: number } | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  failNext(n: number, fault: Fault): void {
    for (let i = 0; i < n; i++) this.faults.push({ ...fault });
  }

  /** Removes and returns the first queued failure that matches this request. */
  takeFault(method: string, path: string): Fault | null {
    const index = this.faults.findIndex(
      (f) => (!f.method || f.method.toUpperCase() === method.toUpperCase()) && (!f.pathIncludes || path.includes(f.pathIncludes)),
    );
    const fault = this.faults[index];
    if (!fault) return null;
    this.faults.splice(index, 1);
    return fault;
  }

  /** The forced 429's Retry-After in seconds (counting down), or null when not rate limited. */
  forcedRateLimit(): number | null {
    if (!this.forced) return null;
    const left = this.forced.until - this.now();
    if (left <= 0) {
      this.forced = null;
      return null;
    }
    return Math.max(1, Math.ceil(left / 1000));
  }

  reset(): void {
    this.down = false;
    this.latencyMs = 0;
    this.authRevoked = false;
    this.faults = [];
    this.forced = null;
  }

  apply(body: ControlBody): void {
    if (body.reset) this.reset();
    if (body.mode) this.down = body.mode === "down";
    if (body.failNext !== undefined && body.status !== undefined) {
      this.failNext(body.failNext, { status: body.status, ...(body.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: body.retryAfterSeconds }) });
    }
    if (body.latencyMs !== undefined) this.latencyMs = body.latencyMs;
    if (body.rateLimit !== undefined) {
      this.forced = body.rateLimit === null ? null : { retryAfterSeconds: body.rateLimit.retryAfterSeconds, until: this.now() + body.rateLimit.retryAfterSeconds * 1000 };
    }
    if (body.auth) this.authRevoked = body.auth === "revoked";
  }

  state(): ControlState {
    const left = this.forcedRateLimit();
    return {
      mode: this.down ? "down" : "up",
      pendingFailures: this.faults.map((f) => ({ status: f.status, retryAfterSeconds: f.retryAfterSeconds ?? null })),
      latencyMs: this.latencyMs,
      rateLimit: left === null || !this.forced ? null : { retryAfterSeconds: left, until: new Date(this.forced.until).toISOString() },
      auth: this.authRevoked ? "revoked" : "ok",
    };
  }
}

export const CONTROL_PATH = "/__control";

/** Answers `GET|POST /__control`: the current switches as JSON, after applying a POSTed body. */
export function controlReply(switches: Switches, method: string, rawBody: string): { status: number; body: unknown } {
  if (method === "GET") return { status: 200, body: switches.state() };
  if (method !== "POST") return { status: 405, body: { error: "use GET or POST" } };
  let json: unknown;
  try {
    json = rawBody.trim() === "" ? {} : JSON.parse(rawBody);
  } catch {
    return { status: 400, body: { error: "body is not JSON" } };
  }
  const parsed = controlBodySchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
    return { status: 400, body: { error: "invalid control body", issues } };
  }
  switches.apply(parsed.data);
  return { status: 200, body: switches.state() };
}
