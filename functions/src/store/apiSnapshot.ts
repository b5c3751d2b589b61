/** Applies an object read from the Stripe API to its owner's snapshots, in one transaction with the derived records. */
import type { Firestore } from "firebase-admin/firestore";
import { applyApiObject } from "../domain/apply.js";
import type { BillingDoc, CustomerDoc, LedgerStatus, OrderDoc } from "../domain/model.js";
import type { Subject } from "../domain/normalize.js";
import type { SnapshotSet } from "../domain/snapshots.js";
import { fromFirestore } from "./db.js";
import { writePlan } from "./ingest.js";
import { COL, billingPath, customerSnapshotsPath, orderSnapshotsPath } from "./paths.js";

export async function applyApiSnapshot(
  db: Firestore,
  input: { subject: Subject; fetchedAt: number; owner: { uid: string | null; orderId: string | null }; cause: string; graceDays: number; now: Date },
): Promise<LedgerStatus> {
  const { uid, orderId } = input.owner;
  return db.runTransaction(async (tx) => {
    let customer: CustomerDoc | null = null;
    let billing: BillingDoc | null = null;
    let order: OrderDoc | null = null;
    let snapshots: SnapshotSet | null = null;
    if (orderId) {
      const [o, s] = await tx.getAll(db.collection(COL.orders).doc(orderId), db.doc(orderSnapshotsPath(orderId)));
      order = o?.exists ? fromFirestore<OrderDoc>(o.data()) : null;
      snapshots = s?.exists ? fromFirestore<SnapshotSet>(s.data()) : null;
    } else if (uid) {
      const [c, b, s] = await tx.getAll(db.collection(COL.customers).doc(uid), db.doc(billingPath(uid)), db.doc(customerSnapshotsPath(uid)));
      customer = c?.exists ? fromFirestore<CustomerDoc>(c.data()) : null;
      billing = b?.exists ? fromFirestore<BillingDoc>(b.data()) : null;
      snapshots = s?.exists ? fromFirestore<SnapshotSet>(s.data()) : null;
    }
    const plan = applyApiObject({
      subject: input.subject,
      fetchedAt: input.fetchedAt,
      cause: input.cause,
      now: input.now,
      graceDays: input.graceDays,
      owner: { uid, order: orderId ? { orderId, buyerUid: order?.buyerUid ?? null, sellerUid: order?.sellerUid ?? null } : null, stripeCustomerId: customer?.stripeCustomerId ?? null, source: "mapping", conflict: null },
      // The mapping exists already (the event that asked for revalidation was attributed).
      mappingUid: uid,
      customer,
      billing,
      order,
      snapshots,
    });
    await writePlan(db, tx, plan, null, input.now);
    return plan.status;
  });
}
