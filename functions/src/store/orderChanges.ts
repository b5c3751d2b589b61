/**
 * A change to one order made by a person (seller fulfilment, admin), in one transaction: read the order, let the
 * caller's decision say what to write (the order update, its audit entry, a job), write it. No rules here: the
 * state machine is domain/orders.ts, who may do what is the service's.
 */
import type { Firestore } from "firebase-admin/firestore";
import type { JobSpec, OrderDoc } from "../domain/model.js";
import { auditIn, type AuditEntry } from "./audit.js";
import { fromFirestore } from "./db.js";
import { jobRef, newJobDoc, type JobDoc } from "./jobs.js";
import { COL } from "./paths.js";

export interface OrderChange<R> {
  result: R;
  update?: Record<string, unknown>;
  audit?: AuditEntry;
  job?: { id: string; spec: JobSpec; cause: JobDoc["cause"] };
}

export async function changeOrder<R>(db: Firestore, orderId: string, now: Date, decide: (order: OrderDoc | null) => OrderChange<R>): Promise<R> {
  const ref = db.collection(COL.orders).doc(orderId);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const change = decide(snap.exists ? fromFirestore<OrderDoc>(snap.data()) : null);
    if (change.update) tx.update(ref, change.update);
    if (change.audit) auditIn(db, tx, change.audit);
    if (change.job) tx.set(jobRef(db, change.job.id), newJobDoc(change.job.id, change.job.spec, change.job.cause, now));
    return change.result;
  });
}
