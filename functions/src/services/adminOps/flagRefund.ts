/** Admin operation `flagRefund`: support asks finance for a refund (reviewQueue/refund_<id>) (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import { AdminError, REFUND_TARGET_FIELDS, refundReviewId } from "../../domain/adminOps.js";
import { COL } from "../../store/paths.js";
import { auditEntry } from "./audit.js";
import type { Handler } from "./types.js";
import { auditIn } from "../../store/audit.js";

export const flagRefund: Handler<"flagRefund"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const field = REFUND_TARGET_FIELDS.find((f) => input[f] !== undefined);
  const targetId = field ? input[field] : undefined;
  if (!field || !targetId) throw new AdminError("invalid-argument", `flagRefund: exactly one of ${REFUND_TARGET_FIELDS.join(", ")} is required`, { field: null });
  const reviewId = refundReviewId(targetId);
  const ref = db.collection(COL.reviewQueue).doc(reviewId);
  const target = `${COL.reviewQueue}/${reviewId}`;
  const after = { detail: input.reason, amount: input.amount ?? null, status: "open" };
  const outcome = await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const before = snap.exists
      ? { detail: snap.get("detail") ?? null, amount: snap.get("amount") ?? null, status: snap.get("status") ?? null }
      : null;
    if (before && before.detail === after.detail && before.amount === after.amount && before.status === "open") {
      return { changed: false, created: false, before };
    }
    if (!before) {
      tx.create(ref, {
        reviewId,
        reason: "refund_requested",
        detail: input.reason,
        status: "open",
        orderId: input.orderId ?? null,
        chargeId: input.chargeId ?? null,
        paymentIntentId: input.paymentIntentId ?? null,
        amount: input.amount ?? null,
        requestedBy: caller.uid,
        createdAt: now,
        updatedAt: now,
      });
    } else {
      // One item per target: a second flag updates it (and reopens it if finance had closed it).
      tx.update(ref, { detail: input.reason, amount: input.amount ?? null, status: "open", updatedBy: caller.uid, updatedAt: now });
    }
    auditIn(db, tx, auditEntry(caller, "flagRefund", { outcome: "applied", target, before, after: { ...after, [field]: targetId }, at: now }));
    return { changed: true, created: !before, before };
  });
  return {
    outcome: outcome.changed ? "applied" : "unchanged",
    result: {
      operation: "flagRefund",
      reviewId,
      [field]: targetId,
      created: outcome.created,
      changed: outcome.changed,
      before: outcome.before,
      after,
    },
  };
};
