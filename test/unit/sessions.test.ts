import { describe, expect, it } from "vitest";
import { sessionProblem } from "../../functions/src/domain/sessions";

// Auth keeps tokensValidAfterTime in whole seconds: a revocation at 12:00:05.700 reads as 12:00:05.000.
const REVOKED_AT_MS = 1_750_000_005_000;
const SEC = REVOKED_AT_MS / 1000;
const user = (tokensValidAfterMs: number | null, disabled = false) => ({ tokensValidAfterMs, disabled });

describe("sessionProblem (strict, same-second revocation)", () => {
  it("a never-revoked user's token is current", () => {
    expect(sessionProblem({ iat: 1, auth_time: 1 }, user(null))).toBeNull();
  });

  it("a token minted in the same second as the revocation is revoked (Admin SDK's checkRevoked would accept it)", () => {
    expect(sessionProblem({ iat: SEC, auth_time: SEC }, user(REVOKED_AT_MS))).toBe("revoked");
    // Even if its sign-in was in that second and the token was refreshed a moment later in it.
    expect(sessionProblem({ iat: SEC, auth_time: SEC - 30 }, user(REVOKED_AT_MS))).toBe("revoked");
  });

  it("a token from before the revocation is revoked; one from a later sign-in is current", () => {
    expect(sessionProblem({ iat: SEC - 1, auth_time: SEC - 100 }, user(REVOKED_AT_MS))).toBe("revoked");
    expect(sessionProblem({ iat: SEC + 1, auth_time: SEC + 1 }, user(REVOKED_AT_MS))).toBeNull();
  });

  it("a token issued after the revocation but for a session that began at or before it is revoked", () => {
    expect(sessionProblem({ iat: SEC + 10, auth_time: SEC }, user(REVOKED_AT_MS))).toBe("revoked");
  });

  it("a token without iat or auth_time cannot prove it is newer: revoked", () => {
    expect(sessionProblem({ auth_time: SEC + 5 }, user(REVOKED_AT_MS))).toBe("revoked");
    expect(sessionProblem({ iat: "later", auth_time: SEC + 5 }, user(REVOKED_AT_MS))).toBe("revoked");
  });

  it("an unknown or disabled user has no session", () => {
    expect(sessionProblem({ iat: SEC + 5, auth_time: SEC + 5 }, null)).toBe("no_user");
    expect(sessionProblem({ iat: SEC + 5, auth_time: SEC + 5 }, user(null, true))).toBe("disabled");
  });

  it("tokensValidAfterTime set by the account's creation revokes nothing (a first sign-in in that second works)", () => {
    const created = { tokensValidAfterMs: REVOKED_AT_MS, createdAtMs: REVOKED_AT_MS + 400 };
    expect(sessionProblem({ iat: SEC, auth_time: SEC }, created)).toBeNull();
    // A later revocation counts again.
    expect(sessionProblem({ iat: SEC, auth_time: SEC }, { ...created, createdAtMs: REVOKED_AT_MS - 60_000 })).toBe("revoked");
  });
});
