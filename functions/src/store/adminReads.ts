/**
 * What the admin operations read before they act or show: plain data, no decisions (services/adminOps/ decide).
 * Each query keeps its literal shape so test/unit/indexes.test.ts can check its index.
 */
import type { Firestore } from "firebase-admin/firestore";
import { fromFirestore, readDoc } from "./db.js";
import { AUTOMATION_DOC, billingPath, COL, staffNotesPath } from "./paths.js";

type Doc = Record<string, unknown>;

export interface CustomerSummaryDocs {
  /** null when there is no customer record. */
  customer: Doc | null;
  billing: Doc | null;
  staffNotes: Doc | null;
  /** The customer's unfinished (or dead) sync jobs, at most 100. */
  jobs: Doc[];
  /** The newest 20 audit entries about the customer record. */
  audit: Doc[];
}

/** One customer's record and what surrounds it; billing and staff notes only when the caller may see them. */
export async function readCustomerSummaryDocs(
  db: Firestore,
  uid: string,
  want: { billing: boolean; staffNotes: boolean; jobStatuses: readonly string[] },
): Promise<CustomerSummaryDocs> {
  const [customer, billing, staffNotes, jobsSnap, auditSnap] = await Promise.all([
    readDoc(db, `${COL.customers}/${uid}`),
    want.billing ? readDoc(db, billingPath(uid)) : Promise.resolve(null),
    want.staffNotes ? readDoc(db, staffNotesPath(uid)) : Promise.resolve(null),
    db
      .collection(COL.syncJobs)
      .where("target.uid", "==", uid)
      .where("status", "in", [...want.jobStatuses])
      .limit(100)
      .get(),
    db.collection(COL.auditLog).where("target", "==", `${COL.customers}/${uid}`).orderBy("at", "desc").limit(20).get(),
  ]);
  const docs = (snaps: { data(): unknown }[]) => snaps.map((d) => fromFirestore<Doc>(d.data()));
  return { customer, billing, staffNotes, jobs: docs(jobsSnap.docs), audit: docs(auditSnap.docs) };
}

/** The ledger entry's status and reason, or null when the event is not in the ledger. */
export async function readLedgerStatus(db: Firestore, eventId: string): Promise<{ status: string; reason: string | null } | null> {
  const entry = await readDoc(db, `${COL.stripeEvents}/${eventId}`);
  return entry ? { status: String(entry.status), reason: typeof entry.reason === "string" ? entry.reason : null } : null;
}

/** Type and status of each ledger entry that exists, in the order asked. */
export async function readLedgerOutcomes(db: Firestore, eventIds: string[]): Promise<{ eventId: string; eventType: unknown; status: unknown }[]> {
  if (!eventIds.length) return [];
  const snaps = await db.getAll(...eventIds.map((id) => db.collection(COL.stripeEvents).doc(id)));
  return snaps.map((snap) => ({ eventId: snap.id, eventType: snap.get("type") ?? null, status: snap.get("status") ?? null }));
}

/** A sink's auth pause (`sinkState/{sink}.pausedForAuth`), or null when it is not paused. */
export async function readSinkAuthPause(db: Firestore, sink: string): Promise<Doc | null> {
  const state = await readDoc<{ pausedForAuth?: Doc | null }>(db, `${COL.sinkState}/${sink}`);
  return state?.pausedForAuth ?? null;
}

/** A sync job as stored, or null. */
export const readJob = (db: Firestore, jobId: string): Promise<Doc | null> => readDoc(db, `${COL.syncJobs}/${jobId}`);

/** The kill switch document `ops/automation` as stored ({} when never set). */
export async function readAutomationDoc(db: Firestore): Promise<Doc> {
  return (await readDoc(db, AUTOMATION_DOC)) ?? {};
}

/** How many sync jobs are in one of these statuses (an aggregation query: one read per 1,000 jobs). */
export async function countJobsInStatuses(db: Firestore, statuses: readonly string[]): Promise<number> {
  return (await db.collection(COL.syncJobs).where("status", "in", [...statuses]).count().get()).data().count;
}
