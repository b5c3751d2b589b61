/**
 * Reconciliation of marketplace orders against the CRM: every order whose payment facts call for a deal (paid, in
 * fulfilment, completed, refunded, partially refunded) should have the deal `order:<orderId>` in the stage and with
 * the amount (paid minus refunded) that `orderDeal` says. Orders are read a page of 100 at a time, their deals in one
 * batched read per page. With `fix`, a `crm.deal.upsert` job per order (ids from the run), audited with actor `reconcile`.
 */
import type { Firestore } from "firebase-admin/firestore";
import { orderDealDrift, fixesFor, type Finding } from "../domain/drift.js";
import type { JobSpec, OrderDoc } from "../domain/model.js";
import { orderDeal } from "../domain/syncPlan.js";
import { READ_BATCH, type CrmReadPort, type DealStage } from "../sinks/ports.js";
import { planRepairJobs, readOrderPage } from "../store/reconcile.js";

/** Order statuses whose deal opsync has written (domain/applyOrder.ts plans it from `paid` on). */
const DEAL_STATUSES: ReadonlyArray<OrderDoc["status"]> = ["paid", "in_fulfillment", "completed", "refunded", "partially_refunded"];

export interface OrderReconcileCounters {
  orders: number;
  fixed: number;
  jobs: number;
}

export async function reconcileOrders(
  deps: { db: Firestore; crm: CrmReadPort },
  run: { runId: string; fix: boolean; now: () => Date; stageId: (stage: DealStage) => Promise<string | null> },
  findings: Finding[],
  counters: OrderReconcileCounters,
): Promise<void> {
  for (let after: string | null = null; ; ) {
    const page = await readOrderPage(deps.db, after, READ_BATCH);
    if (page.length === 0) break;
    after = page[page.length - 1]?.orderId ?? null;
    counters.orders += page.length;
    const withDeals = page.filter((o) => DEAL_STATUSES.includes(o.status)).map((o) => ({ order: o, deal: orderDeal(o, null) }));
    if (withDeals.length === 0) continue;
    const found = await deps.crm.readDeals(withDeals.map((d) => d.deal.key));
    for (const { order, deal } of withDeals) {
      const drift = orderDealDrift(order, deal, await run.stageId(deal.stage), found.get(deal.key));
      findings.push(...drift);
      if (!run.fix || drift.length === 0) continue;
      const job: JobSpec = { kind: "crm.deal.upsert", target: { orderId: order.orderId, ...(order.buyerUid ? { uid: order.buyerUid } : {}) }, idempotencyKey: `order:${order.orderId}`, reason: "reconcile" };
      const created = await planRepairJobs(deps.db, { runId: run.runId, uid: order.buyerUid ?? "", jobs: [job], findings: drift, now: run.now(), target: `orders/${order.orderId}` });
      counters.jobs += created.length;
      counters.fixed += drift.filter((f) => fixesFor(f.kind) !== "none").length;
    }
  }
}
