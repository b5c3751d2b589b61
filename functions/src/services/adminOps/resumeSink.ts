/** Admin operation `resumeSink`: lift a sink's auth pause and re-queue its jobs (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import { isDryRun, jsonSafe } from "../../domain/adminOps.js";
import { readSinkAuthPause } from "../../store/adminReads.js";
import { clearSinkAuthPause, requeuePausedJobs } from "../../store/jobQueue.js";
import { COL } from "../../store/paths.js";
import { actorOf, auditEntry } from "./audit.js";
import type { AdminResult, Handler } from "./types.js";
import { audit } from "../../store/audit.js";

export const resumeSink: Handler<"resumeSink"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const pause = await readSinkAuthPause(db, input.sink);
  if (isDryRun("resumeSink", input)) {
    return {
      outcome: "dry_run",
      result: jsonSafe({
        operation: "resumeSink",
        dryRun: true,
        sink: input.sink,
        pausedForAuth: pause,
        effect: pause ? `the ${input.sink} sink would run again; its paused jobs would be re-queued` : `the ${input.sink} sink is not paused; nothing would change`,
      }) as AdminResult,
    };
  }
  const cleared = await clearSinkAuthPause(db, input.sink, actorOf(caller), now, deps.notices);
  // Re-queue even when it was not paused (a credential change lifted it meanwhile): preconditions make this idempotent.
  const requeued = await requeuePausedJobs(db, now, { sink: input.sink });
  const after = { pausedForAuth: null, requeued };
  await audit(db, 
    auditEntry(caller, "resumeSink", { outcome: "applied", target: `${COL.sinkState}/${input.sink}`, before: { pausedForAuth: pause }, after, at: now }),
  );
  return {
    outcome: cleared.wasPaused || requeued > 0 ? "applied" : "unchanged",
    result: jsonSafe({ operation: "resumeSink", dryRun: false, sink: input.sink, wasPaused: cleared.wasPaused, requeued }) as AdminResult,
  };
};
