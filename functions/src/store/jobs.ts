/**
 * The sync job document is the source of truth a founder reads in the console. Every state change is a
 * transaction on it: claiming with a lease (no two workers run one job), completing, failing into a retry or
 * into `dead` (with an audit entry and an alert), pausing under the kill switch.
 */
import type { DocumentReference, Firestore, Transaction } from "firebase-admin/firestore";
import { DEFAULT_NOTICE_SETTINGS, alertNoticeText, type NoticeSettings } from "../domain/notices.js";
import { SINK_OF_JOB, type JobKind, type JobSpec, type JobStatus, type JobTarget, type SinkName } from "../domain/model.js";
import type { FailureDecision } from "../domain/retry.js";
import { fromFirestore } from "./db.js";
import { AUTOMATION_DOC, COL, SYNC_COL } from "./paths.js";

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
}

export type ClaimResult =
  | { claimed: true; job: JobDoc }
  | { claimed: false; reason: "missing" | "done" | "leased" | "paused" | "not_due" | "throttled"; dueAt?: Date };

const jobRef = (db: Firestore, id: string) => db.collection(COL.syncJobs).doc(id);

export function newJobDoc(id: string, spec: JobSpec, cause: JobDoc["cause"], at: Date): JobDoc {
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
    nextAttemptAt: at,
    lastError: null,
    leaseExpiresAt: null,
    firstAttemptAt: null,
    completedAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

export async function claimJob(db: Firestore, id: string, opts: { now: Date; leaseMs: number; workerId: string }): Promise<ClaimResult> {
  const { now } = opts;
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(jobRef(db, id));
    if (!snap.exists) return { claimed: false, reason: "missing" } as const;
    const job = fromFirestore<JobDoc>(snap.data());
    const sink = SINK_OF_JOB[job.kind];
    const [automation, sinkState] = await tx.getAll(db.doc(AUTOMATION_DOC), db.collection(SYNC_COL.sinkState).doc(sink));
    if (job.status === "succeeded" || job.status === "dead") return { claimed: false, reason: "done" } as const;
    if (job.status === "running" && job.leaseExpiresAt && job.leaseExpiresAt > now) {
      // Look again when the lease ends: if its worker died (or failed to record a result), the job is not stranded.
      return { claimed: false, reason: "leased", dueAt: job.leaseExpiresAt } as const;
    }
    if (automation?.get("paused") === true) {
      if (job.status !== "paused") tx.update(snap.ref, { status: "paused", updatedAt: now });
      return { claimed: false, reason: "paused" } as const;
    }
    if (job.nextAttemptAt && job.nextAttemptAt > now) return { claimed: false, reason: "not_due", dueAt: job.nextAttemptAt } as const;
    const blockedUntil = sinkState?.exists ? (fromFirestore<{ blockedUntil?: Date | null }>(sinkState.data()).blockedUntil ?? null) : null;
    if (blockedUntil && blockedUntil > now) {
      // The vendor asked the whole sink to slow down: wait without spending an attempt.
      tx.update(snap.ref, { status: "retrying", nextAttemptAt: blockedUntil, updatedAt: now });
      return { claimed: false, reason: "throttled", dueAt: blockedUntil } as const;
    }
    const claimed: JobDoc = {
      ...job,
      status: "running",
      attempts: job.attempts + 1,
      leaseExpiresAt: new Date(now.getTime() + opts.leaseMs),
      workerId: opts.workerId,
      firstAttemptAt: job.firstAttemptAt ?? now,
      updatedAt: now,
    };
    tx.update(snap.ref, {
      status: claimed.status,
      attempts: claimed.attempts,
      leaseExpiresAt: claimed.leaseExpiresAt,
      workerId: opts.workerId,
      firstAttemptAt: claimed.firstAttemptAt,
      updatedAt: now,
    });
    return { claimed: true, job: claimed } as const;
  });
}

/** Notifications are keyed on what they are about, so two jobs about one ticket or alert post once. */
export function notifyJobId(key: string): string {
  return `notify.${key}`.replace(/[/\s]/g, "_");
}

export interface Completion {
  /** Extra writes in the same transaction (ids stored back on the source documents). Must not read. */
  write?: (tx: Transaction) => void;
  /** Notification jobs to create once this job has succeeded (id from notifyJobId(spec.idempotencyKey)). */
  followUps?: JobSpec[];
  result?: Record<string, string | boolean | null>;
}

/**
 * The canonical record whose per-sink status a job updates, if it exists (a marketplace buyer may have none).
 * Checked outside the job's transaction: reading the customer inside would lock it against the webhook's ingest.
 */
async function customerRefFor(db: Firestore, job: JobDoc): Promise<DocumentReference | null> {
  if (!job.target.uid || job.kind === "notify.slack") return null;
  const ref = db.collection(COL.customers).doc(job.target.uid);
  return (await ref.get()).exists ? ref : null;
}

function setSinkStatus(tx: Transaction, customer: DocumentReference | null, job: JobDoc, status: "synced" | "pending" | "failed", at: Date): void {
  if (!customer) return;
  tx.set(customer, { sync: { [SINK_OF_JOB[job.kind]]: { status, jobId: job.jobId, at } } }, { merge: true });
}

export async function completeJob(db: Firestore, job: JobDoc, completion: Completion, now: Date): Promise<string[]> {
  const customer = await customerRefFor(db, job);
  return db.runTransaction(async (tx) => {
    const ref = jobRef(db, job.jobId);
    const followIds = (completion.followUps ?? []).map((spec) => notifyJobId(spec.idempotencyKey));
    const followRefs = followIds.map((id) => jobRef(db, id));
    const [current, ...follow] = await tx.getAll(ref, ...followRefs);
    if (!current?.exists || current.get("status") === "succeeded") return [];
    tx.update(ref, {
      status: "succeeded",
      completedAt: now,
      leaseExpiresAt: null,
      nextAttemptAt: null,
      result: completion.result ?? null,
      updatedAt: now,
    });
    setSinkStatus(tx, customer, job, "synced", now);
    completion.write?.(tx);
    (completion.followUps ?? []).forEach((spec, i) => {
      const id = followIds[i];
      if (!id || follow[i]?.exists) return;
      tx.set(jobRef(db, id), newJobDoc(id, spec, { type: "syncJob", jobId: job.jobId }, now));
    });
    return followIds;
  });
}

export async function failJob(
  db: Firestore,
  job: JobDoc,
  decision: FailureDecision,
  now: Date,
  notices: NoticeSettings = DEFAULT_NOTICE_SETTINGS,
): Promise<void> {
  const customer = await customerRefFor(db, job);
  await db.runTransaction(async (tx) => {
    const ref = jobRef(db, job.jobId);
    const snap = await tx.get(ref);
    if (!snap?.exists || snap.get("status") === "succeeded" || snap.get("status") === "dead") return;
    const lastError = { ...decision.error, at: now };
    const sink: SinkName = SINK_OF_JOB[job.kind];
    if (decision.kind === "retry") {
      const nextAttemptAt = new Date(now.getTime() + decision.delayMs);
      tx.update(ref, { status: "retrying", nextAttemptAt, lastError, leaseExpiresAt: null, updatedAt: now });
      if (decision.error.httpStatus === 429) {
        tx.set(db.collection(SYNC_COL.sinkState).doc(sink), { blockedUntil: nextAttemptAt, reason: decision.error.message, updatedAt: now }, { merge: true });
      }
      setSinkStatus(tx, customer, job, "pending", now);
      return;
    }
    tx.update(ref, { status: "dead", deadReason: decision.reason, lastError, leaseExpiresAt: null, nextAttemptAt: null, completedAt: now, updatedAt: now });
    setSinkStatus(tx, customer, job, "failed", now);
    const alertRef = db.collection(SYNC_COL.alerts).doc(job.jobId);
    tx.set(alertRef, {
      alertId: job.jobId,
      type: "sync_job_dead",
      status: "open",
      jobId: job.jobId,
      kind: job.kind,
      sink,
      target: job.target,
      reason: decision.reason,
      error: lastError,
      attempts: job.attempts,
      createdAt: now,
    });
    tx.set(db.collection(COL.auditLog).doc(), {
      actor: { type: "system", id: "syncQueue" },
      action: "syncJob.dead",
      target: `${COL.syncJobs}/${job.jobId}`,
      before: { status: job.status },
      after: { status: "dead", reason: decision.reason, error: decision.error.message },
      cause: job.cause,
      at: now,
    });
    // Tell the founder — unless the failing sink is the notifier itself.
    if (job.kind !== "notify.slack") {
      const spec: JobSpec = {
        kind: "notify.slack",
        target: { alertId: job.jobId },
        idempotencyKey: `alert:${job.jobId}`,
        reason: "alert",
        text: alertNoticeText(
          { jobId: job.jobId, kind: job.kind, reason: decision.reason, attempts: job.attempts, errorMessage: decision.error.message },
          notices,
        ),
      };
      // A retried-then-dead-again job reuses the alert id: set() keeps one notification job, not two.
      tx.set(jobRef(db, notifyJobId(spec.idempotencyKey)), newJobDoc(notifyJobId(spec.idempotencyKey), spec, { type: "alert", jobId: job.jobId }, now));
    }
  });
}

/** Manual retry of a dead job (admin API): back to `pending`, attempts reset, history kept in lastError. */
export async function retryDeadJob(db: Firestore, id: string, actor: { type: string; id: string }, now: Date): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const ref = jobRef(db, id);
    const snap = await tx.get(ref);
    if (!snap.exists || snap.get("status") !== "dead") return false;
    tx.update(ref, { status: "pending", attempts: 0, nextAttemptAt: now, deadReason: null, completedAt: null, updatedAt: now });
    tx.set(db.collection(COL.auditLog).doc(), {
      actor,
      action: "syncJob.retry",
      target: `${COL.syncJobs}/${id}`,
      before: { status: "dead" },
      after: { status: "pending" },
      cause: { type: "manual" },
      at: now,
    });
    return true;
  });
}

/** Kill switch. Resuming puts paused jobs back to `pending` in creation order (each dispatches again). */
export async function setAutomationPaused(
  db: Firestore,
  paused: boolean,
  who: { by: string; reason: string | null },
  now: Date,
): Promise<number> {
  const ref = db.doc(AUTOMATION_DOC);
  await db.runTransaction(async (tx) => {
    const before = await tx.get(ref);
    tx.set(ref, { paused, reason: who.reason, by: who.by, at: now });
    tx.set(db.collection(COL.auditLog).doc(), {
      actor: { type: "user", id: who.by },
      action: paused ? "automation.pause" : "automation.resume",
      target: AUTOMATION_DOC,
      before: before.exists ? { paused: before.get("paused") ?? false } : null,
      after: { paused, reason: who.reason },
      cause: { type: "manual" },
      at: now,
    });
  });
  if (paused) return 0;
  return requeuePausedJobs(db, now);
}

export async function requeuePausedJobs(db: Firestore, now: Date): Promise<number> {
  const paused = await db.collection(COL.syncJobs).where("status", "==", "paused").orderBy("createdAt", "asc").get();
  let writer = db.batch();
  let n = 0;
  for (const doc of paused.docs) {
    writer.update(doc.ref as DocumentReference, { status: "pending", nextAttemptAt: now, updatedAt: now });
    if (++n % 400 === 0) {
      await writer.commit();
      writer = db.batch();
    }
  }
  await writer.commit();
  return n;
}

/** Jobs the sweeper should (re)dispatch: due retries, pending ones, and running ones whose worker died. */
export async function findDueJobs(db: Firestore, now: Date, limit: number): Promise<string[]> {
  const due = await db
    .collection(COL.syncJobs)
    .where("status", "in", ["pending", "retrying"])
    .where("nextAttemptAt", "<=", now)
    .orderBy("nextAttemptAt", "asc")
    .limit(limit)
    .get();
  const expired = await db
    .collection(COL.syncJobs)
    .where("status", "==", "running")
    .where("leaseExpiresAt", "<=", now)
    .limit(limit)
    .get();
  return [...due.docs, ...expired.docs].map((d) => d.id);
}
