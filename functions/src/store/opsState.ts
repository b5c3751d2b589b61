/**
 * State of the maintenance runs, in `ops/*` where a founder reads it in the console: `ops/backfill` (the resumable
 * import cursor), `ops/eventSweep` (the missed-event sweep's high-water mark) and `ops/reconcile/runs/{runId}`.
 */
import type { Firestore } from "firebase-admin/firestore";
import { fromFirestore } from "./db.js";
import { COL } from "./paths.js";

export const OPS_DOCS = {
  backfill: `${COL.ops}/backfill`,
  eventSweep: `${COL.ops}/eventSweep`,
  reconcileRuns: `${COL.ops}/reconcile/runs`,
} as const;

export interface BackfillState {
  runId: string;
  status: "running" | "aborted" | "done" | "failed";
  /** The last Stripe customer id fully imported; the next run starts after it (lists run newest first). */
  cursor: string | null;
  noSync: boolean;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  customers: number;
  imported: number;
  unchanged: number;
  review: number;
  conflicts: number;
  skipped: number;
  jobs: number;
  error: string | null;
}

export interface SweepState {
  /** Events created before this were listed by an earlier sweep. */
  highWaterMark: Date | null;
  lastRunAt: Date | null;
  /** Events the last run put through the ledger. */
  applied: number;
  listed: number;
  skipped: number;
  failed: number;
}

async function read<T>(db: Firestore, path: string): Promise<T | null> {
  const snap = await db.doc(path).get();
  return snap.exists ? fromFirestore<T>(snap.data()) : null;
}

export const readBackfillState = (db: Firestore) => read<BackfillState>(db, OPS_DOCS.backfill);
export const readSweepState = (db: Firestore) => read<SweepState>(db, OPS_DOCS.eventSweep);

export async function writeBackfillState(db: Firestore, state: BackfillState): Promise<void> {
  await db.doc(OPS_DOCS.backfill).set(state);
}

export async function writeSweepState(db: Firestore, state: SweepState): Promise<void> {
  await db.doc(OPS_DOCS.eventSweep).set(state);
}

export async function writeReconcileRun(db: Firestore, runId: string, run: Record<string, unknown>): Promise<void> {
  await db.collection(OPS_DOCS.reconcileRuns).doc(runId).set(run);
}

export async function latestReconcileRun(db: Firestore): Promise<Record<string, unknown> | null> {
  const snap = await db.collection(COL.ops).doc("reconcile").collection("runs").orderBy("startedAt", "desc").limit(1).get();
  const doc = snap.docs[0];
  return doc ? fromFirestore<Record<string, unknown>>(doc.data()) : null;
}

/** Existing `stripeCustomers/{cus}` mappings of these customers (one batched read). */
export async function readMappings(db: Firestore, customerIds: string[]): Promise<Map<string, string>> {
  if (customerIds.length === 0) return new Map();
  const snaps = await db.getAll(...customerIds.map((id) => db.collection(COL.stripeCustomers).doc(id)));
  const out = new Map<string, string>();
  for (const s of snaps) {
    const uid = s.get("uid");
    if (s.exists && typeof uid === "string") out.set(s.id, uid);
  }
  return out;
}

/** Which of these event ids the ledger already has (one batched read per 100). */
export async function ledgerHas(db: Firestore, eventIds: string[]): Promise<Set<string>> {
  const have = new Set<string>();
  for (let i = 0; i < eventIds.length; i += 100) {
    const refs = eventIds.slice(i, i + 100).map((id) => db.collection(COL.stripeEvents).doc(id));
    if (refs.length === 0) continue;
    for (const s of await db.getAll(...refs)) if (s.exists) have.add(s.id);
  }
  return have;
}

/** Counts for the status view: documents per status in the ledger, the queue, alerts and the review queue. */
export async function statusCounts(db: Firestore): Promise<Record<string, Record<string, number>>> {
  const n = async (q: FirebaseFirestore.Query) => (await q.count().get()).data().count;
  const [received, failed, needsReview, pending, running, retrying, dead, paused, alerts, review] = await Promise.all([
    n(db.collection(COL.stripeEvents).where("status", "==", "received")),
    n(db.collection(COL.stripeEvents).where("status", "==", "failed")),
    n(db.collection(COL.stripeEvents).where("status", "==", "needs_review")),
    n(db.collection(COL.syncJobs).where("status", "==", "pending")),
    n(db.collection(COL.syncJobs).where("status", "==", "running")),
    n(db.collection(COL.syncJobs).where("status", "==", "retrying")),
    n(db.collection(COL.syncJobs).where("status", "==", "dead")),
    n(db.collection(COL.syncJobs).where("status", "==", "paused")),
    n(db.collection("alerts").where("status", "==", "open")),
    n(db.collection(COL.reviewQueue).where("status", "==", "open")),
  ]);
  return {
    ledger: { received, failed, needs_review: needsReview },
    jobs: { pending, running, retrying, dead, paused },
    alerts: { open: alerts },
    review: { open: review },
  };
}

export async function readAutomation(db: Firestore): Promise<{ paused: boolean; reason: string | null }> {
  const snap = await db.doc(`${COL.ops}/automation`).get();
  return { paused: snap.get("paused") === true, reason: (snap.get("reason") as string | undefined) ?? null };
}
