/** Admin operation `flagRefund`: support asks finance for a refund (reviewQueue/refund_<id>) (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import { AdminError, REFUND_TARGET_FIELDS, refundReviewId } from "../../domain/adminOps.js";
import { COL } from "../../store/paths.js";
import { auditEntry } from "./audit.js";
import type { Handler } from "./types.js";
import { upsertRefundFlag } from "../../store/refundRequests.js";

export const flagRefund: Handler<"flagRefund"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const field = REFUND_TARGET_FIELDS.find((f) => input[f] !== undefined);
  const targetId = field ? input[field] : undefined;
  if (!field || !targetId) throw new AdminError("invalid-argument", `flagRefund: exactly one of ${REFUND_TARGET_FIELDS.join(", ")} is required`, { field: null });
  const reviewId = refundReviewId(targetId);
  const target = `${COL.reviewQueue}/${reviewId}`;
  const after = { detail: input.reason, amount: input.amount ?? null, status: "open" };
  const outcome = await upsertRefundFlag(
    db,
    {
      reviewId,
      detail: input.reason,
      amount: input.amount ?? null,
      orderId: input.orderId ?? null,
      chargeId: input.chargeId ?? null,
      paymentIntentId: input.paymentIntentId ?? null,
      by: caller.uid,
      now,
    },
    {
      // One item per target: a second flag updates it (and reopens it if finance had closed it); the same flag again is a no-op.
      unchanged: (before) => before !== null && before.detail === after.detail && before.amount === after.amount && before.status === "open",
      audit: (before) => auditEntry(caller, "flagRefund", { outcome: "applied", target, before, after: { ...after, [field]: targetId }, at: now }),
    },
  );
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
