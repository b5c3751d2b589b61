/**
 * Incident documents (`alerts/{incidentId}`) and their Slack notices. The decisions are domain/incidents.ts'; this
 * file reads and writes them in transactions. A notice is a notify.slack job created in the same transaction as the
 * change it announces, with an id per incident occurrence and transition, so each opening and each resolution is
 * posted at most once (record-before-send does the rest, as for every notification).
 */
import type { DocumentReference, Firestore, Transaction } from "firebase-admin/firestore";
import type { SignalIncident } from "../domain/alertSignals.js";
import { describeResolution, joinIncident, jobKey, recoveryKey, resolvedFields, settleIncident, type FailureInfo, type IncidentCause, type JoiningJob, type JoinResult } from "../domain/incidents.js";
import type { ListedJob } from "../domain/incidentRecheck.js";
import type { JobKind, JobSpec, JobStatus, JobTarget, SinkName } from "../domain/model.js";
import { incidentOpenedText, incidentResolvedText, type NoticeSettings } from "../domain/notices.js";
import { fromFirestore } from "./db.js";
import { jobRef, newJobDoc, notifyJobId } from "./jobs.js";
import { COL } from "./paths.js";
import { auditIn, type AuditEntry } from "./audit.js";

type Doc = Record<string, unknown>;

export const incidentRef = (db: Firestore, id: string): DocumentReference => db.collection(COL.alerts).doc(id);

/** Creates the notification job of an incident transition (`opened` / `resolved`) in the caller's transaction. */
export function writeIncidentNotice(db: Firestore, tx: Transaction, a: { incidentId: string; occurrence: number; transition: string; text: string; now: Date; causeJobId?: string }): void {
  const key = `incident:${a.incidentId}:${a.occurrence}:${a.transition}`;
  const id = notifyJobId(key);
  const spec: JobSpec = { kind: "notify.slack", target: { alertId: a.incidentId }, idempotencyKey: key, reason: "alert", text: a.text };
  tx.set(jobRef(db, id), newJobDoc(id, spec, { type: "alert", jobId: a.causeJobId ?? a.incidentId }, a.now));
}

export interface PreparedJoin {
  ref: DocumentReference;
  existing: Doc | null;
}

/** The read half of a join (a transaction reads everything before it writes). */
export async function prepareJoin(db: Firestore, tx: Transaction, id: string): Promise<PreparedJoin> {
  const ref = incidentRef(db, id);
  const snap = await tx.get(ref);
  return { ref, existing: snap.exists ? fromFirestore<Doc>(snap.data()) : null };
}

export interface JoinOptions {
  notices: NoticeSettings;
  probeDelayMs: number;
}

/** The write half: the incident after the job joined it and, when it opened now, its one Slack notice. */
export function writeJoin(db: Firestore, tx: Transaction, p: PreparedJoin, cause: IncidentCause, job: JoiningJob, failure: FailureInfo, now: Date, opts: JoinOptions): JoinResult {
  const result = joinIncident(p.existing, cause, job, failure, now, opts.probeDelayMs);
  tx.set(p.ref, result.doc);
  if (result.opened && cause.sink !== "notify") {
    const affected = result.doc.affected as { customers: string[] };
    const text = incidentOpenedText(
      {
        incidentId: p.ref.id,
        title: String(result.doc.title),
        owner: String(result.doc.owner),
        customers: affected.customers,
        affectedCount: Number(result.doc.affectedCount) || 0,
        nextStep: String((result.doc.nextStep as { text: string }).text),
        fix: String(result.doc.fix),
        errorMessage: failure.message,
      },
      opts.notices,
    );
    writeIncidentNotice(db, tx, { incidentId: p.ref.id, occurrence: result.occurrence, transition: "opened", text, now, causeJobId: job.jobId });
  }
  return result;
}

/**
 * A job still retrying joins its cause's incident in a transaction of its own (the job's own record is final); the
 * job notes the incident, so its success settles it.
 */
export async function joinIncidentNow(db: Firestore, id: string, cause: IncidentCause, job: JoiningJob, failure: FailureInfo, now: Date, opts: JoinOptions): Promise<JoinResult> {
  return db.runTransaction(async (tx) => {
    const prepared = await prepareJoin(db, tx, id);
    tx.set(jobRef(db, job.jobId), { incidentId: id }, { merge: true });
    return writeJoin(db, tx, prepared, cause, job, failure, now, opts);
  });
}

/** Whether any open vendor-wide incident of `sink` waits for a success of that sink (one `limit(1)` query). */
export async function recoveryWanted(db: Firestore, sink: SinkName): Promise<boolean> {
  return !(await db.collection(COL.alerts).where("openKeys", "array-contains", recoveryKey(sink)).limit(1).get()).empty;
}

/**
 * A job succeeded: every open incident that tracks its kind and target (or waits for any success of its sink) is
 * settled — the key leaves the incident, which resolves (with its Slack notice) when nothing it tracks is left.
 * Answers the dead jobs to retry: a vendor-wide incident's jobs, now that the vendor answered again.
 */
export async function settleIncidentsFor(db: Firestore, job: { jobId: string; kind: JobKind; target: JobTarget }, sink: SinkName, now: Date, notices: NoticeSettings): Promise<string[]> {
  const key = jobKey(job.kind, job.target);
  const found = await db.collection(COL.alerts).where("openKeys", "array-contains-any", [key, recoveryKey(sink)]).limit(20).get();
  const retry: string[] = [];
  for (const doc of found.docs) {
    const ids = await db.runTransaction(async (tx) => {
      const snap = await tx.get(doc.ref);
      if (!snap.exists) return [];
      const current = fromFirestore<Doc>(snap.data());
      const settled = settleIncident(current, { key, jobId: job.jobId, sink }, now);
      if (!settled.update) return [];
      tx.update(doc.ref, settled.update);
      if (settled.resolved) writeResolvedNotice(db, tx, doc.ref.id, current, "auto", null, now, notices);
      return settled.retry;
    });
    retry.push(...ids);
  }
  return retry;
}

export function writeResolvedNotice(db: Firestore, tx: Transaction, id: string, current: Doc, by: string, note: string | null, now: Date, notices: NoticeSettings): void {
  if (current.sink === "notify") return;
  const occurrence = Number(current.occurrence ?? current.occurrences) || 1;
  const text = incidentResolvedText({ incidentId: id, title: String(current.title ?? id), how: describeResolution(by), note }, notices);
  writeIncidentNotice(db, tx, { incidentId: id, occurrence, transition: "resolved", text, now });
}

export type IncidentChange = { ok: true; before: Doc; after: Doc } | { ok: false; reason: "missing" | "resolved" };

/** Runs `change` on an open incident in a transaction (with its audit entry); missing or resolved: nothing. */
async function changeOpenIncident(db: Firestore, id: string, change: (tx: Transaction, current: Doc) => { before: Doc; after: Doc }, audit: (before: Doc, after: Doc) => AuditEntry): Promise<IncidentChange> {
  return db.runTransaction(async (tx): Promise<IncidentChange> => {
    const snap = await tx.get(incidentRef(db, id));
    if (!snap.exists) return { ok: false, reason: "missing" };
    const current = fromFirestore<Doc>(snap.data());
    if (current.status !== "open") return { ok: false, reason: "resolved" };
    const { before, after } = change(tx, current);
    auditIn(db, tx, audit(before, after));
    return { ok: true, before, after };
  });
}

/** Acknowledge: a person owns it now (with an optional note). The incident stays open; nothing is posted. */
export async function acknowledgeIncident(db: Firestore, id: string, ack: { by: string; note: string | null }, now: Date, audit: (before: Doc, after: Doc) => AuditEntry): Promise<IncidentChange> {
  return changeOpenIncident(
    db,
    id,
    (tx, current) => {
      const acknowledged = { by: ack.by, at: now, note: ack.note };
      tx.update(incidentRef(db, id), { acknowledged, updatedAt: now });
      return { before: { status: "open", acknowledged: current.acknowledged ?? null }, after: { status: "open", acknowledged } };
    },
    audit,
  );
}

/** Resolve by hand (with a note): closed now, one Slack notice; the jobs it tracked are left as they are. */
export async function resolveIncidentByHand(db: Firestore, id: string, r: { by: string; note: string }, now: Date, notices: NoticeSettings, audit: (before: Doc, after: Doc) => AuditEntry): Promise<IncidentChange> {
  return changeOpenIncident(
    db,
    id,
    (tx, current) => {
      tx.update(incidentRef(db, id), resolvedFields(now, r.by, { note: r.note, by: r.by }));
      writeResolvedNotice(db, tx, id, current, r.by, r.note, now, notices);
      return { before: { status: "open" }, after: { status: "resolved", resolvedBy: r.by, note: r.note } };
    },
    audit,
  );
}

export async function readIncident(db: Firestore, id: string): Promise<Doc | null> {
  const snap = await incidentRef(db, id).get();
  return snap.exists ? fromFirestore<Doc>(snap.data()) : null;
}

// ---- Signal incidents (failure rate, backlog age) ---------------------------------------------------------

/** Opens (or refreshes) a signal incident; announces it once per occurrence. True when it opened now. */
export async function raiseSignal(db: Firestore, s: SignalIncident, now: Date, notices: NoticeSettings): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const ref = incidentRef(db, s.id);
    const snap = await tx.get(ref);
    const current = snap.exists ? fromFirestore<Doc>(snap.data()) : null;
    const open = current?.status === "open";
    const occurrence = open ? Number(current?.occurrence) || 1 : (Number(current?.occurrence) || 0) + 1;
    const nextStep = { action: "waiting_for_person", at: null, text: s.nextStep };
    const base = { alertId: s.id, type: s.type, status: "open", occurrence, title: s.title, owner: s.owner, fix: s.fix, nextStep, signal: s.signal, sink: null, scope: "opsync", updatedAt: now };
    tx.set(ref, open ? base : { ...base, createdAt: now, acknowledged: null, resolvedAt: null, resolvedBy: null, resolution: null, openKeys: [], jobCount: 0, affected: { customers: [], orders: [] }, affectedCount: 0 });
    if (!open) {
      const text = incidentOpenedText({ incidentId: s.id, title: s.title, owner: s.owner, customers: [], affectedCount: 0, nextStep: s.nextStep, fix: s.fix, errorMessage: null }, notices);
      writeIncidentNotice(db, tx, { incidentId: s.id, occurrence, transition: "opened", text, now });
    }
    return !open;
  });
}

/** Closes a signal incident whose signal dropped; announces it once. True when it was open. */
export async function clearSignal(db: Firestore, id: string, signal: Doc, now: Date, notices: NoticeSettings): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const ref = incidentRef(db, id);
    const snap = await tx.get(ref);
    if (!snap.exists || snap.get("status") !== "open") return false;
    const current = fromFirestore<Doc>(snap.data());
    tx.update(ref, { ...resolvedFields(now, "signal", null), signal });
    writeResolvedNotice(db, tx, id, current, "signal", null, now, notices);
    return true;
  });
}

// ---- Probes ------------------------------------------------------------------------------------------------

/** Vendor-wide incidents whose dead jobs are due a probe (one retry to see whether the vendor is back). */
export async function dueProbes(db: Firestore, now: Date, limit: number): Promise<Array<{ id: string; deadJobIds: string[] }>> {
  const snap = await db.collection(COL.alerts).where("probeAt", "<=", now).limit(limit).get();
  return snap.docs
    .filter((d) => d.get("status") === "open")
    .map((d) => ({ id: d.id, deadJobIds: Array.isArray(d.get("deadJobIds")) ? (d.get("deadJobIds") as string[]) : [] }));
}

/** After a probe (`probeJobId`, or null when no dead job was left to retry): the next one not before `nextAt`. */
export async function markProbed(db: Firestore, id: string, probeJobId: string | null, nextAt: Date, now: Date): Promise<void> {
  const text = probeJobId
    ? `opsync retried job ${probeJobId} to see whether the vendor is back; if it succeeds, the other dead jobs are retried at once. Next probe at the time shown.`
    : "No dead job was left to retry; the incident resolves when its remaining jobs succeed, or resolve it by hand.";
  await incidentRef(db, id).update({ probeAt: nextAt, lastProbe: { jobId: probeJobId, at: now }, nextStep: { action: "probe", at: nextAt, text }, updatedAt: now });
}

// ---- Re-checks (a crash between a job's success and its incident's update) ---------------------------------

export interface RecheckCandidate {
  id: string;
  doc: Doc;
  jobs: Array<ListedJob | null>;
}

/** Open incidents due a re-check (`settleCheckAt` passed), with their listed jobs as they are now. */
export async function dueRechecks(db: Firestore, now: Date, limit: number): Promise<RecheckCandidate[]> {
  const snap = await db.collection(COL.alerts).where("settleCheckAt", "<=", now).limit(limit).get();
  const out: RecheckCandidate[] = [];
  for (const d of snap.docs) {
    const doc = fromFirestore<Doc>(d.data());
    const ids = Array.isArray(doc.jobIds) ? doc.jobIds.filter((x): x is string => typeof x === "string") : [];
    const snaps = ids.length ? await db.getAll(...ids.map((id) => jobRef(db, id))) : [];
    const jobs = snaps.map((s): ListedJob | null => {
      if (!s.exists) return null;
      const j = fromFirestore<Doc>(s.data());
      return {
        jobId: s.id,
        kind: j.kind as JobKind,
        target: (j.target ?? {}) as JobTarget,
        status: j.status as JobStatus,
        incidentId: typeof j.incidentId === "string" ? j.incidentId : null,
        updatedAt: j.updatedAt instanceof Date ? j.updatedAt : null,
      };
    });
    out.push({ id: d.id, doc, jobs });
  }
  return out;
}

/**
 * Resolves an incident the re-check found settled, with the same one Slack notice as the runner's settle — unless it
 * changed since it was read (a job joined or settled it meanwhile): then nothing, and the next look decides.
 */
export async function resolveRechecked(db: Firestore, id: string, seenUpdatedAt: unknown, now: Date, notices: NoticeSettings): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const ref = incidentRef(db, id);
    const snap = await tx.get(ref);
    if (!snap.exists) return false;
    const current = fromFirestore<Doc>(snap.data());
    const same = current.updatedAt instanceof Date && seenUpdatedAt instanceof Date && current.updatedAt.getTime() === seenUpdatedAt.getTime();
    if (current.status !== "open" || !same) return false;
    tx.update(ref, resolvedFields(now, "auto", null));
    writeResolvedNotice(db, tx, id, current, "auto", null, now, notices);
    return true;
  });
}

/** Not settled (or not an incident the re-check can judge): the next look not before `nextAt`; nothing else changes. */
export async function postponeRecheck(db: Firestore, id: string, nextAt: Date | null): Promise<void> {
  await incidentRef(db, id).update({ settleCheckAt: nextAt });
}
