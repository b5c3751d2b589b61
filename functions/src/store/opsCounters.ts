/**
 * Per-minute rolled-up counters for the signal alerts: `ops/counters/minutes/{minute}` holds, for one minute that
 * has ended, the deliveries received and recorded failed, and the sync jobs finished succeeded and dead. The sweep
 * writes a minute once, from four count() aggregations bounded to that minute; the alerts read the window's minutes
 * in one batched get. Nothing is written on the webhook or job path, so the counters add no contention under load.
 */
import type { Firestore, Query } from "firebase-admin/firestore";
import { MINUTE_MS, minuteId, type MinuteCounts } from "../domain/alertSignals.js";
import { WAITING_JOB_STATUSES } from "../domain/opsHealth.js";
import { fromFirestore } from "./db.js";
import { COL } from "./paths.js";

export const COUNTERS = { parent: "counters", collection: "minutes" } as const;
/** Rolled-up minutes are kept a day (a Firestore TTL policy on `expireAt` deletes them; harmless if absent). */
const KEEP_MS = 24 * 60 * MINUTE_MS;

const minutesCol = (db: Firestore) => db.collection(COL.ops).doc(COUNTERS.parent).collection(COUNTERS.collection);
const count = async (q: Query): Promise<number> => (await q.count().get()).data().count;

/**
 * Deliveries received / recorded failed (`receivedAt`) and jobs succeeded / dead (`completedAt`, or `updatedAt` as
 * Health documents it: the same instant for a job that died) in [from, to): four count() aggregations.
 */
export async function countRange(db: Firestore, from: Date, to: Date, deadBy: "completedAt" | "updatedAt" = "completedAt"): Promise<MinuteCounts> {
  const [deliveries, deliveriesFailed, jobsSucceeded, jobsDead] = await Promise.all([
    count(db.collection(COL.stripeEvents).where("receivedAt", ">=", from).where("receivedAt", "<", to)),
    count(db.collection(COL.stripeEvents).where("status", "==", "failed").where("receivedAt", ">=", from).where("receivedAt", "<", to)),
    count(db.collection(COL.syncJobs).where("status", "==", "succeeded").where("completedAt", ">=", from).where("completedAt", "<", to)),
    deadBy === "updatedAt"
      ? count(db.collection(COL.syncJobs).where("status", "==", "dead").where("updatedAt", ">=", from).where("updatedAt", "<", to))
      : count(db.collection(COL.syncJobs).where("status", "==", "dead").where("completedAt", ">=", from).where("completedAt", "<", to)),
  ]);
  return { deliveries, deliveriesFailed, jobsSucceeded, jobsDead };
}

const countMinute = (db: Firestore, start: Date): Promise<MinuteCounts> => countRange(db, start, new Date(start.getTime() + MINUTE_MS));

/** The rolled-up minutes among these (null: not rolled up yet), in one batched get. Writes nothing (opsStatus). */
export async function readRolledUpMinutes(db: Firestore, starts: Date[]): Promise<Array<MinuteCounts | null>> {
  if (starts.length === 0) return [];
  const snaps = await db.getAll(...starts.map((s) => minutesCol(db).doc(minuteId(s))));
  return snaps.map((snap) => (snap.exists ? fromFirestore<MinuteCounts>(snap.data()) : null));
}

/** The counts of these minutes (each has ended): read in one batched get; a minute not rolled up yet is, now. */
export async function readMinutes(db: Firestore, starts: Date[], now: Date): Promise<{ minutes: MinuteCounts[]; rolledUp: number }> {
  if (starts.length === 0) return { minutes: [], rolledUp: 0 };
  const refs = starts.map((s) => minutesCol(db).doc(minuteId(s)));
  const snaps = await db.getAll(...refs);
  let rolledUp = 0;
  const minutes = await Promise.all(
    snaps.map(async (snap, i) => {
      if (snap.exists) return fromFirestore<MinuteCounts>(snap.data());
      const start = starts[i] as Date;
      const counts = await countMinute(db, start);
      rolledUp += 1;
      await snap.ref.set({ minute: start, ...counts, rolledUpAt: now, expireAt: new Date(start.getTime() + KEEP_MS) });
      return counts;
    }),
  );
  return { minutes, rolledUp };
}

/** The oldest job still waiting to run (one `limit(1)` read on the (status, createdAt) index). */
export async function oldestWaitingJob(db: Firestore): Promise<{ jobId: string | null; kind: string | null; createdAt: Date | null }> {
  const snap = await db.collection(COL.syncJobs).where("status", "in", [...WAITING_JOB_STATUSES]).orderBy("createdAt", "asc").limit(1).get();
  const doc = snap.docs[0];
  if (!doc) return { jobId: null, kind: null, createdAt: null };
  const d = fromFirestore<{ kind?: string; createdAt?: Date }>(doc.data());
  return { jobId: doc.id, kind: d.kind ?? null, createdAt: d.createdAt instanceof Date ? d.createdAt : null };
}
