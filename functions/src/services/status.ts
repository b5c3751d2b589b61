/** One view of opsync's health: what waits, what failed, and when each maintenance run last ran. */
import type { Firestore } from "firebase-admin/firestore";
import { jsonSafe } from "../domain/adminOps.js";
import { latestReconcileRun, readAutomation, readBackfillState, readSweepState, statusCounts } from "../store/opsState.js";

export async function opsStatus(db: Firestore): Promise<Record<string, unknown>> {
  const [counts, automation, backfill, sweep, reconcile] = await Promise.all([statusCounts(db), readAutomation(db), readBackfillState(db), readSweepState(db), latestReconcileRun(db)]);
  return jsonSafe({
    ...counts,
    automation,
    backfill: backfill ? { status: backfill.status, runId: backfill.runId, customers: backfill.customers, imported: backfill.imported, review: backfill.review, cursor: backfill.cursor, updatedAt: backfill.updatedAt } : null,
    eventSweep: sweep,
    reconcile: reconcile ? { runId: reconcile.runId, status: reconcile.status, drift: reconcile.drift, fixed: reconcile.fixed, finishedAt: reconcile.finishedAt } : null,
  }) as Record<string, unknown>;
}
