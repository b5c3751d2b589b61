/**
 * Firestore side of reconciliation: canonical records read a page at a time with their billing and snapshot
 * documents (batched reads, linear in customers), the repair jobs and audit entry of one customer written in one
 * transaction, and the run's alert. The run document itself is `ops/reconcile/runs/{runId}` (store/opsState.ts).
 */
import { FieldPath, type Firestore } from "firebase-admin/firestore";
import type { BillingDoc, CustomerDoc, JobSpec, OrderDoc } from "../domain/model.js";
import type { SnapshotSet } from "../domain/snapshots.js";
import { auditIn } from "./audit.js";
import { fromFirestore } from "./db.js";
import { newJobDoc, notifyJobId } from "./jobs.js";
import { planJobs } from "./liveJobs.js";
import { COL, billingPath, customerSnapshotsPath } from "./paths.js";

export interface StoredCustomer {
  customer: CustomerDoc;
  billing: BillingDoc | null;
  snapshots: SnapshotSet | null;
}

/** The audit actor of everything reconciliation changes. */
export const RECONCILE_ACTOR = { type: "system", id: "reconcile" } as const;

/** One page of `customers`, in document id order, after `after`; each with its billing and snapshot documents. */
export async function readCustomerPage(db: Firestore, after: string | null, limit: number): Promise<StoredCustomer[]> {
  let query = db.collection(COL.customers).orderBy(FieldPath.documentId()).limit(limit);
  if (after) query = query.startAfter(after);
  const page = await query.get();
  if (page.empty) return [];
  const refs = page.docs.flatMap((d) => [db.doc(billingPath(d.id)), db.doc(customerSnapshotsPath(d.id))]);
  const related = await db.getAll(...refs);
  return page.docs.map((d, i) => {
    const b = related[2 * i];
    const s = related[2 * i + 1];
    return {
      customer: { ...fromFirestore<CustomerDoc>(d.data()), uid: d.id },
      billing: b?.exists ? fromFirestore<BillingDoc>(b.data()) : null,
      snapshots: s?.exists ? fromFirestore<SnapshotSet>(s.data()) : null,
    };
  });
}

/** One page of `orders`, in document id order, after `after` (marketplace orders: their deals are compared). */
export async function readOrderPage(db: Firestore, after: string | null, limit: number): Promise<OrderDoc[]> {
  let query = db.collection(COL.orders).orderBy(FieldPath.documentId()).limit(limit);
  if (after) query = query.startAfter(after);
  const page = await query.get();
  return page.docs.map((d) => ({ ...fromFirestore<OrderDoc>(d.data()), orderId: d.id }));
}

/**
 * The sync jobs that repair one customer, through each target's one live job (domain/coalesce.ts): a repair while
 * a job for the same contact, deal or claims waits folds into it instead of adding a second one; kinds that do not
 * coalesce get ids derived from the run, so the same run cannot add them twice. Plus one audit entry naming what
 * was found. Returns the ids of the jobs planned (started or folded into).
 */
export async function planRepairJobs(
  db: Firestore,
  input: {
    runId: string;
    uid: string;
    jobs: JobSpec[];
    findings: Array<{ kind: string; field: string | null; expected: unknown; found: unknown }>;
    now: Date;
    /** What the audit entry names (default `customers/<uid>`; an order's repair names `orders/<orderId>`). */
    target?: string;
  },
): Promise<string[]> {
  const { runId, uid, now } = input;
  return db.runTransaction(async (tx) => {
    const planned = await planJobs(db, tx, input.jobs, runId, { type: "system", jobId: runId }, now);
    planned.write();
    const ids = planned.ids;
    auditIn(db, tx, {
      actor: RECONCILE_ACTOR,
      action: "reconcile.repair",
      target: input.target ?? `${COL.customers}/${uid}`,
      before: { findings: input.findings.map((f) => ({ kind: f.kind, field: f.field, found: f.found ?? null })) },
      after: { jobs: ids },
      cause: { type: "system", id: runId },
      at: now,
    });
    return ids;
  });
}

/**
 * A run that found drift opens `alerts/reconcile_<runId>` (the shape of the dead-job alerts, type
 * `reconcile_drift`) and plans its Slack notice. Idempotent per run.
 */
export async function openDriftAlert(
  db: Firestore,
  input: { runId: string; drift: Record<string, number>; total: number; fixed: number; fix: boolean; now: Date; text: string },
): Promise<string> {
  const alertId = `reconcile_${input.runId}`;
  const spec: JobSpec = { kind: "notify.slack", target: { alertId }, idempotencyKey: `alert:${alertId}`, reason: "alert", text: input.text };
  const notifyId = notifyJobId(spec.idempotencyKey);
  const batch = db.batch();
  batch.set(db.collection(COL.alerts).doc(alertId), {
    alertId,
    type: "reconcile_drift",
    status: "open",
    runId: input.runId,
    sink: "reconcile",
    reason: input.fix ? "drift_found_and_repaired" : "drift_found",
    drift: input.drift,
    total: input.total,
    fixed: input.fixed,
    target: { runPath: `${COL.ops}/reconcile/runs/${input.runId}` },
    createdAt: input.now,
  });
  batch.set(db.collection(COL.syncJobs).doc(notifyId), newJobDoc(notifyId, spec, { type: "alert", jobId: alertId }, input.now));
  await batch.commit();
  return alertId;
}
