/**
 * Objects read from the Stripe API, applied one after another onto one customer's records (pure): each builds on the
 * state the previous one left. Used inside the import transaction (store/stripeImport.ts) and by reconciliation to
 * compute the record Stripe implies now (domain/drift.ts), so both derive the same thing the same way.
 */
import { applyApiObject, recomputeCustomer, type ApplyPlan } from "./apply.js";
import { deepEqual } from "./diff.js";
import type { BillingDoc, CustomerDoc } from "./model.js";
import { normalizeObject, type Subject } from "./normalize.js";
import type { SnapshotSet } from "./snapshots.js";
import { STRIPE_API_VERSION } from "./stripeVersion.js";

export interface ApiImportInput {
  uid: string;
  stripeCustomerId: string | null;
  subjects: Subject[];
  /** When the objects were read (seconds). */
  fetchedAt: number;
  cause: string;
  now: Date;
  graceDays: number;
  mappingUid: string | null;
  customer: CustomerDoc | null;
  billing: BillingDoc | null;
  snapshots: SnapshotSet | null;
  /** Re-derive the record even when no snapshot changed (the record itself drifted, or time ended a grace). */
  rederive?: boolean;
}

export interface ApiImportResult {
  plans: ApplyPlan[];
  customer: CustomerDoc | null;
  billing: BillingDoc | null;
  snapshots: SnapshotSet | null;
  mappingUid: string | null;
}

export function planApiImport(input: ApiImportInput): ApiImportResult {
  const { uid } = input;
  let { customer, billing, snapshots } = input;
  let mapping = input.mappingUid;
  const plans: ApplyPlan[] = [];
  for (const subject of input.subjects) {
    const current = snapshots?.objects[subject.objectId];
    if (current && deepEqual(current.subject, subject)) continue;
    const plan = applyApiObject({
      subject,
      fetchedAt: input.fetchedAt,
      cause: input.cause,
      now: input.now,
      graceDays: input.graceDays,
      owner: { uid, order: null, stripeCustomerId: input.stripeCustomerId, source: "mapping", conflict: null },
      mappingUid: mapping,
      customer,
      billing,
      order: null,
      snapshots,
    });
    if (plan.status !== "applied") continue;
    plans.push(plan);
    customer = plan.customer?.after ?? customer;
    billing = plan.billing?.after ?? billing;
    snapshots = plan.snapshots?.set ?? snapshots;
    if (plan.mapping) mapping = plan.mapping.uid;
  }
  if (plans.length === 0 && input.rederive && customer) {
    const plan = recomputeCustomer({ uid, now: input.now, graceDays: input.graceDays, customer, billing, snapshots, cause: input.cause });
    if (plan.customer || plan.billing) {
      plans.push(plan);
      customer = plan.customer?.after ?? customer;
      billing = plan.billing?.after ?? billing;
    }
  }
  return { plans, customer, billing, snapshots, mappingUid: mapping };
}

/**
 * Stripe objects read from the API as the subjects apply takes (the pinned version's normalizer). Marketplace
 * payments belong to their order, not the customer record, and are left out; objects that do not normalize are counted.
 */
export function apiSubjects(kind: Subject["kind"], objects: ReadonlyArray<Record<string, unknown>>, fetchedAt: number): { subjects: Subject[]; unreadable: number } {
  const subjects: Subject[] = [];
  let unreadable = 0;
  for (const o of objects) {
    const n = normalizeObject(kind, o, fetchedAt, STRIPE_API_VERSION);
    if (n.outcome !== "normalized") unreadable += 1;
    else if (!("order" in n.event.subject && n.event.subject.order)) subjects.push(n.event.subject);
  }
  return { subjects, unreadable };
}
