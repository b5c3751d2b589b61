/** The sync queue as the demo follows it: every job a run caused, until each is finished. */
import type { Firestore } from "firebase-admin/firestore";
import { setTimeout as sleep } from "node:timers/promises";
import { docsWhereIn, num, record, str, type Fields } from "./records";
import { QUEUE_POLL_MS, QUEUE_PROGRESS_EVERY_MS, QUEUE_TIMEOUT_MS } from "./stack";
import type { RunState } from "./steps";
import type { Cast } from "./story";
// ---------------------------------------------------------------------------------------------------------------
// The sync queue: every job this run caused, followed until it is done

export interface JobView {
  id: string;
  kind: string;
  status: string;
  attempts: number;
  error: string | null;
  result: Fields;
  /** For notifications: what they announce. */
  about: "ticket" | "alert" | null;
}

export const FINISHED = new Set(["succeeded", "dead"]);
export const STATUS_ORDER = ["succeeded", "running", "pending", "retrying", "paused", "dead"];

export function jobView(id: string, d: Fields): JobView {
  return {
    id,
    kind: str(d.kind) ?? "?",
    status: str(d.status) ?? "?",
    attempts: num(d.attempts) ?? 0,
    error: str(record(d.lastError).message),
    result: record(d.result),
    about: str(record(d.target).ticketRequestId) ? "ticket" : str(record(d.target).alertId) ? "alert" : null,
  };
}

/**
 * This run's jobs: the ones its events caused and any other job about its people or its order (signing up in
 * Auth plans a CRM contact too), plus their follow-ups to any depth (the Slack notice for a new ticket, the
 * alert notice for a dead job), which point at the job that created them. A follow-up is written in the same
 * transaction that finishes its parent, so once every job found here is finished, none is missing.
 */
export async function jobsOfRun(db: Firestore, eventIds: string[], cast: Cast): Promise<JobView[]> {
  const found = new Map<string, JobView>();
  const seeds = await Promise.all([
    docsWhereIn(db, "syncJobs", "cause.eventId", eventIds),
    docsWhereIn(db, "syncJobs", "target.uid", [cast.uid, cast.buyerUid]),
    docsWhereIn(db, "syncJobs", "target.orderId", [cast.orderId]),
  ]);
  let level = [...new Map(seeds.flat().map((d) => [d.id, d])).values()];
  while (level.length) {
    for (const { id, data } of level) found.set(id, jobView(id, data));
    const parents = level.map((d) => d.id);
    level = (await docsWhereIn(db, "syncJobs", "cause.jobId", parents)).filter((d) => !found.has(d.id));
  }
  return [...found.values()];
}

export function statusCounts(jobs: JobView[]): string {
  const counts = new Map<string, number>();
  for (const j of jobs) counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
  const rank = (s: string) => (STATUS_ORDER.includes(s) ? STATUS_ORDER.indexOf(s) : STATUS_ORDER.length);
  return [...counts.entries()]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([status, n]) => `${n} ${status}`)
    .join(" · ");
}

export const secondsSince = (t: number): string => `${((Date.now() - t) / 1000).toFixed(1)} s`;

export async function waitForQueue(run: RunState): Promise<JobView[]> {
  const started = Date.now();
  console.log(`\nThe sync queue works through what those events asked for (waiting up to ${QUEUE_TIMEOUT_MS / 1000} s):`);
  let shown = "";
  let shownAt = 0;
  for (;;) {
    const jobs = await jobsOfRun(run.db, [...run.eventIds], run.cast);
    const open = jobs.filter((j) => !FINISHED.has(j.status));
    const line = `${jobs.length} jobs: ${statusCounts(jobs)}`;
    const timedOut = Date.now() - started >= QUEUE_TIMEOUT_MS;
    if (!open.length || timedOut) {
      console.log(`  ${secondsSince(started).padStart(6)}  ${line}${open.length ? "" : " — all done"}`);
      if (open.length) {
        run.failures.push(`${open.length} sync job(s) still unfinished after ${QUEUE_TIMEOUT_MS / 1000} s`);
        for (const j of open) {
          console.log(`          ${j.status.padEnd(8)} ${j.id} (attempt ${j.attempts}${j.error ? `, last error: ${j.error}` : ""})`);
        }
        if (open.some((j) => j.status === "paused")) console.log("          (jobs are paused: the automation kill switch is on)");
        if (open.some((j) => j.status === "running")) {
          console.log("          (a job left running by a worker that failed waits for its lease to expire and the sweeper,");
          console.log("           which does not run in the local emulators)");
        }
      }
      return jobs;
    }
    if (line !== shown && Date.now() - shownAt >= QUEUE_PROGRESS_EVERY_MS) {
      console.log(`  ${secondsSince(started).padStart(6)}  ${line}`);
      shown = line;
      shownAt = Date.now();
    }
    await sleep(QUEUE_POLL_MS);
  }
}

export function reportDeadJobs(run: RunState, jobs: JobView[]): void {
  const dead = jobs.filter((j) => j.status === "dead");
  if (!dead.length) return;
  console.log(`  ✗ ${dead.length} job(s) gave up (see alerts/{jobId} in Firestore):`);
  for (const j of dead) {
    console.log(`      ${j.id}`);
    console.log(`        ${j.kind} after ${j.attempts} attempt(s): ${j.error ?? "no error recorded"}`);
    run.failures.push(`sync job ${j.id} is dead: ${j.error ?? "no error recorded"}`);
  }
}

