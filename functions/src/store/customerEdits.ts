/**
 * Customer records written outside the Stripe ingest: a new Auth user's record (created once) and a staff edit
 * (audited under an id derived from the trigger event, with a CRM contact resync through the customer's live job).
 * Which edits count and what the record holds are services/support.ts's decisions.
 */
import { FieldValue, type Firestore } from "firebase-admin/firestore";
import type { CustomerDoc, JobSpec } from "../domain/model.js";
import { auditIn, auditRef, type AuditEntry } from "./audit.js";
import type { JobDoc } from "./jobs.js";
import { planJobs } from "./liveJobs.js";
import { COL } from "./paths.js";

export interface PlannedJob {
  spec: JobSpec;
  causeKey: string;
  cause: JobDoc["cause"];
}

/** Creates `customers/{uid}` (built by `record(jobId)` around the planned job's id) with its job and audit entry, unless it exists. */
export async function createCustomerOnce(
  db: Firestore,
  uid: string,
  create: { job: PlannedJob; record: (jobId: string) => CustomerDoc; audit: AuditEntry; now: Date },
): Promise<boolean> {
  const ref = db.collection(COL.customers).doc(uid);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (snap.exists) return false;
    const planned = await planJobs(db, tx, [create.job.spec], create.job.causeKey, create.job.cause, create.now);
    tx.set(ref, create.record(planned.ids[0] ?? ""));
    planned.write();
    auditIn(db, tx, create.audit);
    return true;
  });
}

/**
 * Plans the resync and writes the audit entry under `auditId` (a second firing of the same event writes the same
 * documents). `keepStaffTier`: the tier is now the person's choice (later plan changes keep it), and the editor's
 * uid, staff data, leaves the record the customer reads (supportTier itself is untouched: no further edit).
 */
export async function recordStaffEdit(
  db: Firestore,
  edit: { uid: string; job: PlannedJob; audit: AuditEntry; auditId: string; keepStaffTier: boolean; now: Date },
): Promise<void> {
  await db.runTransaction(async (tx) => {
    // Reads (the live job) first, as a transaction requires.
    const planned = await planJobs(db, tx, [edit.job.spec], edit.job.causeKey, edit.job.cause, edit.now);
    planned.write();
    auditIn(db, tx, edit.audit, auditRef(db, edit.auditId));
    if (edit.keepStaffTier) {
      tx.set(db.collection(COL.customers).doc(edit.uid), { supportTierSource: "staff", lastEditedBy: FieldValue.delete() }, { merge: true });
    }
  });
}
