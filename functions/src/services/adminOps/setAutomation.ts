/** Admin operation `setAutomation`: the kill switch `ops/automation` (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import { isDryRun, jsonSafe } from "../../domain/adminOps.js";
import { countJobsInStatuses, readAutomationDoc } from "../../store/adminReads.js";
import { setAutomationPaused } from "../../store/jobQueue.js";
import { AUTOMATION_DOC } from "../../store/paths.js";
import { auditEntry } from "./audit.js";
import type { AdminResult, Handler } from "./types.js";
import { audit } from "../../store/audit.js";

export const setAutomation: Handler<"setAutomation"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const current = await readAutomationDoc(db);
  const before = { paused: current.paused === true, reason: current.reason ?? null, by: current.by ?? null, at: current.at ?? null };
  const after = { paused: input.paused, reason: input.reason ?? null };
  if (isDryRun("setAutomation", input)) {
    // Pausing holds every job still to run; resuming re-queues the paused ones.
    const jobsAffected = await countJobsInStatuses(db, input.paused ? ["pending", "retrying", "running"] : ["paused"]);
    return {
      outcome: "dry_run",
      result: jsonSafe({
        operation: "setAutomation",
        dryRun: true,
        before,
        after,
        jobsAffected,
        effect: input.paused
          ? `no sink will be called; ${jobsAffected} job(s) waiting to run would be held as paused`
          : `${jobsAffected} paused job(s) would be re-queued (by onAutomationWritten; no order is promised)`,
      }) as AdminResult,
    };
  }
  // Resuming only writes the switch: onAutomationWritten is the one place that re-queues paused jobs (a console
  // edit of ops/automation takes the same path), each job once, never a finished one.
  await setAutomationPaused(db, input.paused, { by: caller.uid, reason: input.reason ?? null }, now, deps.notices);
  const pausedJobs = input.paused ? 0 : await countJobsInStatuses(db, ["paused"]);
  await audit(db, 
    auditEntry(caller, "setAutomation", {
      outcome: "applied",
      target: AUTOMATION_DOC,
      before: { paused: before.paused, reason: before.reason },
      after: { ...after, pausedJobs },
      at: now,
    }),
  );
  return { outcome: "applied", result: jsonSafe({ operation: "setAutomation", dryRun: false, before, after, pausedJobs }) as AdminResult };
};
