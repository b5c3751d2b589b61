/**
 * Getting waiting jobs to a worker: dispatch a job that became `pending` for its time, re-dispatch overdue jobs and
 * expired leases every minute, and re-queue paused jobs when the kill switch is turned off (the one place that does).
 */
import { dispatchDelayMs } from "../domain/queuePolicy.js";
import { fromFirestore } from "../store/db.js";
import { findDueJobs, requeuePausedJobs } from "../store/jobQueue.js";
import { ensureDefaultApp, getDb } from "./runtime.js";
import { cloudTasksDispatcher } from "./taskDispatcher.js";

/** A coalesced job waits its settle delay: one task at that time, not one now that is skipped as not due. */
export async function dispatchPendingJob(jobId: string, job: unknown, now: Date): Promise<void> {
  ensureDefaultApp(); // the Cloud Tasks client rides on the default app, which a Firestore trigger does not create
  const nextAttemptAt = fromFirestore<{ nextAttemptAt?: Date | null }>(job).nextAttemptAt ?? null;
  await cloudTasksDispatcher().dispatch(jobId, dispatchDelayMs(nextAttemptAt, now));
}

/** Re-dispatches up to `limit` overdue waiting jobs and expired leases; returns how many. */
export async function redispatchDueJobs(now: Date, limit = 200): Promise<number> {
  const ids = await findDueJobs(getDb(), now, limit);
  const dispatcher = cloudTasksDispatcher();
  await Promise.all(ids.map((id) => dispatcher.dispatch(id, 0)));
  return ids.length;
}

export function requeueAfterResume(now: Date): Promise<number> {
  return requeuePausedJobs(getDb(), now);
}
