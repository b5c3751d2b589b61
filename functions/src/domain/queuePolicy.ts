/**
 * Pure decisions of the sync queue that are not about one failure (retry.ts is): how long a lease must be, who
 * owns a job, how a sink's block only ever grows, how blocked jobs spread their wake-ups, and what the per-sink
 * status on a customer says. No I/O; clock and randomness come in as arguments.
 */
import type { JobStatus } from "./model.js";

/**
 * The longest a job can run: per-call timeout × the most vendor calls one job makes (a subscription deal job:
 * contact upsert, its race retry, lifecycle update, link read + update, deal upsert, its race retry, association),
 * plus Firestore reads and writes. A lease shorter than that lets the sweeper start a second worker while the first
 * still runs; ownership checks (holdsLease) make that harmless, but it wastes a run.
 */
export const JOB_RUN_BUDGET = { callTimeoutMs: 20_000, maxCallsPerJob: 8, marginMs: 20_000 } as const;

export function leaseMsFor(budget: { callTimeoutMs: number; maxCallsPerJob: number; marginMs: number } = JOB_RUN_BUDGET): number {
  return budget.callTimeoutMs * budget.maxCallsPerJob + budget.marginMs;
}

/** The runSyncJob function's timeout (seconds): longer than a lease, so a lease never outlives its worker by design. */
export const RUN_SYNC_JOB_TIMEOUT_SECONDS = 300;

export interface LeaseView {
  status: JobStatus;
  workerId?: string | null;
  leaseExpiresAt: Date | null;
}

/**
 * True when `workerId` still owns the job at `now`: it is running under that worker's lease and the lease has not
 * ended. A worker whose lease ended may have been replaced, so it records nothing (its vendor writes are
 * idempotent; the next owner repeats them).
 */
export function holdsLease(job: LeaseView, workerId: string, now: Date): boolean {
  return job.status === "running" && job.workerId === workerId && job.leaseExpiresAt !== null && job.leaseExpiresAt.getTime() > now.getTime();
}

/** A later, shorter Retry-After must not shorten a block another job already observed. */
export function extendBlock(current: Date | null, proposed: Date): Date {
  return current && current.getTime() > proposed.getTime() ? current : proposed;
}

/** Blocked jobs wake spread over this window after the block ends, not all in the same instant. */
export const WAKE_SPREAD_MS = 5_000;

export function wakeAt(blockedUntil: Date, random: () => number, spreadMs: number = WAKE_SPREAD_MS): Date {
  return new Date(blockedUntil.getTime() + Math.round(random() * spreadMs));
}

/** Delay for a task that should run a job at `nextAttemptAt` (never negative). */
export function dispatchDelayMs(nextAttemptAt: Date | null, now: Date): number {
  return nextAttemptAt ? Math.max(0, nextAttemptAt.getTime() - now.getTime()) : 0;
}

/**
 * The sweeper re-dispatches a waiting job only when the task that should have run it is this late: a fresh
 * pending job has a task already (the trigger dispatched it), and re-enqueueing it every minute would spend the
 * queue's dispatch budget on no-ops under a backlog.
 */
export const SWEEP_GRACE_MS = 3 * 60_000;

export type SinkStatus = "synced" | "pending" | "failed";
const OPEN: readonly JobStatus[] = ["pending", "running", "retrying", "paused"];

/**
 * `customers/{uid}.sync.<sink>.status` after one job of that sink reached `outcome`, given the customer's other
 * unfinished or dead jobs of the same sink: "synced" only when nothing else is waiting and nothing is dead, so a
 * success never hides a newer pending job or an older dead one.
 */
export function sinkStatusAfter(outcome: "succeeded" | "retrying" | "paused" | "dead", others: ReadonlyArray<{ status: JobStatus }>): SinkStatus {
  if (outcome === "dead" || others.some((j) => j.status === "dead")) return "failed";
  if (outcome !== "succeeded" || others.some((j) => OPEN.includes(j.status))) return "pending";
  return "synced";
}
