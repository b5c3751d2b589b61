import { describe, expect, it } from "vitest";
import { PermanentError, TransientError } from "../../functions/src/domain/errors";
import { backoffMs, decideFailure, parseRetryAfter } from "../../functions/src/domain/retry";

const policy = { baseMs: 1000, maxMs: 8000, maxAttempts: 5 };

describe("retry policy", () => {
  it("backs off exponentially with full jitter, capped", () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, policy, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(backoffMs(3, policy, () => 0)).toBe(0);
    expect(backoffMs(3, policy, () => 0.5)).toBe(2000);
  });
  it("retries transient errors, honouring Retry-After when it is longer than the backoff", () => {
    const d = decideFailure(new TransientError("429", 30_000, { httpStatus: 429, vendorRequestId: "req_1" }), 1, policy, () => 1);
    // A 429 does not count against SYNC_MAX_ATTEMPTS: the vendor asked us to wait, the job did nothing wrong.
    expect(d).toEqual({ kind: "retry", delayMs: 30_000, countsAttempt: false, error: { message: "429", httpStatus: 429, vendorRequestId: "req_1", kind: "transient" } });
    expect(decideFailure(new TransientError("503", 10), 2, policy, () => 1)).toMatchObject({ kind: "retry", delayMs: 2000 });
  });
  it("never retries permanent errors", () => {
    expect(decideFailure(new PermanentError("bad", { httpStatus: 400 }), 1, policy, () => 1)).toMatchObject({ kind: "dead", reason: "permanent" });
  });
  it("gives up after max attempts", () => {
    expect(decideFailure(new TransientError("503"), 5, policy, () => 1)).toMatchObject({ kind: "dead", reason: "max_attempts" });
  });
  it("never lets a 429 make a job dead, even on the last attempt", () => {
    expect(decideFailure(new TransientError("429", 1000, { httpStatus: 429 }), 5, policy, () => 1)).toMatchObject({ kind: "retry", countsAttempt: false });
  });
  it("a refused credential (401/403) pauses the sink instead of killing the job", () => {
    expect(decideFailure(new PermanentError("401", { httpStatus: 401 }), 1, policy, () => 1)).toMatchObject({ kind: "pause_sink" });
    expect(decideFailure(new PermanentError("403", { httpStatus: 403 }), 5, policy, () => 1)).toMatchObject({ kind: "pause_sink" });
  });
  it("treats unknown errors as transient (bounded by max attempts) and keeps their message", () => {
    expect(decideFailure(new Error("boom"), 1, policy, () => 1)).toMatchObject({ kind: "retry", error: { message: "Error: boom" } });
  });
  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("2", 0)).toBe(2000);
    expect(parseRetryAfter("0.5", 0)).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("", 0)).toBeNull();
    expect(parseRetryAfter(null, 0)).toBeNull();
    expect(parseRetryAfter("soon", 0)).toBeNull();
  });
});
