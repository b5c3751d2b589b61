/**
 * Queue-wide operations on sync jobs: the kill switch, re-queueing paused jobs, a sink's auth pause being lifted,
 * manual retry of a dead job, and what the sweeper should look at. No business decisions: the callers
 * (services/) decide when; the transactions and preconditions here decide only "still as read".
 */
import type { DocumentSnapshot, Firestore, QueryDocumentSnapshot } from "firebase-admin/firestore";
import { SWEEP_GRACE_MS } from "../domain/queuePolicy.js";
import { SINK_OF_JOB, type JobKind, type JobSpec, type SinkName } from "../domain/model.js";
import { DEFAULT_NOTICE_SETTINGS, automationNoticeText, type NoticeSettings } from "../domain/notices.js";
import { fromFirestore } from "./db.js";
import { writeResolvedNotice } from "./incidents.js";
import { jobRef, newJobDoc, notifyJobId, sinkStateRef, type SinkStateDoc } from "./jobs.js";
import { AUTOMATION_DOC, COL } from "./paths.js";
import { auditIn, type AuditActor } from "./audit.js";

/** Manual retry of a dead job (admin API): back to `pending`, attempts reset, history kept in lastError. */
export async function retryDeadJob(db: Firestore, id: string, actor: AuditActor, now: Date): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const ref = jobRef(db, id);
    const snap = await tx.get(ref);
    if (!snap.exists || snap.get("status") !== "dead") return false;
    tx.update(ref, { status: "pending", attempts: 0, nextAttemptAt: now, deadReason: null, completedAt: null, sendStartedAt: null, updatedAt: now });
    auditIn(db, tx, {
      actor, action: "syncJob.retry", target: `${COL.syncJobs}/${id}`, before: { status: "dead" }, after: { status: "pending" }, cause: { type: "manual" }, at: now,
    });
    return true;
  });
}

/**
 * Kill switch: writes `ops/automation` and its audit entry. It does not re-queue anything: turning it off fires
 * `onAutomationWritten`, the one place that re-queues paused jobs (a console edit takes the same path).
 */
export async function setAutomationPaused(db: Firestore, paused: boolean, who: { by: string; reason: string | null }, now: Date, notices: NoticeSettings = DEFAULT_NOTICE_SETTINGS): Promise<void> {
  const ref = db.doc(AUTOMATION_DOC);
  await db.runTransaction(async (tx) => {
    const before = await tx.get(ref);
    tx.set(ref, { paused, reason: who.reason, by: who.by, at: now });
    if ((before.get("paused") === true) !== paused) {
      // Announced once per switch (the id carries the time); this notice runs even while automation is paused.
      const key = `automation:${paused ? "paused" : "resumed"}:${now.getTime()}`;
      const spec: JobSpec = { kind: "notify.slack", target: { alertId: "automation", notice: "automation" }, idempotencyKey: key, reason: "automation", text: automationNoticeText({ paused, by: who.by, reason: who.reason }, notices) };
      tx.set(jobRef(db, notifyJobId(key)), newJobDoc(notifyJobId(key), spec, { type: "manual" }, now));
    }
    auditIn(db, tx, {
      actor: { type: "user", id: who.by }, action: paused ? "automation.pause" : "automation.resume", target: AUTOMATION_DOC,
      before: before.exists ? { paused: before.get("paused") ?? false } : null, after: { paused, reason: who.reason }, cause: { type: "manual" }, at: now,
    });
  });
}

const PAGE = 500;
const FAILED_PRECONDITION = 9;

/**
 * Puts `paused` jobs back to `pending` (each then dispatches through onSyncJobWritten), optionally only one sink's.
 * Each write carries the document's update time as a precondition: a job that changed since it was read (it ran,
 * succeeded, was re-queued by a concurrent call) is left alone, so a repeated or concurrent resume re-queues each
 * job once and never touches a finished job. No order is promised: Cloud Tasks does not keep one.
 */
export async function requeuePausedJobs(db: Firestore, now: Date, only: { sink?: SinkName } = {}): Promise<number> {
  let requeued = 0;
  const writer = db.bulkWriter();
  writer.onWriteError((err) => {
    if (err.code !== FAILED_PRECONDITION) return err.failedAttempts < 5;
    return false;
  });
  let after: QueryDocumentSnapshot | null = null;
  for (;;) {
    let query = db.collection(COL.syncJobs).where("status", "==", "paused").limit(PAGE);
    if (after) query = query.startAfter(after);
    const page = await query.get();
    for (const doc of page.docs) {
      if (only.sink && SINK_OF_JOB[doc.get("kind") as JobKind] !== only.sink) continue;
      writer
        .update(doc.ref, { status: "pending", pausedBy: null, nextAttemptAt: now, updatedAt: now }, { lastUpdateTime: doc.updateTime })
        .then(() => (requeued += 1))
        .catch(() => undefined);
    }
    if (page.docs.length < PAGE) break;
    after = page.docs[page.docs.length - 1] ?? null;
  }
  await writer.close();
  return requeued;
}

/** Lifts a sink's auth pause (a person fixed the credential). True when it was paused. Audited. */
export async function clearSinkAuthPause(db: Firestore, sink: SinkName, actor: AuditActor, now: Date, notices: NoticeSettings = DEFAULT_NOTICE_SETTINGS): Promise<{ wasPaused: boolean; since: Date | null }> {
  return db.runTransaction(async (tx) => {
    const [stateSnap, alertSnap] = await tx.getAll(sinkStateRef(db, sink), db.collection(COL.alerts).doc(`auth_${sink}`));
    const state: SinkStateDoc = stateSnap?.exists ? fromFirestore<SinkStateDoc>(stateSnap.data()) : {};
    const pause = state.pausedForAuth ?? null;
    if (!pause) return { wasPaused: false, since: null };
    tx.set(sinkStateRef(db, sink), { pausedForAuth: null, resumedAt: now, resumedBy: `${actor.type}:${actor.id}`, updatedAt: now }, { merge: true });
    if (alertSnap?.exists && alertSnap.get("status") === "open") {
      const by = `${actor.type}:${actor.id}`;
      tx.update(alertSnap.ref, { status: "resolved", resolvedAt: now, resolvedBy: by, updatedAt: now });
      writeResolvedNotice(db, tx, alertSnap.id, fromFirestore<Record<string, unknown>>(alertSnap.data()), by, null, now, notices);
    }
    auditIn(db, tx, {
      actor, action: "sink.resume", target: `${COL.sinkState}/${sink}`, before: { pausedForAuth: true, since: pause.since }, after: { pausedForAuth: false }, cause: { type: "manual" }, at: now,
    });
    return { wasPaused: true, since: pause.since };
  });
}

/** A sink's auth pause lifted because its credential changed (found by a claim): resolve the alert. */
export async function resolveAuthAlert(db: Firestore, sink: SinkName, now: Date, notices: NoticeSettings = DEFAULT_NOTICE_SETTINGS): Promise<void> {
  const ref = db.collection(COL.alerts).doc(`auth_${sink}`);
  await db.runTransaction(async (tx) => {
    const snap: DocumentSnapshot = await tx.get(ref);
    if (!snap.exists || snap.get("status") !== "open") return;
    tx.update(ref, { status: "resolved", resolvedAt: now, resolvedBy: "credential_change", updatedAt: now });
    writeResolvedNotice(db, tx, ref.id, fromFirestore<Record<string, unknown>>(snap.data()), "credential_change", null, now, notices);
  });
}

/**
 * Jobs the sweeper should (re)dispatch: due waiting jobs whose task is overdue by SWEEP_GRACE_MS (a task was lost;
 * a fresh pending job has its task), and running ones whose worker died (expired lease).
 */
export async function findDueJobs(db: Firestore, now: Date, limit: number): Promise<string[]> {
  const overdue = new Date(now.getTime() - SWEEP_GRACE_MS);
  const due = await db
    .collection(COL.syncJobs)
    .where("status", "in", ["pending", "retrying"])
    .where("nextAttemptAt", "<=", overdue)
    .orderBy("nextAttemptAt", "asc")
    .limit(limit)
    .get();
  const expired = await db.collection(COL.syncJobs).where("status", "==", "running").where("leaseExpiresAt", "<=", now).limit(limit).get();
  return [...due.docs, ...expired.docs].map((d) => d.id);
}
