/**
 * `supportRequests/{id}`: the reads the support flow needs and its one settling transaction (rejected, or received
 * with a ticket job and an audit entry). Whether a request is valid, the filer's own order, or over the rate limit
 * is services/support.ts's decision (domain/supportRequests.ts); this reads and writes.
 */
import type { Firestore } from "firebase-admin/firestore";
import type { JobSpec } from "../domain/model.js";
import type { OrderParties } from "../domain/supportRequests.js";
import { auditIn, type AuditEntry } from "./audit.js";
import { readDoc } from "./db.js";
import { jobRef, newJobDoc, type JobDoc } from "./jobs.js";
import { COL } from "./paths.js";

type Doc = Record<string, unknown>;

/** The request as filed, or null. */
export const readSupportRequest = (db: Firestore, requestId: string): Promise<Doc | null> => readDoc(db, `${COL.supportRequests}/${requestId}`);

/** The filer's requests created after `since` (id and status), for the rate limit. */
export async function recentSupportRequests(db: Firestore, uid: string, since: Date): Promise<{ id: string; status: unknown }[]> {
  const snap = await db.collection(COL.supportRequests).where("uid", "==", uid).where("createdAt", ">", since).get();
  return snap.docs.map((d) => ({ id: d.id, status: d.get("status") }));
}

export type SupportSettlement =
  | { status: "rejected"; reason: string }
  | { status: "received"; job: { id: string; spec: JobSpec; cause: JobDoc["cause"] }; audit: AuditEntry };

/**
 * Settles a request still without a status, once however often it is called: `decide` gets the stored request and
 * a reader of an order's parties (read in this transaction, so the check and the planned job see the same order).
 * Returns null when the request is gone or already settled.
 */
export async function settleSupportRequest(
  db: Firestore,
  requestId: string,
  now: Date,
  decide: (request: Doc, orderParties: (orderId: string) => Promise<OrderParties | null>) => Promise<SupportSettlement>,
): Promise<SupportSettlement | null> {
  const ref = db.collection(COL.supportRequests).doc(requestId);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists || snap.get("status")) return null;
    const orderParties = async (orderId: string): Promise<OrderParties | null> => {
      const order = await tx.get(db.collection(COL.orders).doc(orderId));
      return order.exists ? { buyerUid: order.get("buyerUid") ?? null, sellerUid: order.get("sellerUid") ?? null } : null;
    };
    const settlement = await decide({ ...snap.data() }, orderParties);
    if (settlement.status === "rejected") {
      tx.update(ref, { status: "rejected", reason: settlement.reason, updatedAt: now });
      return settlement;
    }
    const { id, spec, cause } = settlement.job;
    tx.set(jobRef(db, id), newJobDoc(id, spec, cause, now));
    tx.update(ref, { status: "received", jobId: id, updatedAt: now });
    auditIn(db, tx, settlement.audit);
    return settlement;
  });
}
