/** Queries and transactions for work that no new Stripe event starts: stuck ledger entries, grace that ran out. */
import type { Firestore } from "firebase-admin/firestore";
import { recomputeCustomer } from "../domain/apply.js";
import type { BillingDoc, CustomerDoc } from "../domain/model.js";
import type { SnapshotSet } from "../domain/snapshots.js";
import { fromFirestore } from "./db.js";
import { writePlan } from "./ingest.js";
import { COL, billingPath, customerSnapshotsPath } from "./paths.js";

export async function findStaleReceivedEvents(db: Firestore, receivedBefore: Date, limit: number): Promise<string[]> {
  const snap = await db.collection(COL.stripeEvents).where("status", "==", "received").where("receivedAt", "<=", receivedBefore).orderBy("receivedAt").limit(limit).get();
  return snap.docs.map((d) => d.id);
}

export async function findCustomersWithGraceEndedBy(db: Firestore, now: Date, limit: number): Promise<string[]> {
  const snap = await db.collection(COL.customers).where("entitlementsGraceUntil", "<=", now).orderBy("entitlementsGraceUntil").limit(limit).get();
  return snap.docs.map((d) => d.id);
}

/** Re-derives one customer's record at `now` in a transaction; true when something changed. */
export async function recomputeCustomerRecord(db: Firestore, uid: string, opts: { now: Date; graceDays: number }): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const [cSnap, bSnap, sSnap] = await tx.getAll(db.collection(COL.customers).doc(uid), db.doc(billingPath(uid)), db.doc(customerSnapshotsPath(uid)));
    if (!cSnap?.exists) return false;
    const customer = fromFirestore<CustomerDoc>(cSnap.data());
    const plan = recomputeCustomer({
      uid,
      now: opts.now,
      graceDays: opts.graceDays,
      customer,
      billing: bSnap?.exists ? fromFirestore<BillingDoc>(bSnap.data()) : null,
      snapshots: sSnap?.exists ? fromFirestore<SnapshotSet>(sSnap.data()) : null,
      // Deterministic per grace deadline: a second sweep of the same expiry plans the same job ids.
      cause: `grace_${uid}_${customer.entitlementsGraceUntil?.getTime() ?? 0}`,
    });
    if (!plan.customer && !plan.billing) return false;
    await writePlan(db, tx, plan, null, opts.now);
    return true;
  });
}
