/**
 * What opsStatus reads: single documents (ops/automation, sinkState/*) and count() aggregations, plus two
 * `limit(1)` reads (the oldest waiting job, the last reconcile run). Cost does not grow with the data: each
 * count is one aggregation query, billed per 1,000 index entries counted, never a document scan.
 */
import type { Firestore } from "firebase-admin/firestore";
import { JOB_KINDS, type JobKind } from "../domain/model.js";
import { SINK_NAMES, WAITING_JOB_STATUSES, type HealthFacts } from "../domain/opsHealth.js";
import { fromFirestore } from "./db.js";
import { AUTOMATION_DOC, COL } from "./paths.js";

type Doc = Record<string, unknown>;

/** Reconcile runs (`ops/reconcile/runs/{runId}`), written by the reconciliation job when it exists. */
export const RECONCILE_RUNS = { parent: "reconcile", collection: "runs" } as const;

const count = async (q: FirebaseFirestore.Query): Promise<number> => (await q.count().get()).data().count;

export async function readHealthFacts(db: Firestore, now: Date, windowMs: number): Promise<HealthFacts> {
  const since = new Date(now.getTime() - windowMs);
  const perKind = (status: "waiting" | "dead") =>
    Promise.all(
      JOB_KINDS.map((kind) =>
        status === "waiting"
          ? count(db.collection(COL.syncJobs).where("kind", "==", kind).where("status", "in", [...WAITING_JOB_STATUSES]))
          : count(db.collection(COL.syncJobs).where("kind", "==", kind).where("status", "==", "dead")),
      ),
    ).then((n) => Object.fromEntries(JOB_KINDS.map((k, i) => [k, n[i] ?? 0])) as Record<JobKind, number>);

  const [automation, sinkSnaps, waitingByKind, deadByKind, oldest, openAlerts, ledgerTotal, ledgerFailed, jobsSucceeded, jobsDead, runs] =
    await Promise.all([
      db.doc(AUTOMATION_DOC).get(),
      db.getAll(...SINK_NAMES.map((s) => db.collection(COL.sinkState).doc(s))),
      perKind("waiting"),
      perKind("dead"),
      db.collection(COL.syncJobs).where("status", "in", [...WAITING_JOB_STATUSES]).orderBy("createdAt", "asc").limit(1).get(),
      count(db.collection(COL.alerts).where("status", "==", "open")),
      count(db.collection(COL.stripeEvents).where("receivedAt", ">=", since)),
      count(db.collection(COL.stripeEvents).where("status", "==", "failed").where("receivedAt", ">=", since)),
      count(db.collection(COL.syncJobs).where("status", "==", "succeeded").where("completedAt", ">=", since)),
      count(db.collection(COL.syncJobs).where("status", "==", "dead").where("updatedAt", ">=", since)),
      db.collection(COL.ops).doc(RECONCILE_RUNS.parent).collection(RECONCILE_RUNS.collection).orderBy("startedAt", "desc").limit(1).get(),
    ]);
  const doc = (snap: FirebaseFirestore.DocumentSnapshot): Doc | null => (snap.exists ? fromFirestore<Doc>(snap.data()) : null);
  const run = runs.docs[0];
  return {
    automation: doc(automation),
    sinkStates: Object.fromEntries(SINK_NAMES.map((s, i) => [s, sinkSnaps[i] ? doc(sinkSnaps[i]) : null])),
    waitingByKind,
    deadByKind,
    oldestWaiting: oldest.docs[0] ? fromFirestore<Doc>(oldest.docs[0].data()) : null,
    openAlerts,
    window: { ledgerTotal, ledgerFailed, jobsSucceeded, jobsDead },
    lastReconcile: run ? { id: run.id, ...fromFirestore<Doc>(run.data()) } : null,
  };
}
