/** Order changes made by people (seller fulfilment, admin) go through the same state machine as Stripe's. */
import type { Firestore } from "firebase-admin/firestore";
import { jobId } from "../domain/jobIds.js";
import type { JobSpec, OrderStatus } from "../domain/model.js";
import { transition } from "../domain/orders.js";
import type { StaffRole } from "../domain/roles.js";
import { changeOrder, type OrderChange } from "../store/orderChanges.js";
import { COL } from "../store/paths.js";

export type FulfilmentResult =
  | { ok: true; from: OrderStatus; to: OrderStatus; changed: boolean }
  | { ok: false; code: "not_found" | "permission_denied" | "illegal_transition"; reason: string };

export async function fulfillOrder(
  db: Firestore,
  input: { orderId: string; status: OrderStatus },
  actor: { uid: string; roles: readonly StaffRole[] },
  now: Date,
): Promise<FulfilmentResult> {
  return changeOrder(db, input.orderId, now, (order): OrderChange<FulfilmentResult> => {
    if (!order) return { result: { ok: false, code: "not_found", reason: `order ${input.orderId} does not exist` } };
    const isAdmin = actor.roles.includes("admin");
    if (!isAdmin && order.sellerUid !== actor.uid) {
      return { result: { ok: false, code: "permission_denied", reason: "only the order's seller or an admin can fulfill it" } };
    }
    const by = `${isAdmin ? "admin" : "seller"}:${actor.uid}`;
    const result = transition(order.status, input.status);
    if (result.kind === "illegal") {
      return {
        result: { ok: false, code: "illegal_transition", reason: result.reason },
        update: { rejectedTransitions: [...(order.rejectedTransitions ?? []), { from: order.status, to: input.status, by, at: now }].slice(-50) },
        audit: {
          actor: { type: "user", id: actor.uid, roles: [...actor.roles] },
          action: "order.transition_rejected",
          target: `${COL.orders}/${order.orderId}`,
          before: { status: order.status },
          after: { status: order.status, rejected: input.status, reason: result.reason },
          cause: { type: "fulfilment" },
          at: now,
        },
      };
    }
    if (result.kind === "unchanged") return { result: { ok: true, from: order.status, to: order.status, changed: false } };
    const spec: JobSpec = {
      kind: "crm.deal.upsert",
      target: { orderId: order.orderId, ...(order.buyerUid ? { uid: order.buyerUid } : {}) },
      idempotencyKey: `order:${order.orderId}`,
      reason: `order ${input.status}`,
    };
    return {
      result: { ok: true, from: order.status, to: input.status, changed: true },
      update: {
        status: input.status,
        history: [...(order.history ?? []), { from: order.status, to: input.status, by, at: now }].slice(-50),
        updatedAt: now,
      },
      audit: {
        actor: { type: "user", id: actor.uid, roles: [...actor.roles] },
        action: "order.transition",
        target: `${COL.orders}/${order.orderId}`,
        before: { status: order.status },
        after: { status: input.status },
        cause: { type: "fulfilment" },
        at: now,
      },
      job: { id: jobId(`fulfil_${order.orderId}_${input.status}`, spec), spec, cause: { type: "fulfilment", jobId: order.orderId } },
    };
  });
}
