/**
 * Recording the end of a run. Every transition here first checks, in its transaction, that the worker still owns
 * the job (domain/queuePolicy.holdsLease): a worker whose lease ended or was taken over records nothing, so a slow
 * first worker can never mark a job retrying or dead under its successor (no third run, no false alert).
 */
import type { DocumentReference, Firestore, Transaction } from "firebase-admin/firestore";
import { rerunAt } from "../domain/coalesce.js";
import { causeOf, incidentId, type FailureInfo } from "../domain/incidents.js";
import { DEFAULT_NOTICE_SETTINGS, authPausedText, type NoticeSettings } from "../domain/notices.js";
import { holdsLease, sinkStatusAfter } from "../domain/queuePolicy.js";
import { SINK_OF_JOB, type JobSpec, type JobStatus, type SinkName } from "../domain/model.js";
import type { FailureDecision } from "../domain/retry.js";
import { fromFirestore } from "./db.js";
import { jobRef, newJobDoc, notifyJobId, sinkStateRef, type JobDoc, type SinkStateDoc } from "./jobs.js";
import { prepareJoin, writeJoin } from "./incidents.js";
import { COL } from "./paths.js";
import { auditIn } from "./audit.js";

export interface Completion {
  /** Extra writes in the same transaction (ids stored back on the source documents). Must not read. */
  write?: (tx: Transaction) => void;
  /** Notification jobs to create once this job has succeeded (id from notifyJobId(spec.idempotencyKey)). */
  followUps?: JobSpec[];
  result?: Record<string, string | boolean | null>;
}

/** `lease_lost`: another worker owns the job now (or nobody does): this worker's result is discarded. */
export type Recorded = { recorded: true; rerun?: boolean } | { recorded: false; reason: "lease_lost" };

const OPEN_OR_DEAD: JobStatus[] = ["pending", "running", "retrying", "paused", "dead"];

/**
 * The canonical record whose per-sink status a job updates, if it exists (a marketplace buyer may have none).
 * Checked outside the job's transaction; inside, otherSinkJobs reads it (briefly locking it against the ingest).
 */
async function customerRefFor(db: Firestore, job: JobDoc): Promise<DocumentReference | null> {
  if (!job.target.uid || job.kind === "notify.slack") return null;
  const ref = db.collection(COL.customers).doc(job.target.uid);
  return (await ref.get()).exists ? ref : null;
}

/**
 * The customer's other jobs of this job's sink that are unfinished or dead. The customer document is read in the
 * transaction first: two jobs of one customer finishing at once serialize on it, so the second one's query (a plain
 * read, not a transactional one: a query in a transaction locks a range of syncJobs and times out under load) sees
 * the first one's outcome.
 */
async function otherSinkJobs(db: Firestore, tx: Transaction, job: JobDoc, customer: DocumentReference | null): Promise<Array<{ status: JobStatus }>> {
  if (!customer || !job.target.uid) return [];
  await tx.get(customer);
  const snap = await db.collection(COL.syncJobs).where("target.uid", "==", job.target.uid).where("status", "in", OPEN_OR_DEAD).limit(100).get();
  return snap.docs
    .filter((d) => d.id !== job.jobId && SINK_OF_JOB[d.get("kind") as JobDoc["kind"]] === SINK_OF_JOB[job.kind])
    .map((d) => ({ status: d.get("status") as JobStatus }));
}

function setSinkStatus(tx: Transaction, customer: DocumentReference | null, job: JobDoc, status: string, at: Date): void {
  if (!customer) return;
  tx.set(customer, { sync: { [SINK_OF_JOB[job.kind]]: { status, jobId: job.jobId, at } } }, { merge: true });
}

async function owned(tx: Transaction, ref: DocumentReference, job: JobDoc, now: Date): Promise<JobDoc | null> {
  const snap = await tx.get(ref);
  if (!snap.exists) return null;
  const current = fromFirestore<JobDoc>(snap.data());
  return holdsLease(current, job.workerId ?? "", now) ? current : null;
}

/** `beforeCommit`: a test seam inside the transaction (throwing there aborts it: a crash before completion). */
export async function completeJob(db: Firestore, job: JobDoc, completion: Completion, now: Date, beforeCommit?: () => void): Promise<Recorded> {
  const customer = await customerRefFor(db, job);
  return db.runTransaction(async (tx): Promise<Recorded> => {
    const ref = jobRef(db, job.jobId);
    const current = await owned(tx, ref, job, now);
    if (!current) return { recorded: false, reason: "lease_lost" };
    const followIds = (completion.followUps ?? []).map((spec) => notifyJobId(spec.idempotencyKey));
    const follow = followIds.length ? await tx.getAll(...followIds.map((id) => jobRef(db, id))) : [];
    const others = await otherSinkJobs(db, tx, job, customer);
    const rerun = current.rerunRequested === true;
    const end = { completedAt: now, leaseExpiresAt: null, workerId: null, result: completion.result ?? null, sendStartedAt: null, updatedAt: now };
    if (rerun) {
      // The state changed while this run read it: one more run, as a fresh job (attempts start again).
      tx.update(ref, { ...end, status: "pending", attempts: 0, rerunRequested: false, nextAttemptAt: rerunAt(job.kind, now) });
    } else {
      // incidentId is cleared: the runner settles that incident with this success (syncRunner).
      tx.update(ref, { ...end, status: "succeeded", nextAttemptAt: null, incidentId: null });
    }
    setSinkStatus(tx, customer, job, sinkStatusAfter(rerun ? "retrying" : "succeeded", others), now);
    completion.write?.(tx);
    (completion.followUps ?? []).forEach((spec, i) => {
      const id = followIds[i];
      if (!id || follow[i]?.exists) return;
      tx.set(jobRef(db, id), newJobDoc(id, spec, { type: "syncJob", jobId: job.jobId }, now));
    });
    beforeCommit?.();
    return { recorded: true, rerun };
  });
}

export interface FailOptions {
  notices?: NoticeSettings;
  /** The post surely did not reach the vendor (record-before-send): the next attempt may send again. */
  notSent?: boolean;
  /** Fingerprint of the credential that was refused (pause_sink), so a replaced one resumes the sink. */
  credential?: string | null;
  /** How long a vendor-wide incident waits before opsync retries one of its dead jobs (INCIDENT_PROBE_MINUTES). */
  probeDelayMs?: number;
}

/** Default INCIDENT_PROBE_MINUTES (config/alerts.ts) for callers that do not say. */
export const DEFAULT_PROBE_DELAY_MS = 5 * 60_000;

export async function failJob(db: Firestore, job: JobDoc, decision: FailureDecision, now: Date, opts: FailOptions = {}): Promise<Recorded> {
  const customer = await customerRefFor(db, job);
  const sink: SinkName = SINK_OF_JOB[job.kind];
  return db.runTransaction(async (tx): Promise<Recorded> => {
    const ref = jobRef(db, job.jobId);
    const current = await owned(tx, ref, job, now);
    if (!current) return { recorded: false, reason: "lease_lost" };
    const others = await otherSinkJobs(db, tx, job, customer);
    const lastError = { ...decision.error, at: now };
    const base = { lastError, leaseExpiresAt: null, workerId: null, rerunRequested: false, updatedAt: now, ...(opts.notSent ? { sendStartedAt: null } : {}) };
    if (decision.kind === "retry") {
      const nextAttemptAt = new Date(now.getTime() + decision.delayMs);
      if (decision.error.httpStatus === 429) {
        const stateSnap = await tx.get(sinkStateRef(db, sink));
        const state = stateSnap.exists ? fromFirestore<SinkStateDoc>(stateSnap.data()) : {};
        // Only ever extended: a later, shorter Retry-After must not wake the sink early.
        if (!state.blockedUntil || state.blockedUntil < nextAttemptAt) {
          tx.set(sinkStateRef(db, sink), { blockedUntil: nextAttemptAt, reason: decision.error.message, updatedAt: now }, { merge: true });
        }
      }
      tx.update(ref, { ...base, status: "retrying", nextAttemptAt, attempts: decision.countsAttempt ? current.attempts : Math.max(0, current.attempts - 1) });
      setSinkStatus(tx, customer, job, sinkStatusAfter("retrying", others), now);
      return { recorded: true };
    }
    if (decision.kind === "pause_sink") {
      await pauseForAuth(db, tx, { job, sink, decision, now, credential: opts.credential ?? null, notices: opts.notices ?? DEFAULT_NOTICE_SETTINGS });
      // The attempt is given back: the job did nothing wrong, the credential did.
      tx.update(ref, { ...base, status: "paused", pausedBy: "auth", attempts: Math.max(0, current.attempts - 1) });
      setSinkStatus(tx, customer, job, sinkStatusAfter("paused", others), now);
      return { recorded: true };
    }
    // The job joins the incident of its cause (sink + error kind + scope): one alert and one Slack message per
    // cause, however many jobs fail the same way (domain/incidents.ts). Read before any write.
    const failure: FailureInfo = { message: decision.error.message, httpStatus: decision.error.httpStatus, dead: true, permanent: decision.reason === "permanent" };
    const cause = causeOf(job, sink, failure);
    const incident = await prepareJoin(db, tx, incidentId(cause));
    tx.update(ref, { ...base, status: "dead", deadReason: decision.reason, nextAttemptAt: null, completedAt: now, incidentId: incident.ref.id });
    setSinkStatus(tx, customer, job, sinkStatusAfter("dead", others), now);
    writeJoin(db, tx, incident, cause, { jobId: job.jobId, kind: job.kind, target: job.target, nextAttemptAt: null }, failure, now, {
      notices: opts.notices ?? DEFAULT_NOTICE_SETTINGS,
      probeDelayMs: opts.probeDelayMs ?? DEFAULT_PROBE_DELAY_MS,
    });
    auditIn(db, tx, {
      actor: { type: "system", id: "syncQueue" }, action: "syncJob.dead", target: `${COL.syncJobs}/${job.jobId}`, before: { status: job.status },
      after: { status: "dead", reason: decision.reason, error: decision.error.message, incidentId: incident.ref.id }, cause: job.cause, at: now,
    });
    return { recorded: true };
  });
}

/**
 * The sink's credential was refused: pause the sink (not the automation) and open ONE alert for it, whatever the
 * number of jobs that hit the same 401/403. Reads come first (the transaction's rule), then writes.
 */
async function pauseForAuth(
  db: Firestore,
  tx: Transaction,
  a: { job: JobDoc; sink: SinkName; decision: Extract<FailureDecision, { kind: "pause_sink" }>; now: Date; credential: string | null; notices: NoticeSettings },
): Promise<void> {
  const alertId = `auth_${a.sink}`;
  const [stateSnap, alertSnap] = await tx.getAll(sinkStateRef(db, a.sink), db.collection(COL.alerts).doc(alertId));
  const state = stateSnap?.exists ? fromFirestore<SinkStateDoc>(stateSnap.data()) : {};
  if (state.pausedForAuth) return;
  const notifyId = notifyJobId(`alert:${alertId}:${a.now.getTime()}`);
  const reason = `${a.decision.error.message} (HTTP ${a.decision.error.httpStatus ?? "?"})`;
  tx.set(sinkStateRef(db, a.sink), { pausedForAuth: { since: a.now, reason, credential: a.credential, httpStatus: a.decision.error.httpStatus }, updatedAt: a.now }, { merge: true });
  const reopen = alertSnap?.exists && alertSnap.get("status") === "open" ? {} : { createdAt: a.now, occurrences: (Number(alertSnap?.get("occurrences")) || 0) + 1 };
  tx.set(db.collection(COL.alerts).doc(alertId), {
    alertId, type: "sink_auth_failed", status: "open", sink: a.sink, reason: "auth", error: { ...a.decision.error, at: a.now }, firstJobId: a.job.jobId,
    fix: FIX[a.sink], updatedAt: a.now, ...reopen,
    // The incident fields every alert carries (domain/incidents.ts), so Needs action shows it like any other.
    title: `${a.sink} sink paused: credentials refused (HTTP ${a.decision.error.httpStatus ?? "?"})`, owner: "admin", scope: "sink",
    nextStep: { action: "waiting_for_person", at: null, text: `The ${a.sink} sink's jobs wait as paused, spending no attempts. It resumes by itself on the first job run with a replaced credential, or with resumeSink.` },
    ...(alertSnap?.exists && alertSnap.get("status") === "open" ? {} : { acknowledged: null, resolvedAt: null, resolvedBy: null }),
  }, { merge: true });
  auditIn(db, tx, {
    actor: { type: "system", id: "syncQueue" }, action: "sink.pause_auth", target: `${COL.sinkState}/${a.sink}`, before: { pausedForAuth: null },
    after: { pausedForAuth: true, reason }, cause: a.job.cause, at: a.now,
  });
  if (a.sink === "notify") return;
  const text = authPausedText({ sink: a.sink, reason, fix: FIX[a.sink] }, a.notices);
  const spec: JobSpec = { kind: "notify.slack", target: { alertId }, idempotencyKey: `alert:${alertId}:${a.now.getTime()}`, reason: "alert", text };
  tx.set(jobRef(db, notifyId), newJobDoc(notifyId, spec, { type: "alert", jobId: a.job.jobId }, a.now));
}

const FIX: Record<SinkName, string> = {
  crm: "Replace HUBSPOT_TOKEN (firebase functions:secrets:set HUBSPOT_TOKEN) or give the private app its scopes; the sink resumes on the next run with the new token, or call the admin API's resumeSink.",
  helpdesk: "Replace the helpdesk token (HUBSPOT_TOKEN or ZENDESK_TOKEN / ZENDESK_EMAIL); the sink resumes on the next run with the new token, or call resumeSink.",
  notify: "Replace SLACK_WEBHOOK_URL (the webhook was revoked or its channel archived); the sink resumes with the new URL, or call resumeSink.",
  claims: "Check the functions' service account may manage Firebase Auth users, then call resumeSink.",
  stripe: "Replace STRIPE_SECRET_KEY with a key that may read events and objects; the sink resumes with the new key, or call resumeSink.",
};

/**
 * Record-before-send for notifications: mark the job as "posting" before calling Slack. A later run that finds the
 * mark does not post again (at most once; see docs/architecture.md). `false` when this worker no longer owns the job.
 */
export async function markSending(db: Firestore, job: JobDoc, now: Date): Promise<"send" | "already_started" | "lease_lost"> {
  return db.runTransaction(async (tx) => {
    const ref = jobRef(db, job.jobId);
    const current = await owned(tx, ref, job, now);
    if (!current) return "lease_lost" as const;
    if (current.sendStartedAt) return "already_started" as const;
    tx.update(ref, { sendStartedAt: now, updatedAt: now });
    return "send" as const;
  });
}
