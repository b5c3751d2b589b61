/**
 * Three-way reconciliation, the pure part: what each system should hold for one customer (the record Stripe implies
 * now, the CRM contact and subscription deals, the Auth claims) against what it holds. Every difference is a
 * finding with its kind, the customer, and for a field: the field, what was expected and what was found.
 * No I/O: services/reconcile.ts reads, this compares.
 */
import { deepEqual } from "./diff.js";
import type { DerivedCustomer } from "./deriveCustomer.js";
import { sameSet } from "./entitlements.js";
import type { CustomerDoc } from "./model.js";
import type { Subject } from "./normalize.js";
import { mayHaveDroppedRecent, type SnapshotSet } from "./snapshots.js";
import type { ContactState } from "./syncModel.js";

export const DRIFT_KINDS = [
  /** The canonical record differs from the derivation of what Stripe holds now (field, expected, found). */
  "firestore_differs",
  /** A Stripe customer with no mapping or no record in Firestore. */
  "stripe_customer_unknown",
  /** A record whose Stripe customer was deleted (or is gone) while the record does not say so. */
  "stripe_customer_deleted",
  "crm_contact_missing",
  "crm_contact_differs",
  "crm_deal_missing",
  "crm_deal_stage_differs",
  /** Auth custom claims (entitlements, plan, supportTier) differ from the record. */
  "claims_stale",
  /** The record's uid has no Firebase Auth user: claims cannot be written (reported, not fixed). */
  "auth_user_missing",
  /** An invoice / payment intent Stripe lists (within the window) that the customer's snapshots lack. */
  "stripe_object_missing",
  /** A customer's invoice / payment intent whose snapshot differs from what Stripe holds now (field: its id). */
  "stripe_object_differs",
  /** A paid (or refunded) marketplace order with no deal `order:<orderId>` in the CRM. */
  "order_deal_missing",
  /** The order's CRM deal has another stage or amount than the order's payment facts imply (field: key.stage / key.amount). */
  "order_deal_differs",
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

export interface Finding {
  kind: DriftKind;
  uid: string | null;
  stripeCustomerId: string | null;
  /** The field (or CRM property, deal key) that differs; null when the whole thing is missing. */
  field: string | null;
  expected: unknown;
  found: unknown;
}

/** The record fields Stripe decides (derivation), compared field by field. */
export const RECORD_FIELDS = [
  "stripeCustomerId", "stripeCustomerDeleted", "plan", "priceId", "productId", "subscriptionId", "subscriptionStatus",
  "currentPeriodEnd", "cancelAtPeriodEnd", "cancelAt", "trialEnd", "delinquent", "lastPaymentAt", "pastDueSince",
  "entitlements", "entitlementsGraceUntil", "supportTier",
] as const satisfies ReadonlyArray<keyof DerivedCustomer>;

const plain = (value: unknown): unknown => (value instanceof Date ? value.toISOString() : (value ?? null));

export function recordDrift(expected: CustomerDoc, found: CustomerDoc): Finding[] {
  const out: Finding[] = [];
  for (const field of RECORD_FIELDS) {
    const e = expected[field];
    const f = found[field];
    if (deepEqual(e ?? null, f ?? null)) continue;
    out.push({ kind: "firestore_differs", uid: found.uid, stripeCustomerId: found.stripeCustomerId, field, expected: plain(e), found: plain(f) });
  }
  return out;
}

/** A CRM property value as opsync would write it: "" and null are both "nothing"; numbers compare as numbers. */
function propertyValue(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) && String(value).trim() !== "" ? String(n) : String(value);
}

/** The CRM contact properties opsync owns, as `contactState` says they should be. */
export function expectedContactProperties(contact: ContactState): Record<string, string | null> {
  return {
    opsync_plan: propertyValue(contact.plan),
    opsync_subscription_status: propertyValue(contact.subscriptionStatus),
    opsync_stripe_customer_id: propertyValue(contact.stripeCustomerId),
    opsync_mrr: propertyValue(contact.mrr),
  };
}

export function contactDrift(contact: ContactState, found: { properties: Record<string, string | null> } | null | undefined): Finding[] {
  const base = { uid: contact.uid, stripeCustomerId: contact.stripeCustomerId };
  if (!found) return [{ kind: "crm_contact_missing", ...base, field: null, expected: "contact", found: null }];
  const out: Finding[] = [];
  for (const [property, expected] of Object.entries(expectedContactProperties(contact))) {
    const value = propertyValue(found.properties[property]);
    if (value !== expected) out.push({ kind: "crm_contact_differs", ...base, field: property, expected, found: value });
  }
  return out;
}

export function dealDrift(
  who: { uid: string; stripeCustomerId: string | null },
  key: string,
  expectedStageId: string | null,
  found: { stageId: string | null } | null | undefined,
): Finding[] {
  if (!found) return [{ kind: "crm_deal_missing", ...who, field: key, expected: expectedStageId, found: null }];
  // A stage with no CRM id (refund stages before setup) cannot be compared; the deal job reports that itself.
  if (expectedStageId === null || found.stageId === expectedStageId) return [];
  return [{ kind: "crm_deal_stage_differs", ...who, field: key, expected: expectedStageId, found: found.stageId }];
}

/**
 * Stripe's invoices / payment intents of one customer (read now) against the customer's snapshots: each one missing
 * or different is a finding. `subjects` are already normalized like every snapshot (domain/importPlan.apiSubjects).
 */
export function objectDrift(who: { uid: string; stripeCustomerId: string | null }, subjects: readonly Subject[], snapshots: SnapshotSet | null): Finding[] {
  const out: Finding[] = [];
  for (const subject of subjects) {
    const known = snapshots?.objects[subject.objectId]?.subject;
    const status = (s: Subject | undefined) => (s && "status" in s ? s.status : null);
    // A full set drops its oldest objects: absence there says nothing about a missed event.
    if (!known && snapshots && mayHaveDroppedRecent(snapshots, subject.kind)) continue;
    if (!known) out.push({ kind: "stripe_object_missing", ...who, field: subject.objectId, expected: `${subject.kind} ${status(subject) ?? ""}`.trim(), found: null });
    else if (!deepEqual(known, subject)) out.push({ kind: "stripe_object_differs", ...who, field: subject.objectId, expected: status(subject), found: status(known) });
  }
  return out;
}

/** An order's deal in the CRM against the order's payment facts: the stage (by CRM stage id) and the amount. */
export function orderDealDrift(
  order: { orderId: string; buyerUid: string | null },
  deal: { key: string; amount: number | null },
  expectedStageId: string | null,
  found: { stageId: string | null; amount: string | null } | null | undefined,
): Finding[] {
  const who = { uid: order.buyerUid, stripeCustomerId: null };
  if (!found) return [{ kind: "order_deal_missing", ...who, field: deal.key, expected: expectedStageId, found: null }];
  const out: Finding[] = [];
  if (expectedStageId !== null && found.stageId !== expectedStageId) out.push({ kind: "order_deal_differs", ...who, field: `${deal.key}.stage`, expected: expectedStageId, found: found.stageId });
  const amount = propertyValue(deal.amount);
  if (propertyValue(found.amount) !== amount) out.push({ kind: "order_deal_differs", ...who, field: `${deal.key}.amount`, expected: amount, found: propertyValue(found.amount) });
  return out;
}

/** Claims opsync owns as the record says; never-written claims count as the defaults a new record has. */
export function claimsDrift(record: Pick<CustomerDoc, "uid" | "stripeCustomerId" | "entitlements" | "plan" | "supportTier">, claims: Record<string, unknown> | null | undefined): Finding[] {
  const base = { uid: record.uid, stripeCustomerId: record.stripeCustomerId };
  if (!claims) return [{ kind: "auth_user_missing", ...base, field: null, expected: "user", found: null }];
  const entitlements = Array.isArray(claims.entitlements) ? claims.entitlements.filter((e): e is string => typeof e === "string") : [];
  const plan = typeof claims.plan === "string" ? claims.plan : null;
  const supportTier = typeof claims.supportTier === "string" ? claims.supportTier : "free";
  const out: Finding[] = [];
  if (!sameSet(entitlements, record.entitlements)) out.push({ kind: "claims_stale", ...base, field: "entitlements", expected: [...record.entitlements].sort(), found: [...entitlements].sort() });
  if (plan !== record.plan) out.push({ kind: "claims_stale", ...base, field: "plan", expected: record.plan, found: plan });
  if (supportTier !== record.supportTier) out.push({ kind: "claims_stale", ...base, field: "supportTier", expected: record.supportTier, found: supportTier });
  return out;
}

export function countByKind(findings: readonly Finding[]): Partial<Record<DriftKind, number>> {
  const out: Partial<Record<DriftKind, number>> = {};
  for (const f of findings) out[f.kind] = (out[f.kind] ?? 0) + 1;
  return out;
}

/** What `--fix` does about a kind: a sync job, a re-derivation of the record, a review item, or nothing. */
export function fixesFor(kind: DriftKind): "record" | "contact" | "deal" | "order_deal" | "claims" | "review" | "none" {
  switch (kind) {
    case "firestore_differs":
    case "stripe_customer_deleted":
    case "stripe_object_missing":
    case "stripe_object_differs":
      return "record";
    case "order_deal_missing":
    case "order_deal_differs":
      return "order_deal";
    case "stripe_customer_unknown":
      return "review";
    case "crm_contact_missing":
    case "crm_contact_differs":
      return "contact";
    case "crm_deal_missing":
    case "crm_deal_stage_differs":
      return "deal";
    case "claims_stale":
      return "claims";
    case "auth_user_missing":
      return "none";
  }
}
