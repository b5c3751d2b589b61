/**
 * What a sync job reads when it runs (the canonical records as they are now: sync by state, not by delta) and the
 * ids it writes back, as writes for the runner's completing transaction (store/jobFinish.ts commits them only if
 * the worker still holds the lease). What to call and what to record is services/syncExecute.ts's.
 */
import type { Firestore, Transaction } from "firebase-admin/firestore";
import type { BillingDoc, CustomerDoc, OrderDoc } from "../domain/model.js";
import { readDoc } from "./db.js";
import { billingPath, COL } from "./paths.js";

/** One write of a completing job, run inside the runner's transaction. */
export type TxWrite = (tx: Transaction) => void;

export const readCustomer = (db: Firestore, uid: string) => readDoc<CustomerDoc>(db, `${COL.customers}/${uid}`);
export const readBilling = (db: Firestore, uid: string) => readDoc<BillingDoc>(db, billingPath(uid));
export const readOrder = (db: Firestore, orderId: string) => readDoc<OrderDoc>(db, `${COL.orders}/${orderId}`);
export const readTicketRequest = (db: Firestore, requestId: string) =>
  readDoc<{ uid: string; subject: string; message: string; category: string }>(db, `${COL.supportRequests}/${requestId}`);

/** Ids of the buyer's orders in one of `statuses` (at most 10, for a ticket's context). */
export async function buyerOrderIds(db: Firestore, uid: string, statuses: readonly string[]): Promise<string[]> {
  return (await db.collection(COL.orders).where("buyerUid", "==", uid).where("status", "in", [...statuses]).limit(10).get()).docs.map((d) => d.id);
}

/** Merges `fields` into `customers/{uid}` (a CRM id, a ticket entry). */
export const mergeCustomer = (db: Firestore, uid: string, fields: Record<string, unknown>): TxWrite => (tx) =>
  tx.set(db.collection(COL.customers).doc(uid), fields, { merge: true });

/** Merges `fields` into `orders/{orderId}`. */
export const mergeOrder = (db: Firestore, orderId: string, fields: Record<string, unknown>): TxWrite => (tx) =>
  tx.set(db.collection(COL.orders).doc(orderId), fields, { merge: true });

/** Merges `fields` into `supportRequests/{id}` (its ticket and notification status). */
export const mergeSupportRequest = (db: Firestore, requestId: string, fields: Record<string, unknown>): TxWrite => (tx) =>
  tx.set(db.collection(COL.supportRequests).doc(requestId), fields, { merge: true });
