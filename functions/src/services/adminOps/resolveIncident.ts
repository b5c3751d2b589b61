/**
 * Admin operation `resolveIncident`: closes an open incident by hand with a note (one Slack notice, audited). Dry run
 * unless `confirm: true`: it says what stays as it is (the jobs). The auth pause is not resolved here: it lifts with
 * its sink (resumeSink, or a replaced credential), or the sink would stay paused under a resolved alert.
 */
import { AdminError, jsonSafe } from "../../domain/adminOps.js";
import { isAuthAlert } from "../../domain/incidentOps.js";
import { DEFAULT_NOTICE_SETTINGS } from "../../domain/notices.js";
import { readIncident, resolveIncidentByHand } from "../../store/incidents.js";
import { COL } from "../../store/paths.js";
import { auditEntry } from "./audit.js";
import type { Handler } from "./types.js";

const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

export const resolveIncidentOp: Handler<"resolveIncident"> = async ({ deps, caller, now }, input) => {
  const target = `${COL.alerts}/${input.incidentId}`;
  const current = await readIncident(deps.db, input.incidentId);
  if (!current) throw new AdminError("not-found", `no incident ${target}`);
  if (current.status !== "open") throw new AdminError("failed-precondition", `incident ${input.incidentId} is already ${String(current.status)}`);
  if (isAuthAlert(input.incidentId)) {
    throw new AdminError("failed-precondition", `${input.incidentId} closes when its sink resumes: fix the credential, then call resumeSink (it resolves this alert)`);
  }
  const summary = { incidentId: input.incidentId, title: current.title ?? null, owner: current.owner ?? null, jobCount: current.jobCount ?? null, deadJobs: count(current.deadJobIds), affectedCount: current.affectedCount ?? null };
  if (input.confirm !== true) {
    return {
      outcome: "dry_run",
      result: jsonSafe({
        operation: "resolveIncident",
        dryRun: true,
        incident: summary,
        note: input.note,
        effect: `the incident would be resolved with your note and announced once in Slack; its jobs stay as they are (${summary.deadJobs} dead job(s) stay dead: retry them with retryJob). A new failure of the same cause opens it again.`,
      }) as Record<string, unknown>,
    };
  }
  const change = await resolveIncidentByHand(deps.db, input.incidentId, { by: caller.uid, note: input.note }, now, deps.notices ?? DEFAULT_NOTICE_SETTINGS, (before, after) =>
    auditEntry(caller, "resolveIncident", { outcome: "applied", target, before, after, at: now }),
  );
  if (!change.ok) throw new AdminError("failed-precondition", `incident ${input.incidentId} changed meanwhile (${change.reason}); read it again`);
  return { outcome: "applied", result: jsonSafe({ operation: "resolveIncident", dryRun: false, incident: summary, before: change.before, after: change.after }) as Record<string, unknown> };
};
