/**
 * Admin operation `resolveRefundRequest` (finance, admin): closes a refund request from `flagRefund`
 * (`reviewQueue/{requestId}`, reason `refund_requested`) with finance's decision and a note. The refund itself is made
 * in Stripe (its events update the order); this records the decision. Dry run unless `confirm: true`. Audited.
 */
import { AdminError, jsonSafe } from "../../domain/adminOps.js";
import { COL } from "../../store/paths.js";
import { auditEntry } from "./audit.js";
import type { Handler } from "./types.js";
import { closeRefundRequest, readReviewItem } from "../../store/refundRequests.js";

type Doc = Record<string, unknown>;

function problem(doc: Doc | null, requestId: string): AdminError | null {
  if (!doc) return new AdminError("not-found", `no refund request ${COL.reviewQueue}/${requestId}`);
  if (doc.reason !== "refund_requested") return new AdminError("failed-precondition", `${COL.reviewQueue}/${requestId} is not a refund request (reason ${String(doc.reason)})`);
  if (doc.status !== "open") return new AdminError("failed-precondition", `refund request ${requestId} is already ${String(doc.status)}`);
  return null;
}

export const resolveRefundRequestOp: Handler<"resolveRefundRequest"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const target = `${COL.reviewQueue}/${input.requestId}`;
  const current = await readReviewItem(db, input.requestId);
  const refused = problem(current, input.requestId);
  if (refused) throw refused;
  const request = { requestId: input.requestId, orderId: current?.orderId ?? null, chargeId: current?.chargeId ?? null, paymentIntentId: current?.paymentIntentId ?? null, detail: current?.detail ?? null, requestedBy: current?.requestedBy ?? null };
  const resolution = { decision: input.decision, note: input.note, by: caller.uid, at: now };
  if (input.confirm !== true) {
    return {
      outcome: "dry_run",
      result: jsonSafe({ operation: "resolveRefundRequest", dryRun: true, request, before: { status: "open" }, after: { status: "resolved", decision: input.decision }, note: input.note }) as Record<string, unknown>,
    };
  }
  await closeRefundRequest(db, input.requestId, {
    update: { status: "resolved", decision: input.decision, resolution, resolvedBy: caller.uid, resolvedAt: now, updatedAt: now },
    refuse: (fresh) => problem(fresh, input.requestId),
    audit: auditEntry(caller, "resolveRefundRequest", { outcome: "applied", target, before: { status: "open" }, after: { status: "resolved", decision: input.decision, note: input.note }, at: now }),
  });
  return { outcome: "applied", result: jsonSafe({ operation: "resolveRefundRequest", dryRun: false, request, before: { status: "open" }, after: { status: "resolved", ...resolution } }) as Record<string, unknown> };
};
