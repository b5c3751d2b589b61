/**
 * What a console read operation needs from the admin dispatcher (services/admin.ts): the database, the caller's
 * roles and the request's time. Structural, so these files import nothing from the dispatcher.
 */
import type { Firestore } from "firebase-admin/firestore";
import type { StaffRole } from "../../domain/roles.js";

export interface ReadCtx {
  deps: { db: Firestore };
  caller: { uid: string; roles: StaffRole[] };
  now: Date;
}

/** Reads are answered, never audited (only a refused attempt is, by the dispatcher). */
export interface ReadAnswer {
  outcome: "read";
  result: Record<string, unknown>;
}
