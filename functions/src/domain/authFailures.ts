/**
 * The limit on failed admin authentication: fixed windows counted per client address and per API key id, so a
 * caller guessing keys or replaying bad tokens is stopped (429) before opsync spends a Firestore read or a token
 * verification on them. Pure: the counting lives in services/adminAuthGuard.ts (memory) and store/rateLimits.ts.
 */
export interface AuthFailureLimits {
  /** Failures allowed per bucket and window; the next request from that bucket is refused. */
  maxFailures: number;
  windowMs: number;
}

export interface FailureWindow {
  windowStartMs: number;
  count: number;
}

export function windowStart(nowMs: number, limits: AuthFailureLimits): number {
  return Math.floor(nowMs / limits.windowMs) * limits.windowMs;
}

/** Seconds until the bucket may try again, or null when it may try now. */
export function failureRetryAfter(current: FailureWindow | null | undefined, limits: AuthFailureLimits, nowMs: number): number | null {
  const start = windowStart(nowMs, limits);
  if (!current || current.windowStartMs !== start || current.count < limits.maxFailures) return null;
  return Math.max(1, Math.ceil((start + limits.windowMs - nowMs) / 1000));
}

/** The window after one more failure. */
export function addFailure(current: FailureWindow | null | undefined, limits: AuthFailureLimits, nowMs: number, by = 1): FailureWindow {
  const start = windowStart(nowMs, limits);
  return { windowStartMs: start, count: (current && current.windowStartMs === start ? current.count : 0) + by };
}

/** The client address: the first hop of X-Forwarded-For when present, else the socket's address. */
export function clientAddress(forwardedFor: string | undefined, remoteAddress: string | null | undefined): string | null {
  const first = forwardedFor?.split(",")[0]?.trim();
  const address = first || remoteAddress?.trim() || null;
  // An address is short; anything else is a forged header and counts as one "unknown" bucket.
  return address && address.length <= 64 ? address : address ? "invalid" : null;
}

/** The keyId of something that looks like an API key (`opk_<keyId>_…`), even when the rest is malformed. */
export function apiKeyIdOf(presented: string | undefined): string | null {
  return /^\s*opk_([0-9a-f]{16})_/.exec(presented ?? "")?.[1] ?? null;
}

/**
 * Bucket ids (also `rateLimits/{id}` document ids). The address arrives hashed (`addressHash`, hex): it is personal
 * data, and a forged header must not choose a document path.
 */
export function authFailureBuckets(input: { addressHash: string | null; apiKeyId: string | null }): string[] {
  const buckets: string[] = [];
  if (input.addressHash) buckets.push(`authFailure:ip:${input.addressHash}`);
  if (input.apiKeyId) buckets.push(`authFailure:key:${input.apiKeyId}`);
  return buckets;
}
