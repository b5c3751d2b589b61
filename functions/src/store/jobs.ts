/**
 * The sync job document is the source of truth a founder reads in the console. Every state change is a
 * transaction on it. This file: the document's shape and the claim (lease). Finishing a run (jobFinish.ts), the
 * queue-wide operations (jobQueue.ts) and coalesced planning (liveJobs.ts) live beside it.
 */
import type { Firestore } from "firebase-admin/firestore";
import { jittered, reserve } from "../domain/budget.js";
import { wakeAt } from "../domain/queuePolicy.js";
import { SINK_OF_JOB, type JobKind, type JobSpec, type JobStatus, type JobTarget, type SinkName } from "../domain/model.js";
import { accountRef, pickShard, shardRef, type AccountHoldDoc, type BudgetPlan } from "./budgets.js";
import { fromFirestore } from "./db.js";
import { AUTOMATION_DOC, COL } from "./paths.js";

export interface JobDoc {
  jobId: string;
  kind: JobKind;
  status: JobStatus;
  target: JobTarget;
  idempotencyKey: string;
  reason: string | null;
  text?: string | null;
  /** `auditId`: the admin API audit entry of the operation that planned the job. */
  cause: { type: string; eventId?: string; eventType?: string; jobId?: string; auditId?: string };
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: { message: string; httpStatus: number | null; vendorRequestId: string | null; at: Date } | null;
  leaseExpiresAt: Date | null;
  workerId?: string | null;
  firstAttemptAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Live jobs (domain/coalesce.ts): changes folded into this job since it was started. */
  coalesced?: number;
  /** Live jobs: the state changed while this job ran; completing it starts exactly one more run. */
  rerunRequested?: boolean;
  /** Notifications: when a worker was about to post (record-before-send; see docs/architecture.md). */
  sendStartedAt?: Date | null;
  /** The incident this job joined (`alerts/{incidentId}`) while it failed; its success settles that incident. */
  incidentId?: string | null;
  /** Why the job is `paused`: the kill switch (`automation`) or its sink's credentials (`auth`). */
  pausedBy?: "automation" | "auth" | null;
  /** The vendor budget slot this job reserved while it waited (domain/budget.ts): at its time it runs without taking again. */
  budgetSlotAt?: Date | null;
}

export interface SinkStateDoc {
  blockedUntil?: Date | null;
  /** The sink's credentials were refused (401/403): its jobs wait as paused until the credential changes or a person resumes it. */
  pausedForAuth?: { since: Date; reason: string; credential: string | null; httpStatus: number | null } | null;
}

export type ClaimResult =
  | { claimed: true; job: JobDoc; credentialChanged: boolean }
  | { claimed: false; reason: "missing" | "done" | "leased" | "paused" | "paused_for_auth" | "not_due" | "throttled" | "budget"; dueAt?: Date };

export const jobRef = (db: Firestore, id: string) => db.collection(COL.syncJobs).doc(id);
export const sinkStateRef = (db: Firestore, id: string) => db.collection(COL.sinkState).doc(id);

export function newJobDoc(id: string, spec: JobSpec, cause: JobDoc["cause"], at: Date, nextAttemptAt: Date = at): JobDoc {
  return {
    jobId: id,
    kind: spec.kind,
    status: "pending",
    target: spec.target,
    idempotencyKey: spec.idempotencyKey,
    reason: spec.reason,
    text: spec.text ?? null,
    cause,
    attempts: 0,
    nextAttemptAt,
    lastError: null,
    leaseExpiresAt: null,
    firstAttemptAt: null,
    completedAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** Notifications are keyed on what they are about, so two jobs about one ticket or alert post once. */
export function notifyJobId(key: string): string {
  return `notify.${key}`.replace(/[/\s]/g, "_");
}

export interface ClaimOptions {
  now: Date;
  leaseMs: number;
  workerId: string;
  /** Fingerprint of a sink's current credential: when it differs from the one that was refused, the sink resumes. */
  credentialOf?: (sink: SinkName) => string | null;
  random?: () => number;
  /** The vendor account budget a job of this kind spends (null: unmetered, e.g. in tests that do not configure one). */
  budgetFor?: (kind: JobKind) => BudgetPlan | null;
}

export async function claimJob(db: Firestore, id: string, opts: ClaimOptions): Promise<ClaimResult> {
  const { now } = opts;
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(jobRef(db, id));
    if (!snap.exists) return { claimed: false, reason: "missing" } as const;
    const job = fromFirestore<JobDoc>(snap.data());
    const sink = SINK_OF_JOB[job.kind];
    const plan = opts.budgetFor?.(job.kind) ?? null;
    const shard = plan ? shardRef(db, plan.account, pickShard(plan)) : null;
    const budgetRefs = plan && shard ? [accountRef(db, plan.account), shard] : [];
    const [automation, sinkSnap, holdSnap, shardSnap] = await tx.getAll(db.doc(AUTOMATION_DOC), sinkStateRef(db, sink), ...budgetRefs);
    if (job.status === "succeeded" || job.status === "dead") return { claimed: false, reason: "done" } as const;
    // A leased job is not re-dispatched from here: if its worker died, the sweeper finds the expired lease.
    if (job.status === "running" && job.leaseExpiresAt && job.leaseExpiresAt > now) return { claimed: false, reason: "leased" } as const;
    // The notice that automation was paused is itself sent while it is paused (or nobody would hear of it).
    if (automation?.get("paused") === true && job.target.notice !== "automation") {
      if (job.status !== "paused" || job.pausedBy !== "automation") tx.update(snap.ref, { status: "paused", pausedBy: "automation", leaseExpiresAt: null, updatedAt: now });
      return { claimed: false, reason: "paused" } as const;
    }
    const state = sinkSnap?.exists ? fromFirestore<SinkStateDoc>(sinkSnap.data()) : {};
    const authPause = state.pausedForAuth ?? null;
    const credential = opts.credentialOf?.(sink) ?? null;
    const credentialChanged = Boolean(authPause && credential && authPause.credential && credential !== authPause.credential);
    if (authPause && !credentialChanged) {
      if (job.status !== "paused" || job.pausedBy !== "auth") tx.update(snap.ref, { status: "paused", pausedBy: "auth", leaseExpiresAt: null, updatedAt: now });
      return { claimed: false, reason: "paused_for_auth" } as const;
    }
    if (credentialChanged) tx.set(sinkStateRef(db, sink), { pausedForAuth: null, resumedAt: now, resumedBy: "credential_change", updatedAt: now }, { merge: true });
    if (job.nextAttemptAt && job.nextAttemptAt > now) return { claimed: false, reason: "not_due", dueAt: job.nextAttemptAt } as const;
    const blockedUntil = state.blockedUntil ?? null;
    if (blockedUntil && blockedUntil > now) {
      // The vendor asked the whole sink to slow down: wait without spending an attempt, and wake spread out.
      const dueAt = wakeAt(blockedUntil, opts.random ?? Math.random);
      tx.update(snap.ref, { status: "retrying", nextAttemptAt: dueAt, pausedBy: null, updatedAt: now });
      return { claimed: false, reason: "throttled", dueAt } as const;
    }
    if (plan && shard) {
      // The vendor ACCOUNT's budget (shared by every sink that calls it). Waiting never spends an attempt.
      const waitStatus = job.status === "pending" ? "pending" : "retrying";
      const hold = holdSnap?.exists ? (fromFirestore<AccountHoldDoc>(holdSnap.data()).blockedUntil ?? null) : null;
      if (hold && hold > now) {
        const dueAt = wakeAt(hold, opts.random ?? Math.random);
        tx.update(snap.ref, { status: waitStatus, nextAttemptAt: dueAt, leaseExpiresAt: null, pausedBy: null, updatedAt: now });
        return { claimed: false, reason: "throttled", dueAt } as const;
      }
      if (!job.budgetSlotAt) {
        const tat = shardSnap?.exists ? (fromFirestore<{ tat?: Date | null }>(shardSnap.data()).tat ?? null) : null;
        const slot = reserve(tat?.getTime() ?? null, plan.cost, now.getTime(), plan.shape);
        tx.set(shard, { tat: new Date(slot.tat), updatedAt: now }, { merge: true });
        if (slot.startAt > now.getTime()) {
          // No budget now: the job keeps its reserved slot and waits for it (no second take when it comes).
          const dueAt = jittered(slot.startAt, opts.random ?? Math.random);
          tx.update(snap.ref, { status: waitStatus, nextAttemptAt: dueAt, budgetSlotAt: new Date(slot.startAt), leaseExpiresAt: null, pausedBy: null, updatedAt: now });
          return { claimed: false, reason: "budget", dueAt } as const;
        }
      }
    }
    const claimed: JobDoc = {
      ...job,
      status: "running",
      attempts: job.attempts + 1,
      leaseExpiresAt: new Date(now.getTime() + opts.leaseMs),
      workerId: opts.workerId,
      firstAttemptAt: job.firstAttemptAt ?? now,
      pausedBy: null,
      budgetSlotAt: null,
      updatedAt: now,
    };
    tx.update(snap.ref, {
      status: claimed.status,
      attempts: claimed.attempts,
      leaseExpiresAt: claimed.leaseExpiresAt,
      workerId: opts.workerId,
      firstAttemptAt: claimed.firstAttemptAt,
      pausedBy: null,
      budgetSlotAt: null,
      updatedAt: now,
    });
    return { claimed: true, job: claimed, credentialChanged } as const;
  });
}
