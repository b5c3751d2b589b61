/**
 * Failed-authentication limit for the admin HTTP API. First line: an in-memory count per function instance, which
 * refuses a blocked address or key id without any I/O. Behind it: every failure is also counted in Firestore
 * (`rateLimits/authFailure:…`), so the limit holds across instances; an instance that has not yet seen a blocked
 * bucket learns of it from the count its first failure returns.
 */
import type { Firestore } from "firebase-admin/firestore";
import { addFailure, failureRetryAfter, windowStart, type AuthFailureLimits, type FailureWindow } from "../domain/authFailures.js";
import { countInWindow } from "../store/rateLimits.js";

/** Enough buckets for an attack from many addresses without letting memory grow without bound. */
const MAX_BUCKETS = 10_000;

export class AuthFailureGuard {
  private readonly windows = new Map<string, FailureWindow>();

  constructor(readonly limits: AuthFailureLimits) {}

  /** Seconds to wait when any bucket is blocked (as far as this instance knows), else null. */
  retryAfter(buckets: readonly string[], nowMs: number): number | null {
    const waits = buckets.map((b) => failureRetryAfter(this.windows.get(b), this.limits, nowMs)).filter((w): w is number => w !== null);
    return waits.length ? Math.max(...waits) : null;
  }

  /**
   * Counts one failure for each bucket, here and in Firestore. Resolves to the seconds to wait when a bucket is
   * now over its limit (the failure that crossed it is still answered as a failure), else null.
   */
  async recordFailure(db: Firestore, buckets: readonly string[], nowMs: number): Promise<number | null> {
    const start = windowStart(nowMs, this.limits);
    await Promise.all(
      buckets.map(async (bucket) => {
        const local = addFailure(this.windows.get(bucket), this.limits, nowMs);
        const global = await countInWindow(db, bucket, start, this.limits.windowMs);
        this.remember(bucket, { windowStartMs: start, count: Math.max(local.count, global) });
      }),
    );
    const over = buckets.some((b) => (this.windows.get(b)?.count ?? 0) > this.limits.maxFailures);
    return over ? this.retryAfter(buckets, nowMs) : null;
  }

  private remember(bucket: string, window: FailureWindow): void {
    this.windows.delete(bucket);
    this.windows.set(bucket, window);
    // Map keeps insertion order: drop the least recently counted bucket.
    if (this.windows.size > MAX_BUCKETS) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
  }
}

let instanceGuard: AuthFailureGuard | null = null;

/** The one guard of this function instance (rebuilt if the configured limits change). */
export function instanceAuthFailureGuard(limits: AuthFailureLimits): AuthFailureGuard {
  if (!instanceGuard || instanceGuard.limits.maxFailures !== limits.maxFailures || instanceGuard.limits.windowMs !== limits.windowMs) {
    instanceGuard = new AuthFailureGuard(limits);
  }
  return instanceGuard;
}
