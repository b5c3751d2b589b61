/**
 * Retry policy for sync jobs: exponential backoff with full jitter, a server's Retry-After always honoured,
 * permanent errors never retried, and a bounded number of attempts. Pure; clock and randomness are injected.
 */
import { PermanentError, TransientError } from "./errors.js";

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 2_000, maxMs: 15 * 60_000, maxAttempts: 5 };

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base·2^(attempt-1))]. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

export interface JobErrorInfo {
  message: string;
  httpStatus: number | null;
  vendorRequestId: string | null;
  kind: "transient" | "permanent";
}

/**
 * `countsAttempt: false` (a 429): the vendor asked us to wait, the job did nothing wrong, so the attempt is given
 * back and a rate limit alone can never make a job dead. `pause_sink`: the vendor refused our credentials (401/403);
 * every job of that sink would fail the same way, so the sink waits for a person instead of burning attempts.
 */
export type FailureDecision =
  | { kind: "retry"; delayMs: number; error: JobErrorInfo; countsAttempt: boolean }
  | { kind: "dead"; reason: "permanent" | "max_attempts"; error: JobErrorInfo }
  | { kind: "pause_sink"; error: JobErrorInfo };

export function describeError(error: unknown): JobErrorInfo {
  if (error instanceof PermanentError) {
    return { message: error.message, httpStatus: error.httpStatus, vendorRequestId: error.vendorRequestId, kind: "permanent" };
  }
  if (error instanceof TransientError) {
    return { message: error.message, httpStatus: error.httpStatus, vendorRequestId: error.vendorRequestId, kind: "transient" };
  }
  // Unknown errors (bugs, SDK surprises) are retried: bounded by maxAttempts, and visible in lastError.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { message: message.slice(0, 500), httpStatus: null, vendorRequestId: null, kind: "transient" };
}

/** A vendor's answer that says "these credentials are not accepted" (revoked token, missing scope). */
export function isAuthFailure(error: unknown): boolean {
  return (error instanceof PermanentError || error instanceof TransientError) && (error.httpStatus === 401 || error.httpStatus === 403);
}

/** What to do after attempt number `attempt` (1-based) failed with `error`. */
export function decideFailure(error: unknown, attempt: number, policy: RetryPolicy, random: () => number): FailureDecision {
  const info = describeError(error);
  if (isAuthFailure(error)) return { kind: "pause_sink", error: info };
  if (info.kind === "permanent") return { kind: "dead", reason: "permanent", error: info };
  const retryAfter = error instanceof TransientError ? (error.retryAfterMs ?? 0) : 0;
  const delayMs = Math.max(retryAfter, backoffMs(attempt, policy, random));
  if (info.httpStatus === 429) return { kind: "retry", delayMs, error: info, countsAttempt: false };
  if (attempt >= policy.maxAttempts) return { kind: "dead", reason: "max_attempts", error: info };
  return { kind: "retry", delayMs, error: info, countsAttempt: true };
}

/** `Retry-After` is seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (!value || value.trim() === "") return null;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
