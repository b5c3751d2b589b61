/**
 * Runs one sync job: claim it with a lease, execute it (syncExecute.ts), then record success (ids written back,
 * follow-up notifications planned, one more run if the state changed meanwhile) or failure (retry with backoff,
 * dead with an alert, or the sink paused for its credentials). A worker that lost its lease records nothing.
 * Whatever dispatches jobs (Cloud Tasks, the sweeper, tests) calls `runSyncJob`.
 */
import { randomUUID } from "node:crypto";
import { TransientError } from "../domain/errors.js";
import { causeOf, incidentId } from "../domain/incidents.js";
import { SINK_OF_JOB, type SinkName } from "../domain/model.js";
import { DEFAULT_NOTICE_SETTINGS } from "../domain/notices.js";
import { leaseMsFor } from "../domain/queuePolicy.js";
import { decideFailure, describeError } from "../domain/retry.js";
import { log } from "../log.js";
import type { Sinks } from "../sinks/ports.js";
import { joinIncidentNow, recoveryWanted, settleIncidentsFor } from "../store/incidents.js";
import { DEFAULT_PROBE_DELAY_MS, completeJob, failJob, markSending, type Completion } from "../store/jobFinish.js";
import { requeuePausedJobs, resolveAuthAlert, retryDeadJob } from "../store/jobQueue.js";
import { claimJob, type ClaimResult, type JobDoc } from "../store/jobs.js";
import { execute, LeaseLostError } from "./syncExecute.js";
import { budgetPlanner, recordVendorAnswers } from "./syncBudget.js";
import type { IncidentSettings, SyncDeps } from "./syncTypes.js";

const DEFAULT_INCIDENTS: IncidentSettings = { joinAfterAttempts: 3, probeDelayMs: DEFAULT_PROBE_DELAY_MS };

/**
 * Whether a vendor-wide incident of a sink waits for news of recovery, remembered per instance for a few seconds so
 * a busy queue does not add a query to every job (a job that joined an incident settles it by its own `incidentId`).
 * A join in this instance forgets it at once; another instance's join is seen within RECOVERY_CACHE_MS.
 */
const RECOVERY_CACHE_MS = 5_000;
const recovery = {
  // The promise is kept, so jobs finishing at once share one query.
  seen: new Map<SinkName, { wanted: Promise<boolean>; at: number }>(),
  wanted(db: SyncDeps["db"], sink: SinkName): Promise<boolean> {
    const hit = this.seen.get(sink);
    if (hit && Date.now() - hit.at < RECOVERY_CACHE_MS) return hit.wanted;
    const wanted = recoveryWanted(db, sink);
    this.seen.set(sink, { wanted, at: Date.now() });
    wanted.catch(() => this.seen.delete(sink));
    return wanted;
  },
  forget(): void {
    this.seen.clear();
  },
};

export type { Dispatcher, RunStep, SyncBudgets, SyncDeps } from "./syncTypes.js";
export type { Sinks };

export type RunOutcome =
  | { outcome: "succeeded"; jobId: string }
  /** Succeeded, but the state changed during the run: the job is pending again (onSyncJobWritten dispatches it). */
  | { outcome: "rerun"; jobId: string }
  | { outcome: "retrying"; jobId: string; delayMs: number }
  | { outcome: "dead"; jobId: string }
  | { outcome: "sink_paused"; jobId: string }
  /** This worker's lease ended or was taken over: whatever it did is not recorded (the owner's run counts). */
  | { outcome: "discarded"; jobId: string }
  | { outcome: "skipped"; jobId: string; reason: Extract<ClaimResult, { claimed: false }>["reason"] };

/** The vendor surely did not get the post (it answered with a status, or the connection was refused). */
function surelyNotSent(error: unknown): boolean {
  const info = describeError(error);
  return info.httpStatus !== null || (error instanceof TransientError && error.notSent);
}

export async function runSyncJob(deps: SyncDeps, jobId: string): Promise<RunOutcome> {
  const now = deps.now ?? (() => new Date());
  const workerId = deps.workerId ?? randomUUID();
  deps.step?.("before_claim", jobId);
  const budgetFor = budgetPlanner(deps);
  const claim = await claimJob(deps.db, jobId, {
    now: now(),
    leaseMs: deps.leaseMs ?? leaseMsFor(),
    workerId,
    ...(deps.credentialOf ? { credentialOf: deps.credentialOf } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    ...(budgetFor ? { budgetFor } : {}),
  });
  if (!claim.claimed) {
    // Only a job that must wait for a time gets a delayed task; leased and paused jobs get none (the sweeper and
    // the resume paths find them), so no-op dispatches do not eat the queue's budget.
    if (claim.dueAt) await deps.dispatcher.dispatch(jobId, Math.max(0, claim.dueAt.getTime() - now().getTime()));
    return { outcome: "skipped", jobId, reason: claim.reason };
  }
  const job: JobDoc = { ...claim.job, workerId };
  const sink = SINK_OF_JOB[job.kind];
  const incidents = deps.incidents ?? DEFAULT_INCIDENTS;
  if (claim.credentialChanged) {
    // The refused credential was replaced: the sink runs again, with the jobs it paused.
    await resolveAuthAlert(deps.db, sink, now(), deps.notices ?? DEFAULT_NOTICE_SETTINGS);
    await requeuePausedJobs(deps.db, now(), { sink });
  }
  deps.step?.("after_claim", jobId);
  let completion: Completion;
  try {
    completion = await execute(deps, job, () => markSending(deps.db, job, now()));
  } catch (error) {
    if (error instanceof LeaseLostError) return discarded(jobId);
    const decision = decideFailure(error, job.attempts, deps.policy(sink), deps.random ?? Math.random);
    await recordVendorAnswers(deps, sink, decision, now());
    const recorded = await failJob(deps.db, job, decision, now(), {
      notices: deps.notices,
      notSent: job.kind === "notify.slack" && surelyNotSent(error),
      credential: deps.credentialOf?.(sink) ?? null,
      probeDelayMs: incidents.probeDelayMs,
    });
    if (!recorded.recorded) return discarded(jobId);
    if (decision.kind === "dead") recovery.forget();
    if (decision.kind === "retry") {
      if (decision.countsAttempt && job.attempts >= incidents.joinAfterAttempts) {
        // Still retrying, but failing again and again: it joins its cause's incident now, so an outage shows (once)
        // before anything gives up. A 429 never joins (the vendor only asked us to wait).
        const failure = { message: decision.error.message, httpStatus: decision.error.httpStatus, dead: false, permanent: false };
        const cause = causeOf(job, sink, failure);
        const nextAttemptAt = new Date(now().getTime() + decision.delayMs);
        await joinIncidentNow(deps.db, incidentId(cause), cause, { jobId, kind: job.kind, target: job.target, nextAttemptAt }, failure, now(), {
          notices: deps.notices ?? DEFAULT_NOTICE_SETTINGS,
          probeDelayMs: incidents.probeDelayMs,
        });
        recovery.forget();
      }
      await deps.dispatcher.dispatch(jobId, decision.delayMs);
      return { outcome: "retrying", jobId, delayMs: decision.delayMs };
    }
    return decision.kind === "pause_sink" ? { outcome: "sink_paused", jobId } : { outcome: "dead", jobId };
  }
  deps.step?.("after_vendor_call", jobId);
  await recordVendorAnswers(deps, sink, null, now());
  const step = deps.step;
  const recorded = await completeJob(deps.db, job, completion, now(), step ? () => step("before_complete", jobId) : undefined);
  if (!recorded.recorded) return discarded(jobId);
  deps.step?.("after_complete", jobId);
  // Incidents that tracked this job (or wait for any success of its sink) settle; a vendor back after an outage gets
  // the dead jobs of its incident retried. After the job's own record: a crash here leaves the incident open until
  // the sweep's re-check of its jobs resolves it (services/incidentSweep.ts), or the next success it tracks.
  if (job.incidentId || (await recovery.wanted(deps.db, sink))) {
    const retry = await settleIncidentsFor(deps.db, job, sink, now(), deps.notices ?? DEFAULT_NOTICE_SETTINGS);
    for (const id of retry) await retryDeadJob(deps.db, id, { type: "system", id: "incident" }, now());
  }
  return recorded.rerun ? { outcome: "rerun", jobId } : { outcome: "succeeded", jobId };
}

function discarded(jobId: string): RunOutcome {
  log.syncJobDiscarded(jobId);
  return { outcome: "discarded", jobId };
}
