/**
 * One live job per (kind, target) for jobs that sync state: a contact, a deal, a user's claims. Such a job reads
 * the canonical record when it runs, so a newer change does not need a job of its own: it folds into the job that
 * is still waiting, or, if that job is running, asks for exactly one more run. A short settle delay lets a burst
 * of events for one customer collapse into one vendor call. Pure.
 */
import type { JobKind, JobSpec, JobStatus } from "./model.js";

/** Kinds that coalesce, and how long a new run waits for more changes first. Claims do not wait: users do. */
export const SETTLE_MS: Partial<Record<JobKind, number>> = {
  "crm.contact.upsert": 2_000,
  "crm.deal.upsert": 2_000,
  "auth.claims.update": 0,
};

export function isCoalesced(kind: JobKind): boolean {
  return SETTLE_MS[kind] !== undefined;
}

/** `live.<kind>.<target>`: the deterministic id of the one live job for this kind and target, or null. */
export function liveJobId(spec: JobSpec): string | null {
  if (!isCoalesced(spec.kind)) return null;
  const t = spec.target;
  const target = [t.uid, t.orderId, t.subscriptionId].filter(Boolean).join("_");
  if (!target) return null;
  return `live.${spec.kind}.${target}`.replace(/[/\s]/g, "_").slice(0, 1400);
}

export type LiveWrite =
  /** No live job, or the last one finished: start a run (after the settle delay). */
  | { action: "start"; nextAttemptAt: Date }
  /** A run is waiting: it will read the newer state anyway. */
  | { action: "fold" }
  /** A run is under way and may have read the state before this change: one more run after it. */
  | { action: "rerun" };

export function planLiveWrite(existing: { status: JobStatus } | null, kind: JobKind, at: Date): LiveWrite {
  if (!existing || existing.status === "succeeded" || existing.status === "dead") {
    return { action: "start", nextAttemptAt: new Date(at.getTime() + (SETTLE_MS[kind] ?? 0)) };
  }
  return existing.status === "running" ? { action: "rerun" } : { action: "fold" };
}

/** When the follow-up run of a job whose state changed during its run may start. */
export function rerunAt(kind: JobKind, now: Date): Date {
  return new Date(now.getTime() + (SETTLE_MS[kind] ?? 0));
}
