import { describe, expect, it } from "vitest";
import { addFailure, apiKeyIdOf, authFailureBuckets, clientAddress, failureRetryAfter } from "../../functions/src/domain/authFailures";

const LIMITS = { maxFailures: 2, windowMs: 60_000 };

describe("failed-authentication limit (pure)", () => {
  it("blocks a bucket after maxFailures in its window and says how long to wait; a new window opens it", () => {
    const t0 = Date.UTC(2025, 5, 1, 12, 0, 15);
    let w = addFailure(null, LIMITS, t0);
    expect(failureRetryAfter(w, LIMITS, t0)).toBeNull();
    w = addFailure(w, LIMITS, t0 + 1000);
    expect(failureRetryAfter(w, LIMITS, t0 + 1000)).toBe(44);
    expect(failureRetryAfter(w, LIMITS, Date.UTC(2025, 5, 1, 12, 1, 0))).toBeNull();
    expect(addFailure(w, LIMITS, Date.UTC(2025, 5, 1, 12, 1, 0))).toMatchObject({ count: 1 });
  });

  it("the client address is X-Forwarded-For's first hop, else the socket's; an overlong one is one bucket", () => {
    expect(clientAddress("203.0.113.7, 10.0.0.1", "10.0.0.2")).toBe("203.0.113.7");
    expect(clientAddress(undefined, "::1")).toBe("::1");
    expect(clientAddress(undefined, undefined)).toBeNull();
    expect(clientAddress("x".repeat(500), null)).toBe("invalid");
  });

  it("the key id is read from anything shaped opk_<16 hex>_…, else none", () => {
    expect(apiKeyIdOf("opk_0123456789abcdef_whatever")).toBe("0123456789abcdef");
    expect(apiKeyIdOf("opk_../../x_secret")).toBeNull();
    expect(apiKeyIdOf(undefined)).toBeNull();
    expect(authFailureBuckets({ addressHash: "ab12", apiKeyId: "0123456789abcdef" })).toEqual([
      "authFailure:ip:ab12",
      "authFailure:key:0123456789abcdef",
    ]);
  });
});
