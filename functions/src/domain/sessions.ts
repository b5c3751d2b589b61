/**
 * When a verified Firebase ID token still speaks for its user. Removing a staff role revokes the user's sessions
 * (`revokeRefreshTokens`), which sets the user's `tokensValidAfterTime` to the current **whole second**. The Admin
 * SDK's own check (`checkRevoked`) refuses only `auth_time < validSince`, so a token minted in the same second as
 * the revocation keeps working for up to an hour. opsync is strict: a token whose `iat` or `auth_time` is at or
 * before the revocation second is refused. The cost: a session begun in that very second (a sign-in right after
 * a revocation or a password change) is refused too, and the user signs in again.
 *
 * Auth also sets tokensValidAfterTime when it creates the account. No session can predate the account, so a
 * tokensValidAfterTime in the creation second revokes nothing (else a user's first sign-in in the second the
 * account was made would be refused). Pure: no I/O.
 */

/** The claims of a verified ID token that date it (seconds since the epoch). */
export interface TokenTimes {
  iat?: unknown;
  auth_time?: unknown;
}

export type SessionProblem = "no_user" | "disabled" | "revoked";

/** Why the token no longer speaks for the user, or null when it does. */
export function sessionProblem(
  token: TokenTimes,
  user: { disabled?: boolean; tokensValidAfterMs: number | null; createdAtMs?: number | null } | null,
): SessionProblem | null {
  if (!user) return "no_user";
  if (user.disabled === true) return "disabled";
  if (user.tokensValidAfterMs === null) return null;
  const validAfterSec = Math.floor(user.tokensValidAfterMs / 1000);
  if (typeof user.createdAtMs === "number" && Math.floor(user.createdAtMs / 1000) === validAfterSec) return null;
  const issued = typeof token.iat === "number" ? token.iat : null;
  const authTime = typeof token.auth_time === "number" ? token.auth_time : null;
  // A token that cannot show it is newer than the revocation is treated as older.
  if (issued === null || authTime === null) return "revoked";
  return issued <= validAfterSec || authTime <= validAfterSec ? "revoked" : null;
}
