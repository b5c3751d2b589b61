/** Admin operation `backfill`: dry run shows where an import would start; confirmed, it runs (resumable: call again). */
import { jsonSafe } from "../../domain/adminOps.js";
import { runBackfill } from "../backfill.js";
import { readBackfillState } from "../../store/opsState.js";
import type { Handler } from "./types.js";
import { auditEntry } from "./audit.js";
import { audit } from "../../store/audit.js";

export const backfillOp: Handler<"backfill"> = async ({ deps, caller, now }, input) => {
  const previous = await readBackfillState(deps.db);
  const resumes = Boolean(previous && previous.status !== "done" && previous.cursor && !input.restart);
  if (input.confirm !== true) {
    return {
      outcome: "dry_run",
      result: jsonSafe({ operation: "backfill", dryRun: true, previous, wouldResume: resumes, cursor: resumes ? (previous?.cursor ?? null) : null, noSync: input.noSync ?? false }) as Record<string, unknown>,
    };
  }
  const report = await runBackfill({ db: deps.db, stripe: deps.stripe, graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) }, { noSync: input.noSync ?? false, restart: input.restart ?? false });
  const after = { runId: report.runId, status: report.status, customers: report.customers, imported: report.imported, review: report.review, jobs: report.jobs };
  await audit(deps.db, auditEntry(caller, "backfill", { outcome: "applied", target: "ops/backfill", before: previous ? { runId: previous.runId, status: previous.status } : null, after, at: now }));
  return { outcome: "applied", result: jsonSafe({ operation: "backfill", dryRun: false, ...report }) as Record<string, unknown> };
};
