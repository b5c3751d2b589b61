/** Admin operation `setRole`: grant or remove a staff role in the user's custom claims (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import { isDryRun } from "../../domain/adminOps.js";
import { staffRolesFromClaims } from "../../domain/roles.js";
import { auditEntry } from "./audit.js";
import { conflict, notFound } from "./errors.js";
import type { Handler } from "./types.js";
import { audit } from "../../store/audit.js";

/** Firebase Auth custom claims must stay under 1000 bytes of JSON. */
const MAX_CLAIMS_BYTES = 1000;

export const setRole: Handler<"setRole"> = async ({ deps, caller, now }, input) => {
  if (caller.uid === input.uid && input.role === "admin" && !input.enabled) {
    throw conflict("you cannot remove your own admin role; ask another admin");
  }
  const user = await deps.auth.getUser(input.uid);
  if (!user) throw notFound(`no Firebase user ${input.uid}`);
  const beforeRoles = staffRolesFromClaims(user.claims);
  const claims: Record<string, unknown> = { ...user.claims };
  if (input.enabled) claims[input.role] = true;
  else delete claims[input.role];
  const afterRoles = staffRolesFromClaims(claims);
  const changed = beforeRoles.includes(input.role) !== input.enabled;
  const revoke = changed && !input.enabled;
  const base = { uid: input.uid, role: input.role, enabled: input.enabled, before: { roles: beforeRoles }, after: { roles: afterRoles } };
  if (isDryRun("setRole", input)) {
    return { outcome: "dry_run", result: { operation: "setRole", dryRun: true, ...base, wouldChange: changed, wouldRevokeSessions: revoke } };
  }
  if (!changed) {
    return { outcome: "unchanged", result: { operation: "setRole", dryRun: false, ...base, changed: false, sessionsRevoked: false } };
  }
  if (JSON.stringify(claims).length > MAX_CLAIMS_BYTES) {
    throw conflict(`custom claims for ${input.uid} would exceed ${MAX_CLAIMS_BYTES} bytes`);
  }
  await deps.auth.setClaims(input.uid, claims);
  // A removed role must stop working now, not when the user's ID token next refreshes (up to an hour).
  if (revoke) await deps.auth.revokeSessions(input.uid);
  await audit(deps.db, 
    auditEntry(caller, "setRole", {
      outcome: "applied",
      target: `users/${input.uid}`,
      before: { roles: beforeRoles },
      after: { roles: afterRoles, sessionsRevoked: revoke },
      at: now,
    }),
  );
  return { outcome: "applied", result: { operation: "setRole", dryRun: false, ...base, changed: true, sessionsRevoked: revoke } };
};
