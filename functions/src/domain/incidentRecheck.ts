/**
 * The sweep's second look at an incident: a crash between a job's success and its incident's update (the runner
 * settles incidents after the job's own record) would leave the incident open. Every open incident is re-checked
 * from its jobs' current documents once it has been quiet a while, and resolved when none of them still fails for
 * its cause. Pure: no I/O.
 */
import { jobKey, recoveryKey } from "./incidents.js";
import type { JobKind, JobStatus, JobTarget, SinkName } from "./model.js";

type Doc = Record<string, unknown>;

/** Still failing: looked at again after this long (an incident of 1,000 jobs costs 1,000 reads per look). */
export const RECHECK_EVERY_MS = 10 * 60_000;

export interface ListedJob {
  jobId: string;
  kind: JobKind;
  target: JobTarget;
  status: JobStatus;
  incidentId: string | null;
  updatedAt: Date | null;
}

const FAILING: readonly JobStatus[] = ["pending", "running", "retrying", "paused", "dead"];
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

export type Recheck = { resolve: true } | { resolve: false; reason: "not_open" | "untracked_jobs" | "key_without_job" | "still_failing" };

/**
 * Whether every cause this incident tracks is gone, from its listed jobs as they are now (null: the job document no
 * longer exists). A tracked key is settled when none of its jobs still fails for this incident (a job now failing
 * for another cause belongs to that incident), or when its newest job succeeded (a newer run superseded the dead
 * one). A key none of the listed jobs carries, or jobs beyond the tracked cap, cannot be checked: left open.
 */
export function recheckIncident(id: string, doc: Doc, jobs: Array<ListedJob | null>): Recheck {
  if (doc.status !== "open" || doc.type !== "incident") return { resolve: false, reason: "not_open" };
  if ((Number(doc.untrackedJobs) || 0) > 0) return { resolve: false, reason: "untracked_jobs" };
  const sink = doc.sink as SinkName;
  const keys = strings(doc.openKeys).filter((k) => k !== recoveryKey(sink));
  const byKey = new Map<string, ListedJob[]>();
  for (const job of jobs) {
    if (!job) continue;
    const key = jobKey(job.kind, job.target);
    byKey.set(key, [...(byKey.get(key) ?? []), job]);
  }
  for (const key of keys) {
    const listed = byKey.get(key);
    if (!listed?.length) return { resolve: false, reason: "key_without_job" };
    const failing = listed.filter((j) => FAILING.includes(j.status) && (j.incidentId === null || j.incidentId === id));
    if (failing.length === 0) continue;
    const newest = [...listed].sort((a, b) => (b.updatedAt?.getTime() ?? 0) - (a.updatedAt?.getTime() ?? 0))[0];
    if (newest?.status !== "succeeded") return { resolve: false, reason: "still_failing" };
  }
  return { resolve: true };
}
