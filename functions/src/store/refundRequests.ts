/**
 * Refund requests in `reviewQueue` (reason `refund_requested`): support flags one per target (flagRefund), finance
 * closes it (resolveRefundRequest). The transactions read and write; what counts as "unchanged" or "refused" is the
 * caller's decision, passed in.
 */
import type { Firestore } from "firebase-admin/firestore";
import { auditIn, type AuditEntry } from "./audit.js";
import { fromFirestore, readDoc } from "./db.js";
import { COL } from "./paths.js";

type Doc = Record<string, unknown>;

/** The fields of a flag that a later flag of the same target may change. */
export interface RefundFlagState {
  detail: unknown;
  amount: unknown;
  status: unknown;
}

export interface RefundFlag {
  reviewId: string;
  detail: string;
  amount: number | null;
  orderId: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  by: string;
  now: Date;
}

/**
 * Creates the refund request, or updates (and reopens) the one for the same target, with its audit entry in the
 * same commit. `unchanged(before)` true writes nothing.
 */
export async function upsertRefundFlag(
  db: Firestore,
  flag: RefundFlag,
  decide: { unchanged: (before: RefundFlagState | null) => boolean; audit: (before: RefundFlagState | null) => AuditEntry },
): Promise<{ changed: boolean; created: boolean; before: RefundFlagState | null }> {
  const ref = db.collection(COL.reviewQueue).doc(flag.reviewId);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const before = snap.exists ? { detail: snap.get("detail") ?? null, amount: snap.get("amount") ?? null, status: snap.get("status") ?? null } : null;
    if (decide.unchanged(before)) return { changed: false, created: false, before };
    if (!before) {
      tx.create(ref, {
        reviewId: flag.reviewId,
        reason: "refund_requested",
        detail: flag.detail,
        status: "open",
        orderId: flag.orderId,
        chargeId: flag.chargeId,
        paymentIntentId: flag.paymentIntentId,
        amount: flag.amount,
        requestedBy: flag.by,
        createdAt: flag.now,
        updatedAt: flag.now,
      });
    } else {
      tx.update(ref, { detail: flag.detail, amount: flag.amount, status: "open", updatedBy: flag.by, updatedAt: flag.now });
    }
    auditIn(db, tx, decide.audit(before));
    return { changed: true, created: !before, before };
  });
}

/** A review item as stored, or null. */
export const readReviewItem = (db: Firestore, id: string): Promise<Doc | null> => readDoc(db, `${COL.reviewQueue}/${id}`);

/**
 * Closes a refund request with finance's decision and its audit entry in one commit. `refuse(current)` is checked
 * again inside the transaction (the item may have changed since it was shown); a returned error is thrown.
 */
export async function closeRefundRequest(
  db: Firestore,
  requestId: string,
  close: { update: Doc; refuse: (current: Doc | null) => Error | null; audit: AuditEntry },
): Promise<void> {
  const ref = db.collection(COL.reviewQueue).doc(requestId);
  await db.runTransaction(async (tx) => {
    const fresh = await tx.get(ref);
    const again = close.refuse(fresh.exists ? fromFirestore<Doc>(fresh.data()) : null);
    if (again) throw again;
    tx.update(ref, close.update);
    auditIn(db, tx, close.audit);
  });
}
