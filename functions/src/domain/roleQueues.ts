/**
 * Items of the role queues (`listQueue`), shaped per kind from the documents the store read. Amounts appear only
 * when the view may see them (finance, admin); support gets the hosted invoice link but no amount. Pure: no I/O.
 */
import { paymentIssue } from "./customerCard.js";
import type { QueueKind } from "./consoleOps.js";

type Doc = Record<string, unknown>;

const asDate = (v: unknown): Date | null => (v instanceof Date ? v : null);
const iso = (v: unknown): string | null => asDate(v)?.toISOString() ?? null;

/** One document of a queue kind, plus what the store read beside it (billing, the dispute's holder). */
export interface QueueSource {
  id: string;
  data: Doc;
  /** failed_payment: customers/{uid}/private/billing; dispute: the order or the billing document that holds it. */
  related?: Doc | null;
}

/** Dispute statuses that no longer need anyone. */
const CLOSED_DISPUTES = new Set(["won", "lost", "warning_closed", "charge_refunded"]);

const field = (doc: unknown, key: string): unknown => (doc && typeof doc === "object" ? (doc as Doc)[key] : undefined);

/**
 * The dispute as its holder records it now (orders/{id}.dispute or billing.disputes[id]); else as the ledger
 * entry's normalized event had it when it opened (a dispute opsync could tie to nobody); null when neither.
 */
function disputeOf(source: QueueSource): Doc | null {
  const related = source.related;
  const disputeId = typeof source.data.objectId === "string" ? source.data.objectId : null;
  if (!disputeId) return null;
  const held = field(related, "dispute");
  if (held && typeof held === "object" && field(held, "id") === disputeId) return held as Doc;
  const inBilling = field(field(related, "disputes"), disputeId);
  if (inBilling && typeof inBilling === "object") return inBilling as Doc;
  const subject = field(field(field(source.data, "normalized"), "event"), "subject");
  return field(subject, "objectId") === disputeId ? (subject as Doc) : null;
}

/** False for an item nobody in the queue can act on (a closed dispute; a held event naming no Stripe customer to map). */
export function stillOpen(kind: QueueKind, source: QueueSource): boolean {
  if (kind === "unmapped_customer") return typeof source.data.stripeCustomerId === "string";
  if (kind !== "dispute") return true;
  const status = disputeOf(source)?.status;
  return !(typeof status === "string" && CLOSED_DISPUTES.has(status));
}

export function shapeQueueItem(kind: QueueKind, source: QueueSource, seesAmounts: boolean): Doc {
  const d = source.data;
  switch (kind) {
    case "alert":
      return shapeAlert(source);
    case "unmapped_customer":
      return {
        kind,
        id: source.id,
        stripeCustomerId: d.stripeCustomerId ?? null,
        eventId: d.eventId ?? source.id,
        eventType: d.eventType ?? null,
        detail: d.detail ?? null,
        createdAt: iso(d.createdAt),
        action: "resolveReview",
      };
    case "refund_request":
      return {
        kind,
        id: source.id,
        orderId: d.orderId ?? null,
        chargeId: d.chargeId ?? null,
        paymentIntentId: d.paymentIntentId ?? null,
        detail: d.detail ?? null,
        requestedBy: d.requestedBy ?? null,
        amount: seesAmounts ? (d.amount ?? null) : undefined,
        createdAt: iso(d.createdAt),
        action: "refund in Stripe",
      };
    case "failed_payment":
      return {
        kind,
        id: source.id,
        uid: source.id,
        email: d.email ?? null,
        name: d.name ?? null,
        plan: d.plan ?? null,
        subscriptionStatus: d.subscriptionStatus ?? null,
        graceUntil: iso(d.entitlementsGraceUntil),
        payment: paymentIssue(source.related ?? null, seesAmounts),
        updatedAt: iso(d.updatedAt),
        action: "resolveFailedPayment",
      };
    case "support_request":
      return {
        kind,
        id: source.id,
        uid: d.uid ?? null,
        subject: d.subject ?? null,
        category: d.category ?? null,
        status: d.status ?? null,
        ticketId: d.ticketId ?? null,
        helpdesk: d.helpdesk ?? null,
        reason: d.reason ?? null,
        createdAt: iso(d.createdAt),
        action: "answer in the helpdesk",
      };
    case "dispute": {
      const dispute = disputeOf(source);
      return {
        kind,
        id: source.id,
        disputeId: d.objectId ?? null,
        eventId: source.id,
        uid: d.uid ?? null,
        orderId: d.orderId ?? null,
        status: dispute?.status ?? null,
        reason: dispute?.reason ?? null,
        amount: seesAmounts ? (dispute?.amount ?? null) : undefined,
        currency: seesAmounts ? (dispute?.currency ?? null) : undefined,
        createdAt: iso(d.created),
        action: "respond in Stripe",
      };
    }
  }
}

const strings = (v: unknown, max: number): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").slice(0, max) : []);

/**
 * An open alert as Needs action shows it: an incident (one per root cause: what, who is affected, what opsync does
 * next and when, the owner, the fix, the jobs to retry), the auth pause, a signal alert, a reconcile drift, or a
 * per-job alert written before incidents existed (its one job is its whole incident).
 */
function shapeAlert(source: QueueSource): Doc {
  const d = source.data;
  const error = d.error && typeof d.error === "object" ? (d.error as Doc) : {};
  const affected = d.affected && typeof d.affected === "object" ? (d.affected as Doc) : {};
  const legacyJob = typeof d.jobId === "string" ? d.jobId : null;
  const target = d.target && typeof d.target === "object" ? (d.target as Doc) : null;
  const customers = strings(affected.customers, 100);
  if (!customers.length && typeof target?.uid === "string") customers.push(target.uid);
  const nextStep = d.nextStep && typeof d.nextStep === "object" ? (d.nextStep as Doc) : null;
  const ack = d.acknowledged && typeof d.acknowledged === "object" ? (d.acknowledged as Doc) : null;
  const deadJobIds = legacyJob ? [legacyJob] : strings(d.deadJobIds, 50);
  return {
    kind: "alert",
    id: source.id,
    type: d.type ?? null,
    title: d.title ?? (legacyJob ? `${String(d.kind ?? "job")} gave up (${String(d.reason ?? "failed").replace(/_/g, " ")})` : source.id),
    owner: d.owner ?? (d.type === "sink_auth_failed" || d.type === "reconcile_drift" ? "admin" : "support"),
    sink: d.sink ?? null,
    scope: d.scope ?? null,
    fix: d.fix ?? (legacyJob ? "Fix the cause in the error, then retry the job." : null),
    nextStep: nextStep ? { action: nextStep.action ?? null, at: iso(nextStep.at), text: nextStep.text ?? null } : null,
    affected: { customers, orders: strings(affected.orders, 100) },
    affectedCount: typeof d.affectedCount === "number" ? d.affectedCount : customers.length,
    jobCount: typeof d.jobCount === "number" ? d.jobCount : legacyJob ? 1 : 0,
    deadJobIds,
    acknowledged: ack ? { by: ack.by ?? null, at: iso(ack.at), note: ack.note ?? null } : null,
    error: { message: error.message ?? null, httpStatus: error.httpStatus ?? null },
    // Per-job alerts from before incidents: the fields they always had.
    jobId: legacyJob,
    jobKind: d.kind ?? null,
    target,
    reason: d.reason ?? null,
    attempts: d.attempts ?? null,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    action: legacyJob ? "retryJob" : "ackIncident",
  };
}
