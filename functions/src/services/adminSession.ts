/** Who is calling the admin API with a Firebase session (the HTTP API's ID token or the callable's auth). */
import { AdminError } from "../domain/adminOps.js";
import { staffRolesFromClaims } from "../domain/roles.js";
import { sessionProblem } from "../domain/sessions.js";
import type { AdminAuthPort, Caller } from "./adminOps/types.js";

/**
 * The caller behind a verified ID token, once its session is known to be current: one Auth lookup, then the
 * strict same-second revocation rule (domain/sessions.ts). Used by both the HTTP API and the callable.
 */
export async function sessionCaller(auth: AdminAuthPort, uid: string, token: Record<string, unknown>, via: "idToken" | "callable"): Promise<Caller> {
  const problem = sessionProblem(token, await auth.getUser(uid));
  if (problem === "revoked") throw new AdminError("unauthenticated", "this session was revoked; sign in again");
  if (problem) throw new AdminError("unauthenticated", "this account cannot use the admin API (unknown or disabled user)");
  return { uid, roles: staffRolesFromClaims(token), via };
}
