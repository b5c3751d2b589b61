/** Order changes made by people (seller fulfilment, admin) go through the same state machine as Stripe's. */
import type { Firestore } from "firebase-admin/firestore";
import { jobId } from "../domain/jobIds.js";
import type { JobSpec, OrderDoc, OrderStatus } from "../domain/model.js";
import { transition } from "../domain/orders.js";
import type { StaffRole } from "../domain/roles.js";
import { fromFirestore } from "../store/db.js";
import { newJobDoc } from "../store/jobs.js";
import { auditIn } from "../store/audit.js";
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
  const ref = db.collection(COL.orders).doc(input.orderId);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) return { ok: false, code: "not_found", reason: `order ${input.orderId} does not exist` } as const;
    const order = fromFirestore<OrderDoc>(snap.data());
    const isAdmin = actor.roles.includes("admin");
    if (!isAdmin && order.sellerUid !== actor.uid) {
      return { ok: false, code: "permission_denied", reason: "only the order's seller or an admin can fulfill it" } as const;
    }
    const by = `${isAdmin ? "admin" : "seller"}:${actor.uid}`;
    const result = transition(order.status, input.status);
    if (result.kind === "illegal") {
      tx.update(ref, { rejectedTransitions: [...(order.rejectedTransitions ?? []), { from: order.status, to: input.status, by, at: now }].slice(-50) });
      auditIn(db, tx, {
        actor: { type: "user", id: actor.uid, roles: [...actor.roles] },
        action: "order.transition_rejected",
        target: `${COL.orders}/${order.orderId}`,
        before: { status: order.status },
        after: { status: order.status, rejected: input.status, reason: result.reason },
        cause: { type: "fulfilment" },
        at: now,
      });
      return { ok: false, code: "illegal_transition", reason: result.reason } as const;
    }
    if (result.kind === "unchanged") return { ok: true, from: order.status, to: order.status, changed: false } as const;
    tx.update(ref, {
      status: input.status,
      history: [...(order.history ?? []), { from: order.status, to: input.status, by, at: now }].slice(-50),
      updatedAt: now,
    });
    auditIn(db, tx, {
      actor: { type: "user", id: actor.uid, roles: [...actor.roles] },
      action: "order.transition",
      target: `${COL.orders}/${order.orderId}`,
      before: { status: order.status },
      after: { status: input.status },
      cause: { type: "fulfilment" },
      at: now,
    });
    const spec: JobSpec = {
      kind: "crm.deal.upsert",
      target: { orderId: order.orderId, ...(order.buyerUid ? { uid: order.buyerUid } : {}) },
      idempotencyKey: `order:${order.orderId}`,
      reason: `order ${input.status}`,
    };
    const id = jobId(`fulfil_${order.orderId}_${input.status}`, spec);
    tx.set(db.collection(COL.syncJobs).doc(id), newJobDoc(id, spec, { type: "fulfilment", jobId: order.orderId }, now));
    return { ok: true, from: order.status, to: input.status, changed: true } as const;
  });
}
