/**
 * One Firestore transaction per Stripe event: the ledger entry, the canonical records, the follow-up jobs and
 * the audit entries commit together or not at all. The ledger entry is the exactly-once guard: a second
 * delivery (even a concurrent one) finds it and changes nothing.
 */
import { Timestamp, type DocumentReference, type Firestore, type Transaction } from "firebase-admin/firestore";
import { applyEvent, type ApplyPlan } from "../domain/apply.js";
import { linkedObjectIds, resolveOwner, subjectCustomerId } from "../domain/identity.js";
import { jobId } from "../domain/jobs.js";
import type { BillingDoc, CustomerDoc, LedgerStatus, OrderDoc, StripeObjectDoc } from "../domain/model.js";
import { recordableObjectId, recordableObjectType, type NormalizeResult, type NormalizedEvent, type StripeEventEnvelope } from "../domain/normalize.js";
import { newJobDoc } from "./jobs.js";
import { COL, billingPath } from "./paths.js";
import { fromFirestore } from "./db.js";

export interface IngestOptions {
  now?: () => Date;
  graceDays: number;
  /** Test seam: runs inside the transaction after all writes are queued, before commit. */
  beforeCommit?: (tx: Transaction) => void | Promise<void>;
}

export interface IngestResult {
  eventId: string;
  status: LedgerStatus;
  duplicate: boolean;
  reason: string | null;
  /** Transaction attempts (more than 1 means contention with a concurrent writer). */
  attempts: number;
}

interface LedgerBase {
  eventId: string;
  type: string;
  created: Timestamp;
  livemode: boolean;
  apiVersion: string | null;
  /** null when the event's object has no (usable) id, e.g. `invoice.upcoming`, `balance.available`. */
  objectId: string | null;
  objectType: string | null;
}

function ledgerBase(envelope: StripeEventEnvelope): LedgerBase {
  return {
    eventId: envelope.id,
    type: envelope.type,
    created: Timestamp.fromMillis(envelope.created * 1000),
    livemode: envelope.livemode,
    apiVersion: envelope.api_version ?? null,
    objectId: recordableObjectId(envelope),
    objectType: recordableObjectType(envelope),
  };
}

/** Records a delivered event: applies it, or records why not. */
export async function ingestDelivery(
  db: Firestore,
  envelope: StripeEventEnvelope,
  normalized: NormalizeResult,
  options: IngestOptions,
): Promise<IngestResult> {
  return runIngest(db, ledgerBase(envelope), normalized, "deliver", options);
}

/** Re-applies an event held in the review queue (its mapping has appeared). No-op unless still held. */
export async function releaseHeldEvent(db: Firestore, event: NormalizedEvent, base: LedgerBase, options: IngestOptions) {
  return runIngest(db, base, { outcome: "normalized", event }, "release", options);
}

/** Ledger statuses a replay may overwrite: the event was never recorded, could not be applied, or is held. */
export const REPLAYABLE_STATUSES: readonly (LedgerStatus | null)[] = [null, "failed", "needs_review"];

/**
 * Re-runs an event fetched again from Stripe (admin replayEvent) through the delivery transaction. Runs only
 * when the ledger entry is absent, `failed` or `needs_review` (then its outcome is overwritten, and an open
 * review item is resolved unless the event is held again); otherwise it changes nothing and answers the
 * recorded status with `duplicate: true`.
 */
export async function ingestReplay(
  db: Firestore,
  envelope: StripeEventEnvelope,
  normalized: NormalizeResult,
  options: IngestOptions,
): Promise<IngestResult & { previous: LedgerStatus | null }> {
  let previous: LedgerStatus | null = null;
  const result = await runIngest(db, ledgerBase(envelope), normalized, "replay", {
    ...options,
    onLedger: (status) => {
      previous = status;
    },
  });
  return { ...result, previous };
}

export type { LedgerBase };

type IngestMode = "deliver" | "release" | "replay";

async function runIngest(
  db: Firestore,
  base: LedgerBase,
  normalized: NormalizeResult,
  mode: IngestMode,
  options: IngestOptions & { onLedger?: (status: LedgerStatus | null) => void },
): Promise<IngestResult> {
  const now = options.now ?? (() => new Date());
  const ledgerRef = db.collection(COL.stripeEvents).doc(base.eventId);
  const reviewRef = db.collection(COL.reviewQueue).doc(base.eventId);
  let attempts = 0;
  return db.runTransaction(async (tx) => {
    attempts += 1;
    const at = now();
    // One round trip for the ledger entry and everything that says who and what the event is about.
    const normalizedEvent = normalized.outcome === "normalized" ? normalized.event : null;
    const subject = normalizedEvent?.subject ?? null;
    const customerId = subject ? subjectCustomerId(subject) : null;
    const objectsCol = db.collection(COL.stripeObjects);
    const linkIds = subject ? linkedObjectIds(subject) : [];
    const refs: DocumentReference[] = [ledgerRef];
    // A replay resolves the event's review item only if there is one.
    if (mode === "replay") refs.push(reviewRef);
    if (subject) {
      refs.push(objectsCol.doc(subject.objectId));
      for (const id of linkIds) refs.push(objectsCol.doc(id));
      if (customerId) refs.push(db.collection(COL.stripeCustomers).doc(customerId));
    }
    const [ledgerSnap, ...fetched] = await tx.getAll(...refs);
    const reviewSnap = mode === "replay" ? fetched[0] : undefined;
    const snaps = mode === "replay" ? fetched.slice(1) : fetched;
    const existing = ledgerSnap?.exists ? (ledgerSnap.get("status") as LedgerStatus) : null;
    options.onLedger?.(existing);
    if (mode === "deliver" && existing) {
      return { eventId: base.eventId, status: existing, duplicate: true, reason: null, attempts };
    }
    if (mode === "release" && existing !== "needs_review") {
      return { eventId: base.eventId, status: existing ?? "failed", duplicate: true, reason: null, attempts };
    }
    if (mode === "replay" && !REPLAYABLE_STATUSES.includes(existing)) {
      return { eventId: base.eventId, status: existing ?? "failed", duplicate: true, reason: ledgerSnap?.get("reason") ?? null, attempts };
    }
    /** The ledger entry: created on first sight, its outcome overwritten by a release or a replay. */
    const writeLedger = (outcome: Record<string, unknown>) => {
      if (!existing) tx.create(ledgerRef, { ...base, ...outcome, receivedAt: outcome.processedAt });
      else if (mode === "replay") tx.update(ledgerRef, { ...base, ...outcome, replayedAt: outcome.processedAt });
      else tx.update(ledgerRef, outcome);
    };
    /** A replay that moves a held event off needs_review closes its review item. */
    const resolveReviewItem = (status: LedgerStatus) => {
      if (mode === "replay" && existing === "needs_review" && status !== "needs_review" && reviewSnap?.exists && reviewSnap.get("status") === "open") {
        tx.update(reviewRef, { status: "resolved", resolution: `replayed: ${status}`, updatedAt: at });
      }
    };

    if (normalized.outcome === "needs_review") {
      // The id is never used as a path; the review item says which field to fix. It holds no replayable event
      // (and no stripeCustomerId), so a later mapping does not re-run it: a person resolves it.
      writeLedger({
        status: "needs_review",
        reason: normalized.reason,
        field: normalized.field,
        uid: null,
        orderId: null,
        stripeCustomerId: null,
        jobIds: [],
        processedAt: at,
      });
      tx.set(reviewRef, {
        eventId: base.eventId,
        eventType: base.type,
        eventCreated: base.created.seconds,
        reason: "invalid_id",
        field: normalized.field,
        detail: normalized.reason,
        status: "open",
        stripeCustomerId: null,
        stripeObjectId: base.objectId,
        orderId: null,
        event: null,
        createdAt: at,
        updatedAt: at,
      });
      await options.beforeCommit?.(tx);
      return { eventId: base.eventId, status: "needs_review", duplicate: false, reason: normalized.reason, attempts };
    }

    if (!normalizedEvent || !subject) {
      const status: LedgerStatus = normalized.outcome === "ignored" ? "ignored" : "failed";
      const reason = normalized.outcome === "ignored" || normalized.outcome === "failed" ? normalized.reason : null;
      writeLedger({
        status,
        reason,
        uid: null,
        orderId: null,
        stripeCustomerId: null,
        jobIds: [],
        processedAt: at,
      });
      resolveReviewItem(status);
      await options.beforeCommit?.(tx);
      return { eventId: base.eventId, status, duplicate: false, reason, attempts };
    }

    const event = normalizedEvent;
    const objectDoc = snaps[0]?.exists ? fromFirestore<StripeObjectDoc>(snaps[0].data()) : null;
    const links = linkIds.map((_, i) => {
      const snap = snaps[i + 1];
      return snap?.exists ? fromFirestore<StripeObjectDoc>(snap.data()) : null;
    });
    const mappingSnap = customerId ? snaps[snaps.length - 1] : undefined;
    const mappingUid = mappingSnap?.exists ? ((mappingSnap.get("uid") as string | undefined) ?? null) : null;
    const owner = resolveOwner(subject, { mappingUid, links });

    // Phase 2: the documents the event changes.
    let customer: CustomerDoc | null = null;
    let billing: BillingDoc | null = null;
    let order: OrderDoc | null = null;
    if (owner.order) {
      const snap = await tx.get(db.collection(COL.orders).doc(owner.order.orderId));
      order = snap.exists ? fromFirestore<OrderDoc>(snap.data()) : null;
    } else if (owner.uid && !owner.conflict) {
      const [cSnap, bSnap] = await tx.getAll(db.collection(COL.customers).doc(owner.uid), db.doc(billingPath(owner.uid)));
      customer = cSnap?.exists ? fromFirestore<CustomerDoc>(cSnap.data()) : null;
      billing = bSnap?.exists ? fromFirestore<BillingDoc>(bSnap.data()) : null;
    }

    const plan = applyEvent({
      event,
      now: at,
      graceDays: options.graceDays,
      owner,
      mappingUid,
      objectMark: objectDoc?.watermark ?? null,
      customer,
      billing,
      order,
    });

    const jobIds = writePlan(db, tx, plan, event, at);
    const outcome = {
      status: plan.status,
      reason: plan.reason,
      uid: owner.uid,
      orderId: owner.order?.orderId ?? null,
      stripeCustomerId: owner.stripeCustomerId,
      jobIds,
      processedAt: at,
    };
    writeLedger(outcome);
    if (plan.review) {
      tx.set(reviewRef, {
        eventId: base.eventId,
        eventType: event.meta.type,
        eventCreated: event.meta.created,
        reason: plan.review.reason,
        detail: plan.review.detail,
        status: "open",
        stripeCustomerId: owner.stripeCustomerId,
        stripeObjectId: subject.objectId,
        orderId: owner.order?.orderId ?? null,
        // The normalized facts (ids, amounts, statuses; no card data) so the event can be applied later.
        event,
        createdAt: at,
        updatedAt: at,
      });
    } else if (mode === "release") {
      tx.update(reviewRef, { status: "resolved", resolution: `applied as ${plan.status}`, updatedAt: at });
    } else {
      resolveReviewItem(plan.status);
    }
    await options.beforeCommit?.(tx);
    return { eventId: base.eventId, status: plan.status, duplicate: false, reason: plan.reason, attempts };
  });
}

function writePlan(db: Firestore, tx: Transaction, plan: ApplyPlan, event: NormalizedEvent, at: Date): string[] {
  const actor = { type: "stripe", id: event.meta.id };
  if (plan.customer) {
    // merge keeps fields other writers own (crmContactId from the CRM sink, admin notes).
    tx.set(db.collection(COL.customers).doc(plan.customer.after.uid), plan.customer.after, { merge: true });
  }
  if (plan.billing) {
    tx.set(db.doc(billingPath(plan.billing.after.uid)), plan.billing.after);
  }
  if (plan.order) {
    tx.set(db.collection(COL.orders).doc(plan.order.after.orderId), plan.order.after, { merge: true });
  }
  if (plan.mapping) {
    tx.set(db.collection(COL.stripeCustomers).doc(plan.mapping.stripeCustomerId), {
      stripeCustomerId: plan.mapping.stripeCustomerId,
      uid: plan.mapping.uid,
      source: `stripe:${event.meta.id}`,
      createdAt: at,
    });
  }
  for (const mark of plan.objects) {
    tx.set(
      db.collection(COL.stripeObjects).doc(mark.id),
      { objectType: mark.objectType, ...(mark.watermark ? { watermark: mark.watermark } : {}), ...mark.fields, updatedAt: at },
      { merge: true },
    );
  }
  const ids: string[] = [];
  for (const spec of plan.jobs) {
    const id = jobId(event.meta.id, spec);
    ids.push(id);
    tx.set(
      db.collection(COL.syncJobs).doc(id),
      newJobDoc(id, spec, { type: "stripeEvent", eventId: event.meta.id, eventType: event.meta.type }, at),
    );
  }
  for (const audit of plan.audits) {
    tx.set(db.collection(COL.auditLog).doc(), {
      actor,
      action: audit.action,
      target: audit.target,
      before: audit.before,
      after: audit.after,
      cause: { type: "stripeEvent", eventId: event.meta.id, eventType: event.meta.type },
      at,
    });
  }
  return ids;
}
