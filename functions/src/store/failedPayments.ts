/**
 * The failed-payment follow-up (admin resolveFailedPayment): what is shown first (the customer, the billing detail,
 * the dead sync jobs) and the confirmed write: one live CRM contact job, the customer's `sync.crm`, a staff-only
 * note on the failed-renewal ticket, and the audit entry, in one transaction. The caller decides the texts and
 * whether a ticket counts; this reads and writes.
 */
import { FieldPath, FieldValue, type DocumentReference, type Firestore } from "firebase-admin/firestore";
import type { JobSpec } from "../domain/model.js";
import { auditIn, type AuditEntry } from "./audit.js";
import { readDoc } from "./db.js";
import { planJobs } from "./liveJobs.js";
import { billingPath, COL, staffNotesPath } from "./paths.js";

type Doc = Record<string, unknown>;

export interface FailedPaymentDocs {
  /** null when there is no customer record. */
  customer: Doc | null;
  billing: Doc | null;
  /** The customer's dead sync jobs (at most 100), by id. */
  deadJobs: { jobId: string; kind: unknown; deadReason: unknown; attempts: unknown }[];
}

export async function readFailedPaymentDocs(db: Firestore, uid: string): Promise<FailedPaymentDocs> {
  const [customer, billing, deadSnap] = await Promise.all([
    readDoc(db, `${COL.customers}/${uid}`),
    readDoc(db, billingPath(uid)),
    db.collection(COL.syncJobs).where("target.uid", "==", uid).where("status", "==", "dead").limit(100).get(),
  ]);
  const deadJobs = [...deadSnap.docs]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((d) => ({ jobId: d.id, kind: d.get("kind") ?? null, deadReason: d.get("deadReason") ?? null, attempts: d.get("attempts") ?? null }));
  return { customer, billing, deadJobs };
}

export interface FollowUp {
  uid: string;
  spec: JobSpec;
  plannedJobId: string;
  /** The failed-renewal ticket to note, when the invoice names one. */
  ticketKey: string | null;
  note: string;
  by: string;
  now: Date;
  auditRef: DocumentReference;
}

/**
 * Plans the contact job and notes the ticket (only if `hasTicket(tickets)` holds for the customer's tickets as read
 * in the transaction). Returns whether the ticket was noted.
 */
export async function recordPaymentFollowUp(
  db: Firestore,
  f: FollowUp,
  decide: { hasTicket: (tickets: unknown) => boolean; audit: (ticketNoted: boolean) => AuditEntry },
): Promise<boolean> {
  const customerRef = db.collection(COL.customers).doc(f.uid);
  return db.runTransaction(async (tx) => {
    const current = await tx.get(customerRef);
    const hasTicket = decide.hasTicket(current.get("tickets")) && f.ticketKey !== null;
    const planned = await planJobs(db, tx, [f.spec], `admin_${f.auditRef.id}`, { type: "admin", auditId: f.auditRef.id }, f.now);
    planned.write();
    tx.update(customerRef, new FieldPath("sync", "crm"), { status: "pending", jobId: f.plannedJobId, at: f.now });
    if (hasTicket && f.ticketKey) {
      // Staff-only (it names the staff member): the customer reads customers/{uid}, never staff/notes.
      // `updatedAt` moves, so onStaffNotesWritten does not take this server write for a staff edit.
      tx.set(
        db.doc(staffNotesPath(f.uid)),
        { uid: f.uid, tickets: { [f.ticketKey]: { notes: FieldValue.arrayUnion({ note: f.note, by: f.by, at: f.now }) } }, updatedAt: f.now },
        { merge: true },
      );
    }
    auditIn(db, tx, decide.audit(hasTicket), f.auditRef);
    return hasTicket;
  });
}
