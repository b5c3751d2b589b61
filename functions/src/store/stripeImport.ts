/**
 * Objects read from the Stripe API (backfill, reconciliation) applied to one customer in one transaction, through
 * the same domain apply as revalidation (`applyApiObject`): snapshots → derived records → jobs → audit. An object
 * whose snapshot already holds the same content is skipped, so importing the same account twice writes nothing.
 */
import type { Firestore } from "firebase-admin/firestore";
import type { ApplyPlan } from "../domain/apply.js";
import { planApiImport } from "../domain/importPlan.js";
import type { BillingDoc, CustomerDoc } from "../domain/model.js";
import type { Subject } from "../domain/normalize.js";
import type { SnapshotSet } from "../domain/snapshots.js";
import { fromFirestore } from "./db.js";
import { writePlan } from "./ingest.js";
import { COL, billingPath, customerSnapshotsPath } from "./paths.js";

export interface ImportInput {
  uid: string;
  stripeCustomerId: string;
  subjects: Subject[];
  /** When the objects were read (seconds): their snapshots' mark. */
  fetchedAt: number;
  /** Job ids derive from it (`backfill_<run>`, `reconcile_<run>`). */
  cause: string;
  /** The audit actor id (`backfill`, `reconcile`). */
  actor: string;
  graceDays: number;
  now: Date;
  /** Import quietly: no CRM/claims jobs (a later `reconcile --fix` plans them). */
  noSync: boolean;
  /** Re-derive the record even when no snapshot changed (reconcile: the record itself drifted). */
  rederive?: boolean;
}

export type ImportResult =
  | { outcome: "changed" | "unchanged"; jobIds: string[]; mapped: boolean }
  | { outcome: "conflict"; mappedUid: string };

/** Strips the jobs of a quiet import, and the `sync.* = pending` markers that would point at them. */
function quiet(plan: ApplyPlan, before: CustomerDoc | null): ApplyPlan {
  if (!plan.customer) return { ...plan, jobs: [] };
  return { ...plan, jobs: [], customer: { ...plan.customer, after: { ...plan.customer.after, sync: before?.sync ?? {} } } };
}

/** Plans applied one after another to one customer, as one: the last state of each document, every job and audit entry. */
function mergePlans(plans: ApplyPlan[]): ApplyPlan {
  const last = plans[plans.length - 1] as ApplyPlan;
  const lastOf = <K extends "customer" | "billing" | "snapshots">(key: K): ApplyPlan[K] => [...plans].reverse().find((p) => p[key])?.[key] ?? null;
  const firstCustomer = plans.find((p) => p.customer)?.customer ?? null;
  const firstBilling = plans.find((p) => p.billing)?.billing ?? null;
  const customer = lastOf("customer");
  const billing = lastOf("billing");
  const seen = new Set<string>();
  const jobs = plans.flatMap((p) => p.jobs).filter((j) => {
    const key = `${j.kind}|${JSON.stringify(j.target)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return {
    ...last,
    customer: customer ? { before: firstCustomer?.before ?? null, after: customer.after } : null,
    billing: billing ? { before: firstBilling?.before ?? null, after: billing.after } : null,
    snapshots: lastOf("snapshots"),
    mapping: plans.find((p) => p.mapping)?.mapping ?? null,
    objects: plans.flatMap((p) => p.objects),
    jobs,
    audits: plans.flatMap((p) => p.audits),
  };
}

export async function applyStripeObjects(db: Firestore, input: ImportInput): Promise<ImportResult> {
  const { uid, stripeCustomerId } = input;
  return db.runTransaction(async (tx) => {
    const refs = [db.collection(COL.customers).doc(uid), db.doc(billingPath(uid)), db.doc(customerSnapshotsPath(uid)), db.collection(COL.stripeCustomers).doc(stripeCustomerId)];
    const [c, b, s, m] = await tx.getAll(...refs);
    const mappedUid = m?.exists ? ((m.get("uid") as string | undefined) ?? null) : null;
    if (mappedUid && mappedUid !== uid) return { outcome: "conflict", mappedUid };
    const customer = c?.exists ? fromFirestore<CustomerDoc>(c.data()) : null;
    const result = planApiImport({
      uid, stripeCustomerId, subjects: input.subjects, fetchedAt: input.fetchedAt, cause: input.cause, now: input.now, graceDays: input.graceDays,
      mappingUid: mappedUid, customer, billing: b?.exists ? fromFirestore<BillingDoc>(b.data()) : null,
      snapshots: s?.exists ? fromFirestore<SnapshotSet>(s.data()) : null, rederive: input.rederive ?? false,
    });
    const { plans } = result;
    const original = customer;
    const mapping = result.mappingUid;
    if (plans.length === 0) return { outcome: "unchanged", jobIds: [], mapped: mapping !== mappedUid };
    // One write of the combined plan: writePlan reads the live jobs first, and a transaction's reads precede its writes.
    const merged = mergePlans(plans);
    const jobIds = await writePlan(db, tx, input.noSync ? quiet(merged, original) : merged, null, input.now, input.actor);
    return { outcome: "changed", jobIds, mapped: mapping !== mappedUid };
  });
}

/**
 * A Stripe customer opsync cannot attribute: held in `reviewQueue/backfill_<cus>` with what is known. Created once;
 * a later run finds it (and re-running changes nothing). Returns true when it was created now.
 */
export async function holdForReview(
  db: Firestore,
  item: { stripeCustomerId: string; reason: "unmapped_customer" | "uid_conflict"; detail: string; known: Record<string, unknown>; now: Date },
): Promise<boolean> {
  const ref = db.collection(COL.reviewQueue).doc(`backfill_${item.stripeCustomerId}`);
  try {
    await ref.create({
      eventId: null, eventType: null, eventCreated: null, reason: item.reason, detail: item.detail, status: "open",
      stripeCustomerId: item.stripeCustomerId, stripeObjectId: item.stripeCustomerId, orderId: null,
      // No event to re-run: once the customer is mapped (resolveReview), the next backfill imports it.
      event: null, known: item.known, source: "backfill", createdAt: item.now, updatedAt: item.now,
    });
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 6) return false;
    throw error;
  }
}

/** Which of these Stripe customers already wait in the review queue (`reviewQueue/backfill_<cus>`, open). */
export async function openReviewItems(db: Firestore, customerIds: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (customerIds.length === 0) return out;
  const snaps = await db.getAll(...customerIds.map((cus) => db.collection(COL.reviewQueue).doc(`backfill_${cus}`)));
  snaps.forEach((s, i) => {
    const cus = customerIds[i];
    if (cus && s.exists && s.get("status") === "open") out.add(cus);
  });
  return out;
}
