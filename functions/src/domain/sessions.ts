/**
 * When a verified Firebase ID token still speaks for its user. Removing a staff role revokes the user's sessions
 * (`revokeRefreshTokens`), which sets the user's `tokensValidAfterTime` to the current **whole second**. The Admin
 * SDK's own check (`checkRevoked`) refuses only `auth_time < validSince`, so a token minted in the same second as
 * the revocation keeps working for up to an hour. opsync is strict: a token whose `iat` or `auth_time` is at or
 * before the revocation second is refused. The cost: a user who signs in again within that same second is asked
 * once more. Pure: no I/O.
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
  user: { disabled?: boolean; tokensValidAfterMs: number | null } | null,
): SessionProblem | null {
  if (!user) return "no_user";
  if (user.disabled === true) return "disabled";
  if (user.tokensValidAfterMs === null) return null;
  const validAfterSec = Math.floor(user.tokensValidAfterMs / 1000);
  const issued = typeof token.iat === "number" ? token.iat : null;
  const authTime = typeof token.auth_time === "number" ? token.auth_time : null;
  // A token that cannot show it is newer than the revocation is treated as older.
  if (issued === null || authTime === null) return "revoked";
  return issued <= validAfterSec || authTime <= validAfterSec ? "revoked" : null;
}
