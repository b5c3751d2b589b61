/** An admin API audit entry (store/audit.ts's one shape): the caller (roles, how they authenticated), the operation, what changed. */
import type { AdminOperation } from "../../domain/adminOps.js";
import type { StaffRole } from "../../domain/roles.js";
import type { AuditEntry } from "../../store/audit.js";
import type { Caller, CallerVia } from "./types.js";

export interface AuditActor {
  type: "user" | "apiKey" | "cli";
  id: string;
  roles: StaffRole[];
  via: CallerVia;
  keyId?: string;
}

export function actorOf(caller: Caller): AuditActor {
  return {
    type: caller.via === "apiKey" ? "apiKey" : caller.via === "cli" ? "cli" : "user",
    id: caller.uid,
    roles: [...caller.roles],
    via: caller.via,
    ...(caller.keyId ? { keyId: caller.keyId } : {}),
  };
}

export function auditEntry(
  caller: Caller,
  operation: AdminOperation,
  e: { outcome: "applied" | "denied"; target: string | null; before: unknown; after: unknown; detail?: Record<string, unknown>; at: Date },
): AuditEntry {
  return {
    actor: actorOf(caller),
    action: `admin.${operation}`,
    outcome: e.outcome,
    target: e.target,
    before: e.before ?? null,
    after: e.after ?? null,
    ...(e.detail ? { detail: e.detail } : {}),
    cause: { type: "manual" },
    at: e.at,
  };
}
