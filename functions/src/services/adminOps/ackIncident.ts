/** Admin operation `ackIncident`: a person owns an open incident now (who, when, an optional note). Audited. */
import { AdminError, jsonSafe } from "../../domain/adminOps.js";
import { acknowledgeIncident } from "../../store/incidents.js";
import { COL } from "../../store/paths.js";
import { auditEntry } from "./audit.js";
import type { Handler } from "./types.js";

export const ackIncidentOp: Handler<"ackIncident"> = async ({ deps, caller, now }, input) => {
  const target = `${COL.alerts}/${input.incidentId}`;
  const change = await acknowledgeIncident(deps.db, input.incidentId, { by: caller.uid, note: input.note ?? null }, now, (before, after) =>
    auditEntry(caller, "ackIncident", { outcome: "applied", target, before, after, at: now }),
  );
  if (!change.ok && change.reason === "missing") throw new AdminError("not-found", `no incident ${COL.alerts}/${input.incidentId}`);
  if (!change.ok) throw new AdminError("failed-precondition", `incident ${input.incidentId} is already resolved`);
  return { outcome: "applied", result: jsonSafe({ operation: "ackIncident", incidentId: input.incidentId, before: change.before, after: change.after }) as Record<string, unknown> };
};
