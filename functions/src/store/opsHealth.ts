/**
 * What opsStatus reads: single documents (ops/automation, sinkState/*, the rolled-up minutes of the window in one
 * batched get) and count() aggregations bounded by what they count: the backlog and the dead jobs per sink, open
 * alerts, and the part of the 15-minute window not rolled up yet (normally the last minute or two); plus two
 * `limit(1)` reads (the oldest waiting job, the last reconcile run). Read-only: a minute missing from the rolled-up
 * counters is counted, never written (the every-minute sweep writes them, store/opsCounters.ts).
 */
import type { Firestore, Query } from "firebase-admin/firestore";
import { JOB_KINDS, SINK_OF_JOB, type JobKind, type SinkName } from "../domain/model.js";
import { FINISHED_JOB_STATUSES, KINDS_OF_SINK, SINK_NAMES, WAITING_JOB_STATUSES, healthWindow, liveRanges, windowFigures, type HealthFacts } from "../domain/opsHealth.js";
import { fromFirestore } from "./db.js";
import { countRange, readRolledUpMinutes } from "./opsCounters.js";
import { AUTOMATION_DOC, COL } from "./paths.js";

type Doc = Record<string, unknown>;

/** Reconcile runs (`ops/reconcile/runs/{runId}`), written by the reconciliation job when it exists. */
export const RECONCILE_RUNS = { parent: "reconcile", collection: "runs" } as const;

const count = async (q: Query): Promise<number> => (await q.count().get()).data().count;

/** The open end of the current minute: Firestore's last timestamp (a clock a little ahead still counts). */
const END_OF_TIME = new Date("9999-12-31T23:59:59Z");

async function readWindow(db: Firestore, now: Date, windowMs: number): Promise<HealthFacts["window"]> {
  const { starts, currentStart } = healthWindow(now, windowMs);
  const plan = liveRanges(starts, await readRolledUpMinutes(db, starts), currentStart);
  return windowFigures(plan.rolled, await Promise.all(plan.ranges.map((r) => countRange(db, r.start, r.end ?? END_OF_TIME, "updatedAt"))));
}

/**
 * Waiting jobs per kind as `status not-in [succeeded, dead]` (one inequality: an `in` of the four waiting statuses is
 * four disjunctions, which the emulator answers with four walks), summed per sink; dead jobs per sink (`kind in`).
 * Eleven aggregations.
 */
async function backlogBySink(db: Firestore): Promise<{ waiting: Record<SinkName, number>; dead: Record<SinkName, number> }> {
  const waitingOf = (k: JobKind) => count(db.collection(COL.syncJobs).where("kind", "==", k).where("status", "not-in", [...FINISHED_JOB_STATUSES]));
  const deadOf = (s: SinkName) => count(db.collection(COL.syncJobs).where("kind", "in", KINDS_OF_SINK[s]).where("status", "==", "dead"));
  const [w, d] = await Promise.all([Promise.all(JOB_KINDS.map(waitingOf)), Promise.all(SINK_NAMES.map(deadOf))]);
  const waiting = Object.fromEntries(SINK_NAMES.map((s) => [s, 0])) as Record<SinkName, number>;
  JOB_KINDS.forEach((k, i) => (waiting[SINK_OF_JOB[k]] += w[i] ?? 0));
  return { waiting, dead: Object.fromEntries(SINK_NAMES.map((s, i) => [s, d[i] ?? 0])) as Record<SinkName, number> };
}

export async function readHealthFacts(db: Firestore, now: Date, windowMs: number): Promise<HealthFacts> {
  const [automation, sinkSnaps, backlog, oldest, openAlerts, window, runs] = await Promise.all([
    db.doc(AUTOMATION_DOC).get(),
    db.getAll(...SINK_NAMES.map((s) => db.collection(COL.sinkState).doc(s))),
    backlogBySink(db),
    db.collection(COL.syncJobs).where("status", "in", [...WAITING_JOB_STATUSES]).orderBy("createdAt", "asc").limit(1).get(),
    count(db.collection(COL.alerts).where("status", "==", "open")),
    readWindow(db, now, windowMs),
    db.collection(COL.ops).doc(RECONCILE_RUNS.parent).collection(RECONCILE_RUNS.collection).orderBy("startedAt", "desc").limit(1).get(),
  ]);
  const doc = (snap: FirebaseFirestore.DocumentSnapshot): Doc | null => (snap.exists ? fromFirestore<Doc>(snap.data()) : null);
  const run = runs.docs[0];
  return {
    automation: doc(automation),
    sinkStates: Object.fromEntries(SINK_NAMES.map((s, i) => [s, sinkSnaps[i] ? doc(sinkSnaps[i]) : null])),
    waitingBySink: backlog.waiting,
    deadBySink: backlog.dead,
    oldestWaiting: oldest.docs[0] ? fromFirestore<Doc>(oldest.docs[0].data()) : null,
    openAlerts,
    window,
    lastReconcile: run ? { id: run.id, ...fromFirestore<Doc>(run.data()) } : null,
  };
}
