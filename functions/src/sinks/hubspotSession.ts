/**
 * The HubSpot client session shared by the CRM, tickets and setup code: a lazily built @hubspot/api-client with its
 * own retries off (the sync queue owns retries; in-memory limiters do not survive a function instance), a timeout on
 * every call, and one mapping of everything HubSpot answers onto TransientError / PermanentError.
 */
import { Client } from "@hubspot/api-client";
import { OpsyncError, PermanentError, TransientError } from "../domain/errors.js";
import { hubspotRateSignal, type RateSignal } from "../domain/budget.js";
import { parseRetryAfter } from "../domain/retry.js";

export interface HubspotConfig {
  accessToken: string;
  /** Defaults to https://api.hubapi.com; tests point it at a local server. */
  basePath?: string;
  /** The SDK has no request timeout of its own; a hung call would otherwise hold the queue worker. */
  timeoutMs?: number;
  /** Told what every answer's X-HubSpot-RateLimit-* headers say (the portal budget shared with tickets and other apps). */
  observeRate?: (signal: RateSignal | null) => void;
}

export const OBJECT_TYPES = ["contacts", "deals", "tickets"] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

const DEFAULT_TIMEOUT_MS = 20_000;

/** What the SDK's ApiException carries (and what `HubspotSession.request` throws): `code` is the HTTP status. */
export interface SdkHttpError {
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

class HttpStatusError extends Error implements SdkHttpError {
  constructor(
    readonly code: number,
    readonly body: unknown,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP ${code}`);
  }
}

/** One input of a batch answered 207 with an error instead of a result. */
export class BatchItemError extends Error {
  constructor(
    readonly category: string,
    readonly detail: string,
    readonly subCategory: string | null,
  ) {
    super(`batch item failed: ${category}`);
  }
}

export function isSdkHttpError(err: unknown): err is SdkHttpError {
  return err instanceof Error && "code" in err && typeof err.code === "number" && "headers" in err && typeof err.headers === "object" && err.headers !== null;
}

export function bodyField(body: unknown, field: string): string | null {
  if (typeof body !== "object" || body === null || !(field in body)) return null;
  const value: unknown = Reflect.get(body, field);
  return typeof value === "string" ? value : null;
}

/** Retry-After is seconds or an HTTP date; HubSpot's 10-second policy often omits it, so fall back to its window. */
function retryAfterMs(err: SdkHttpError): number | null {
  const fromHeader = parseRetryAfter(err.headers["retry-after"]?.trim(), Date.now());
  if (fromHeader !== null) return fromHeader;
  const policy = bodyField(err.body, "policyName");
  if (policy === "TEN_SECONDLY_ROLLING") return 10_000;
  if (policy === "SECONDLY") return 1_000;
  return null;
}

/**
 * A unique property already holds this value: two writers created the same new object at once (HubSpot does not
 * serialize them). A retry finds the object the other writer made, so this is transient. The duplicate-email 409
 * ("Existing ID: N") is not this: it is resolved by linking (see HubspotCrm).
 */
export function isUniqueValueConflict(status: number | null, category: string | null, message: string | null, subCategory: string | null): boolean {
  if (subCategory === "UNIQUE_VALUE_CONFLICT") return true;
  if (message === null || /Existing ID:/i.test(message)) return false;
  const aboutUnique = /unique/i.test(message) && /already (exists|has)/i.test(message);
  return aboutUnique && (status === 409 || status === 400 || category === "CONFLICT" || category === "VALIDATION_ERROR");
}

const RACE_NOTE = "unique value written concurrently; a retry finds it";

/** True for the TransientError toVendorError makes from a unique-value conflict. */
export function isRaceConflict(err: unknown): boolean {
  return err instanceof TransientError && err.message.endsWith(`(${RACE_NOTE})`);
}

const isTransientStatus = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * Maps anything the SDK throws to opsync's typed errors. Messages hold the operation, status and HubSpot's
 * category only: HubSpot's own message can echo property values (emails), and errors get logged.
 */
export function toVendorError(err: unknown, op: string): TransientError | PermanentError {
  if (err instanceof TransientError || err instanceof PermanentError) return err;
  if (isSdkHttpError(err)) {
    const vendorRequestId = err.headers["x-hubspot-correlation-id"] ?? bodyField(err.body, "correlationId");
    const category = bodyField(err.body, "category") ?? "unknown";
    const detail = { httpStatus: err.code, vendorRequestId };
    const message = `hubspot ${op} failed: HTTP ${err.code} ${category}`;
    if (isUniqueValueConflict(err.code, category, bodyField(err.body, "message"), bodyField(err.body, "subCategory"))) {
      return new TransientError(`${message} (${RACE_NOTE})`, 0, detail);
    }
    return isTransientStatus(err.code) ? new TransientError(message, retryAfterMs(err), detail) : new PermanentError(message, detail);
  }
  if (err instanceof BatchItemError) {
    if (isUniqueValueConflict(null, err.category, err.detail, err.subCategory)) {
      return new TransientError(`hubspot ${op} failed: ${err.message} (${RACE_NOTE})`, 0);
    }
    return new PermanentError(`hubspot ${op} failed: ${err.message}`);
  }
  if (err instanceof OpsyncError) return new PermanentError(`hubspot ${op} failed: ${err.name}`);
  // No HTTP status: connection refused/reset, DNS, an unparsable response. A retry may succeed.
  const name = err instanceof Error ? err.name : "unknown error";
  return new TransientError(`hubspot ${op} failed: ${name} (no response)`);
}

function withTimeout<T>(work: Promise<T>, ms: number, op: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError(`hubspot ${op} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Header lookup on whatever shape a response's headers come in (SDK context object, fetch Headers). */
function headerGetter(headers: unknown): (name: string) => string | null {
  if (typeof headers !== "object" || headers === null) return () => null;
  const get: unknown = Reflect.get(headers, "get");
  if (typeof get === "function") {
    return (name) => {
      const v: unknown = Reflect.apply(get, headers, [name]);
      return typeof v === "string" ? v : null;
    };
  }
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), typeof v === "string" ? v : null]));
  return (name) => lower.get(name) ?? null;
}

/** Owns the lazily built SDK client; `call` adds the timeout and the error mapping to every request. */
export class HubspotSession {
  private client: Client | null = null;

  constructor(private readonly config: HubspotConfig) {}

  async call<T>(op: string, fn: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(this.sdk()), this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS, op);
    } catch (err) {
      if (isSdkHttpError(err)) this.observe(err.headers);
      throw toVendorError(err, op);
    }
  }

  /** Reports an answer's X-HubSpot-RateLimit-* headers (every request: the SDK's `…WithHttpInfo` calls, raw requests, errors). */
  observe(headers: unknown): void {
    this.config.observeRate?.(hubspotRateSignal(headerGetter(headers)));
  }

  /** The data of an SDK `…WithHttpInfo` answer, its headers reported first. */
  seen<T>(info: { headers: unknown; data: T }): T {
    this.observe(info.headers);
    return info.data;
  }

  /** A raw JSON request for endpoints the SDK does not cover; non-2xx answers throw like the SDK's own calls. */
  request(op: string, method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    return this.call(op, async (c) => {
      const res = await c.apiRequest({ method, path, ...(body === undefined ? {} : { body }) });
      this.observe(res.headers);
      const text = await res.text();
      const parsed: unknown = text ? JSON.parse(text) : null;
      if (res.status < 200 || res.status >= 300) {
        const headers: Record<string, string> = {};
        res.headers.forEach((value, key) => (headers[key.toLowerCase()] = value));
        throw new HttpStatusError(res.status, parsed, headers);
      }
      return parsed;
    });
  }

  /** Built on first use, never at module load, so cold starts of functions that never sync stay cheap. */
  private sdk(): Client {
    if (!this.client) {
      const { accessToken, basePath } = this.config;
      // No config-level middleware for the headers: SDK 13.x ignores it; callers use `…WithHttpInfo` + seen().
      this.client = new Client({ accessToken, numberOfApiCallRetries: 0, ...(basePath ? { basePath } : {}) });
    }
    return this.client;
  }
}
