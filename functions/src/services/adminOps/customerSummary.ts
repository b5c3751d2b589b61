/** Admin operation `customerSummary`: one customer's record, billing (finance/admin), staff notes, jobs and audit trail (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import type { DocumentData, QueryDocumentSnapshot } from "firebase-admin/firestore";
import {
  BILLING_READER_ROLES,
  OPEN_JOB_STATUSES,
  shapeCustomerSummary,
  STAFF_NOTES_READER_ROLES,
} from "../../domain/adminOps.js";
import { hasAnyRole } from "../../domain/roles.js";
import { fromFirestore } from "../../store/db.js";
import { billingPath, COL, staffNotesPath } from "../../store/paths.js";
import { notFound } from "./errors.js";
import type { Handler } from "./types.js";

export const customerSummary: Handler<"customerSummary"> = async ({ deps, caller }, input) => {
  const { db } = deps;
  const readsBilling = hasAnyRole(caller.roles, BILLING_READER_ROLES);
  const readsNotes = hasAnyRole(caller.roles, STAFF_NOTES_READER_ROLES);
  const [customerSnap, billingSnap, notesSnap, jobsSnap, auditSnap] = await Promise.all([
    db.collection(COL.customers).doc(input.uid).get(),
    readsBilling ? db.doc(billingPath(input.uid)).get() : Promise.resolve(null),
    readsNotes ? db.doc(staffNotesPath(input.uid)).get() : Promise.resolve(null),
    db
      .collection(COL.syncJobs)
      .where("target.uid", "==", input.uid)
      .where("status", "in", [...OPEN_JOB_STATUSES])
      .limit(100)
      .get(),
    db.collection(COL.auditLog).where("target", "==", `${COL.customers}/${input.uid}`).orderBy("at", "desc").limit(20).get(),
  ]);
  if (!customerSnap.exists) throw notFound(`no customer record ${COL.customers}/${input.uid}`);
  const docs = (snaps: QueryDocumentSnapshot<DocumentData>[]) => snaps.map((d) => fromFirestore<Record<string, unknown>>(d.data()));
  const summary = shapeCustomerSummary(
    {
      uid: input.uid,
      customer: fromFirestore<Record<string, unknown>>(customerSnap.data()),
      billing: billingSnap?.exists ? fromFirestore<Record<string, unknown>>(billingSnap.data()) : null,
      staffNotes: notesSnap?.exists ? fromFirestore<Record<string, unknown>>(notesSnap.data()) : null,
      jobs: docs(jobsSnap.docs),
      audit: docs(auditSnap.docs),
    },
    caller.roles,
  );
  return { outcome: "read", result: { operation: "customerSummary", ...summary } };
};
