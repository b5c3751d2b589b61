/**
 * The ledger (`stripeEvents/{eventId}`) is a durable queue: the webhook `create()`s an entry holding the
 * normalized event (status `received`) and answers Stripe; applying it happens later, in one transaction per
 * event that updates the owner's snapshots, the derived records, the jobs, the audit entries and the ledger
 * status together. The entry's status is the exactly-once guard: only a `received` entry is applied.
 */
import { Timestamp, type DocumentReference, type Firestore, type Transaction } from "firebase-admin/firestore";
import { applyEvent, type ApplyPlan } from "../domain/apply.js";
import { linkedObjectIds, resolveOwner, subjectCustomerId } from "../domain/identity.js";
import type { BillingDoc, CustomerDoc, LedgerSource, LedgerStatus, OrderDoc, StripeObjectDoc } from "../domain/model.js";
import { recordableObjectId, recordableObjectType, type NormalizeResult, type NormalizedEvent, type StripeEventEnvelope } from "../domain/normalize.js";
import type { SnapshotSet } from "../domain/snapshots.js";
import { fromFirestore } from "./db.js";
import { planJobs } from "./liveJobs.js";
import { COL, billingPath, customerSnapshotsPath, orderSnapshotsPath } from "./paths.js";
import { auditIn, type AuditActor } from "./audit.js";

export interface IngestOptions {
  now?: () => Date;
  graceDays: number;
  /** Test seam: runs inside the apply transaction after all writes are queued, before commit. */
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

export interface LedgerBase {
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

/** What a new ledger entry says: final at once for events there is nothing to apply from, else `received`. */
function ledgerEntry(base: LedgerBase, normalized: NormalizeResult, source: LedgerSource, at: Date): Record<string, unknown> {
  const final = normalized.outcome === "ignored" || normalized.outcome === "failed";
  return {
    ...base,
    source,
    normalized,
    status: final ? normalized.outcome : "received",
    reason: final ? normalized.reason : null,
    uid: null,
    orderId: null,
    stripeCustomerId: null,
    jobIds: [],
    receivedAt: at,
    ...(final ? { processedAt: at, appliedAt: at } : {}),
  };
}

const ALREADY_EXISTS = 6;

/**
 * The webhook's one durable write: create the ledger entry. A second delivery finds it (create fails with
 * ALREADY_EXISTS) and is answered as a duplicate with the status recorded so far.
 */
export async function recordEvent(
  db: Firestore,
  envelope: StripeEventEnvelope,
  normalized: NormalizeResult,
  source: LedgerSource,
  now: Date = new Date(),
): Promise<{ status: LedgerStatus; duplicate: boolean }> {
  const ref = db.collection(COL.stripeEvents).doc(envelope.id);
  const entry = ledgerEntry(ledgerBase(envelope), normalized, source, now);
  try {
    await ref.create(entry);
    return { status: entry.status as LedgerStatus, duplicate: false };
  } catch (error) {
    if ((error as { code?: unknown }).code !== ALREADY_EXISTS) throw error;
    const existing = await ref.get();
    return { status: (existing.get("status") as LedgerStatus | undefined) ?? "received", duplicate: true };
  }
}

/** Applies a `received` ledger entry (the ledger trigger, the sweep). Any other status: nothing to do. */
export async function applyRecordedEvent(db: Firestore, eventId: string, options: IngestOptions): Promise<IngestResult> {
  return runApply(db, eventId, "apply", options);
}

/** Records an event from another path than the webhook (sweep, backfill) and applies it at once. */
export async function ingestEvent(
  db: Firestore,
  envelope: StripeEventEnvelope,
  normalized: NormalizeResult,
  source: LedgerSource,
  options: IngestOptions,
): Promise<IngestResult> {
  const now = options.now ?? (() => new Date());
  const recorded = await recordEvent(db, envelope, normalized, source, now());
  if (recorded.status !== "received") return { eventId: envelope.id, status: recorded.status, duplicate: recorded.duplicate, reason: null, attempts: 0 };
  const result = await applyRecordedEvent(db, envelope.id, options);
  return { ...result, duplicate: recorded.duplicate || result.duplicate };
}

/** Re-applies an event held in the review queue (its mapping has appeared). No-op unless still held. */
export async function releaseHeldEvent(db: Firestore, event: NormalizedEvent, options: IngestOptions): Promise<IngestResult> {
  return runApply(db, event.meta.id, "release", options, { outcome: "normalized", event });
}

/** Ledger statuses a replay may overwrite: the event was never recorded, could not be applied, or is held. */
export const REPLAYABLE_STATUSES: readonly (LedgerStatus | null)[] = [null, "failed", "needs_review"];

/**
 * Re-runs an event fetched again from Stripe (admin replayEvent). Runs only when the ledger entry is absent,
 * `failed` or `needs_review` (then its outcome is overwritten, and an open review item is resolved unless the
 * event is held again); otherwise it changes nothing and answers the recorded status with `duplicate: true`.
 */
export async function ingestReplay(
  db: Firestore,
  envelope: StripeEventEnvelope,
  normalized: NormalizeResult,
  options: IngestOptions,
): Promise<IngestResult & { previous: LedgerStatus | null }> {
  const ref = db.collection(COL.stripeEvents).doc(envelope.id);
  const at = (options.now ?? (() => new Date()))();
  const previous = await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const existing = snap.exists ? (snap.get("status") as LedgerStatus) : null;
    if (!REPLAYABLE_STATUSES.includes(existing)) return { existing, replay: false };
    const entry = ledgerEntry(ledgerBase(envelope), normalized, "replay", at);
    tx.set(ref, { ...entry, receivedAt: snap.exists ? snap.get("receivedAt") : at, replayedAt: at });
    return { existing, replay: true };
  });
  if (!previous.replay) {
    const snap = await ref.get();
    return { eventId: envelope.id, status: previous.existing ?? "failed", duplicate: true, reason: snap.get("reason") ?? null, attempts: 0, previous: previous.existing };
  }
  const final = normalized.outcome === "ignored" || normalized.outcome === "failed";
  const result = final
    ? { eventId: envelope.id, status: normalized.outcome as LedgerStatus, duplicate: false, reason: normalized.reason, attempts: 1 }
    : await runApply(db, envelope.id, "replay", options);
  if (final && previous.existing === "needs_review") await closeReviewItem(db, envelope.id, `replayed: ${normalized.outcome}`, at);
  return { ...result, previous: previous.existing };
}

async function closeReviewItem(db: Firestore, eventId: string, resolution: string, at: Date): Promise<void> {
  const ref = db.collection(COL.reviewQueue).doc(eventId);
  await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (snap.exists && snap.get("status") === "open") tx.update(ref, { status: "resolved", resolution, updatedAt: at });
  });
}

type ApplyMode = "apply" | "release" | "replay";

function storedEvent(value: unknown): NormalizeResult | null {
  if (!value || typeof value !== "object" || !("outcome" in value)) return null;
  return fromFirestore<NormalizeResult>(value);
}

async function runApply(db: Firestore, eventId: string, mode: ApplyMode, options: IngestOptions, given?: NormalizeResult): Promise<IngestResult> {
  const now = options.now ?? (() => new Date());
  const ledgerRef = db.collection(COL.stripeEvents).doc(eventId);
  const reviewRef = db.collection(COL.reviewQueue).doc(eventId);
  let attempts = 0;
  return db.runTransaction(async (tx) => {
    attempts += 1;
    const at = now();
    const ledgerSnap = await tx.get(ledgerRef);
    const existing = ledgerSnap.exists ? (ledgerSnap.get("status") as LedgerStatus) : null;
    const wanted: LedgerStatus = mode === "release" ? "needs_review" : "received";
    if (existing !== wanted) {
      return { eventId, status: existing ?? "failed", duplicate: true, reason: ledgerSnap.get("reason") ?? null, attempts };
    }
    const normalized = given ?? storedEvent(ledgerSnap.get("normalized"));
    const finish = async (outcome: Record<string, unknown>, status: LedgerStatus, reason: string | null) => {
      tx.update(ledgerRef, { status, reason, processedAt: at, appliedAt: at, ...outcome });
      await options.beforeCommit?.(tx);
      return { eventId, status, duplicate: false, reason, attempts };
    };
    if (!normalized || normalized.outcome === "ignored" || normalized.outcome === "failed") {
      const reason = normalized ? normalized.reason : "the ledger entry holds no event to apply";
      return finish({}, normalized?.outcome === "ignored" ? "ignored" : "failed", reason);
    }
    if (normalized.outcome === "needs_review") {
      // The id is never used as a path; the review item says which field to fix. It holds no replayable event
      // (and no stripeCustomerId), so a later mapping does not re-run it: a person resolves it.
      tx.set(reviewRef, {
        eventId, eventType: ledgerSnap.get("type"), eventCreated: (ledgerSnap.get("created") as Timestamp).seconds,
        reason: "invalid_id", field: normalized.field, detail: normalized.reason, status: "open", stripeCustomerId: null,
        stripeObjectId: ledgerSnap.get("objectId") ?? null, orderId: null, event: null, createdAt: at, updatedAt: at,
      });
      return finish({ field: normalized.field }, "needs_review", normalized.reason);
    }
    const event = normalized.event;
    const reviewSnap = mode === "replay" ? await tx.get(reviewRef) : null;
    const plan = await planInTransaction(db, tx, event, at, options.graceDays);
    const jobIds = await writePlan(db, tx, plan, event, at);
    if (plan.review) {
      tx.set(reviewRef, {
        eventId, eventType: event.meta.type, eventCreated: event.meta.created, reason: plan.review.reason, detail: plan.review.detail,
        status: "open", stripeCustomerId: plan.owner.stripeCustomerId, stripeObjectId: event.subject.objectId,
        orderId: plan.owner.order?.orderId ?? null,
        // The payment intent / charge whose owner would attribute it (a refund before its payment): when one of
        // them is linked to an owner, the event is released (services/heldEvents.ts).
        waitingFor: linkedObjectIds(event.subject),
        // The normalized facts (ids, amounts, statuses; no card data) so the event can be applied later.
        event, createdAt: at, updatedAt: at,
      });
    } else if (mode === "release") {
      tx.update(reviewRef, { status: "resolved", resolution: `applied as ${plan.status}`, updatedAt: at });
    } else if (mode === "replay" && reviewSnap?.exists && reviewSnap.get("status") === "open") {
      tx.update(reviewRef, { status: "resolved", resolution: `replayed: ${plan.status}`, updatedAt: at });
    }
    return finish(
      { uid: plan.owner.uid, orderId: plan.owner.order?.orderId ?? null, stripeCustomerId: plan.owner.stripeCustomerId, jobIds },
      plan.status,
      plan.reason,
    );
  });
}

/** Reads who the event belongs to and the documents it changes, then asks the domain what to do. */
async function planInTransaction(db: Firestore, tx: Transaction, event: NormalizedEvent, at: Date, graceDays: number) {
  const subject = event.subject;
  const customerId = subjectCustomerId(subject);
  const objectsCol = db.collection(COL.stripeObjects);
  const linkIds = linkedObjectIds(subject);
  const refs: DocumentReference[] = linkIds.map((id) => objectsCol.doc(id));
  if (customerId) refs.push(db.collection(COL.stripeCustomers).doc(customerId));
  const snaps = refs.length ? await tx.getAll(...refs) : [];
  const links = linkIds.map((_, i) => (snaps[i]?.exists ? fromFirestore<StripeObjectDoc>(snaps[i]?.data()) : null));
  const mappingSnap = customerId ? snaps[snaps.length - 1] : undefined;
  const mappingUid = mappingSnap?.exists ? ((mappingSnap.get("uid") as string | undefined) ?? null) : null;
  const owner = resolveOwner(subject, { mappingUid, links });

  let customer: CustomerDoc | null = null;
  let billing: BillingDoc | null = null;
  let order: OrderDoc | null = null;
  let snapshots: SnapshotSet | null = null;
  if (owner.order) {
    const [oSnap, sSnap] = await tx.getAll(db.collection(COL.orders).doc(owner.order.orderId), db.doc(orderSnapshotsPath(owner.order.orderId)));
    order = oSnap?.exists ? fromFirestore<OrderDoc>(oSnap.data()) : null;
    snapshots = sSnap?.exists ? fromFirestore<SnapshotSet>(sSnap.data()) : null;
  } else if (owner.uid && !owner.conflict) {
    const [cSnap, bSnap, sSnap] = await tx.getAll(db.collection(COL.customers).doc(owner.uid), db.doc(billingPath(owner.uid)), db.doc(customerSnapshotsPath(owner.uid)));
    customer = cSnap?.exists ? fromFirestore<CustomerDoc>(cSnap.data()) : null;
    billing = bSnap?.exists ? fromFirestore<BillingDoc>(bSnap.data()) : null;
    snapshots = sSnap?.exists ? fromFirestore<SnapshotSet>(sSnap.data()) : null;
  }
  const plan = applyEvent({ event, now: at, graceDays, owner, mappingUid, customer, billing, order, snapshots });
  return { ...plan, owner };
}

/**
 * Writes what a plan says, in the caller's transaction, before which the caller must not have written anything (the
 * live jobs are read first). Returns the ids of the jobs it created or folded the change into (the ledger's `jobIds`).
 */
export async function writePlan(
  db: Firestore,
  tx: Transaction,
  plan: ApplyPlan,
  event: { meta: { id: string; type: string } } | null,
  at: Date,
  /** Who the audit entries name when no event caused the change (default: the cause, e.g. `revalidate_<job>`). */
  systemActor?: string,
): Promise<string[]> {
  const jobCause = event ? { type: "stripeEvent", eventId: event.meta.id, eventType: event.meta.type } : { type: "system", jobId: plan.cause };
  const jobs = await planJobs(db, tx, plan.jobs, plan.cause, jobCause, at);
  const actor: AuditActor = event ? { type: "stripe", id: event.meta.id } : { type: "system", id: systemActor ?? plan.cause };
  const cause = event ? { type: "stripeEvent", eventId: event.meta.id, eventType: event.meta.type } : { type: "system", id: plan.cause };
  // merge keeps fields other writers own (crmContactId from the CRM sink, admin notes).
  if (plan.customer) tx.set(db.collection(COL.customers).doc(plan.customer.after.uid), plan.customer.after, { merge: true });
  if (plan.billing) tx.set(db.doc(billingPath(plan.billing.after.uid)), plan.billing.after);
  if (plan.order) tx.set(db.collection(COL.orders).doc(plan.order.after.orderId), plan.order.after, { merge: true });
  if (plan.snapshots) {
    const path = plan.snapshots.owner === "customer" ? customerSnapshotsPath(plan.snapshots.id) : orderSnapshotsPath(plan.snapshots.id);
    tx.set(db.doc(path), { ...plan.snapshots.set, updatedAt: at });
  }
  if (plan.mapping) {
    tx.set(db.collection(COL.stripeCustomers).doc(plan.mapping.stripeCustomerId), {
      stripeCustomerId: plan.mapping.stripeCustomerId,
      uid: plan.mapping.uid,
      source: event ? `stripe:${event.meta.id}` : plan.cause,
      createdAt: at,
    });
  }
  for (const link of plan.objects) {
    tx.set(db.collection(COL.stripeObjects).doc(link.id), { objectType: link.objectType, ...link.fields, updatedAt: at }, { merge: true });
  }
  jobs.write();
  for (const audit of plan.audits) {
    auditIn(db, tx, { actor, action: audit.action, target: audit.target, before: audit.before, after: audit.after, cause, at });
  }
  return jobs.ids;
}
