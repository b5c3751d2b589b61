/**
 * The admin operations, one implementation behind both the HTTP API (adminHttp.ts) and the callable: rate limit
 * per caller, role check (denied attempts are audited), strict input validation, then the operation. Every
 * operation that changes something writes an `admin.<operation>` audit entry naming the caller, their roles and
 * how they authenticated. Destructive operations answer a dry run unless the input says `confirm: true`.
 */
import { getAuth } from "firebase-admin/auth";
import type { DocumentData, QueryDocumentSnapshot } from "firebase-admin/firestore";
import { HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
import { adminConfig, noticeSettings, stripeApiConfig } from "../config.js";
import {
  ADMIN_OPERATIONS,
  ADMIN_OPERATION_NAMES,
  AdminError,
  BILLING_READER_ROLES,
  OPEN_JOB_STATUSES,
  RATE_WINDOW_MS,
  REFUND_TARGET_FIELDS,
  STAFF_NOTES_READER_ROLES,
  auditTarget,
  isAdminOperation,
  isDryRun,
  jsonSafe,
  mayRun,
  parseAdminInput,
  rateLimitDecision,
  refundReviewId,
  shapeCustomerSummary,
  type AdminInput,
  type AdminOperation,
} from "../domain/adminOps.js";
import { TransientError, ValidationError } from "../domain/errors.js";
import type { LedgerStatus } from "../domain/model.js";
import { hasAnyRole, staffRolesFromClaims } from "../domain/roles.js";
import { sessionProblem } from "../domain/sessions.js";
import { log } from "../log.js";
import { fromFirestore } from "../store/db.js";
import { ensureDefaultApp, getDb } from "./runtime.js";
import type { ClaimsReadPort, CrmReadPort } from "../sinks/ports.js";
import { lazyStripeEvents, type StripeReadPort } from "../sinks/stripeApi.js";
import { releaseHeldEventsForCustomer } from "../store/heldEvents.js";
import { REPLAYABLE_STATUSES, ingestReplay } from "../store/ingest.js";
import { clearSinkAuthPause, requeuePausedJobs, retryDeadJob, setAutomationPaused } from "../store/jobQueue.js";
import { AUTOMATION_DOC, COL, SYNC_COL, billingPath, staffNotesPath } from "../store/paths.js";
import { RATE_LIMITS_COL } from "../store/rateLimits.js";
import { instanceAuthFailureGuard, type AuthFailureGuard } from "./adminAuthGuard.js";
import { actorOf, auditEntry } from "./adminOps/audit.js";
import type { AdminAuthPort, AdminDeps, AdminResult, Caller, Ctx, Handler } from "./adminOps/types.js";
import { deployedReadPorts } from "./maintenanceDeps.js";
import { backfillOp } from "./adminOps/backfill.js";
import { reconcileOp } from "./adminOps/reconcile.js";
import { replayOp } from "./adminOps/replay.js";
import { sweepEventsOp } from "./adminOps/sweepEvents.js";
import { ackIncidentOp } from "./adminOps/ackIncident.js";
import { resolveFailedPaymentOp } from "./adminOps/resolveFailedPayment.js";
import { resolveIncidentOp } from "./adminOps/resolveIncident.js";
import { resolveRefundRequestOp } from "./adminOps/resolveRefundRequest.js";
import { findCustomer } from "./adminOps/findCustomer.js";
import { listQueue } from "./adminOps/listQueue.js";
import { opsStatus } from "./adminOps/opsStatus.js";
import { checkStripeEvent } from "./stripeWebhook.js";

/** Collections the admin API owns (docs/admin-api.md). */
export const ADMIN_COL = {
  rateLimits: RATE_LIMITS_COL,
  apiKeys: "apiKeys",
} as const;

/** Firebase Auth custom claims must stay under 1000 bytes of JSON. */
const MAX_CLAIMS_BYTES = 1000;

export type { AdminAuthPort, AdminDeps, AdminResult, AdminUser, Caller, CallerVia, Ctx, Handler, Outcome } from "./adminOps/types.js";

// ---- Entry point -------------------------------------------------------------------------------------------

/**
 * Runs one admin operation for an authenticated caller. Resolves to the operation's answer (JSON-safe: dates are
 * ISO strings) or rejects with an AdminError (anything else is an internal failure).
 */
export async function runAdminOperation(deps: AdminDeps, caller: Caller, operation: string, rawInput: unknown): Promise<AdminResult> {
  const now = deps.now?.() ?? new Date();
  try {
    await enforceRateLimit(deps, caller, now);
    if (!isAdminOperation(operation)) {
      throw new AdminError("not-found", `unknown operation "${operation}" (operations: ${ADMIN_OPERATION_NAMES.join(", ")})`);
    }
    const allowedRoles = ADMIN_OPERATIONS[operation].roles;
    if (!mayRun(operation, caller.roles)) {
      await deps.db.collection(COL.auditLog).add(
        auditEntry(caller, operation, {
          outcome: "denied",
          target: auditTarget(operation, rawInput),
          before: null,
          after: null,
          detail: { allowedRoles: [...allowedRoles] },
          at: now,
        }),
      );
      throw new AdminError(
        "permission-denied",
        `${operation} needs one of the roles ${allowedRoles.join(", ")}; you have ${caller.roles.join(", ") || "no staff role"}`,
        { allowedRoles },
      );
    }
    const { outcome, result } = await dispatch(operation, { deps, caller, now }, rawInput);
    log.adminOperation({ operation, callerId: caller.uid, via: caller.via, outcome });
    return result;
  } catch (error) {
    if (error instanceof AdminError) {
      log.adminRefused({ operation, callerId: caller.uid, via: caller.via, code: error.code, field: error.detail.field ?? null });
    } else {
      log.adminFailed(operation, error);
    }
    throw error;
  }
}

async function dispatch<O extends AdminOperation>(operation: O, ctx: Ctx, rawInput: unknown) {
  let input: AdminInput<O>;
  try {
    input = parseAdminInput(operation, rawInput);
  } catch (error) {
    if (error instanceof ValidationError) throw new AdminError("invalid-argument", error.message, { field: error.field });
    throw error;
  }
  const handler = HANDLERS[operation] as Handler<O>;
  return handler(ctx, input);
}

// ---- Rate limit --------------------------------------------------------------------------------------------

export function callerKey(caller: Caller): string {
  return caller.via === "apiKey" && caller.keyId ? `apiKey:${caller.keyId}` : `user:${caller.uid}`;
}

/** Fixed one-minute window per caller, counted in a transaction on `rateLimits/{callerKey}`. */
async function enforceRateLimit(deps: AdminDeps, caller: Caller, now: Date): Promise<void> {
  const key = callerKey(caller);
  const ref = deps.db.collection(ADMIN_COL.rateLimits).doc(key);
  const decision = await deps.db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const current = snap.exists ? { windowStartMs: Number(snap.get("windowStartMs")), count: Number(snap.get("count")) } : null;
    const d = rateLimitDecision(current, deps.rateLimitPerMinute, now.getTime());
    if (d.allowed) {
      tx.set(ref, {
        callerKey: key,
        windowStartMs: d.next.windowStartMs,
        count: d.next.count,
        // For a Firestore TTL policy on rateLimits.expireAt (optional; stale windows are harmless).
        expireAt: new Date(d.next.windowStartMs + 2 * RATE_WINDOW_MS),
      });
    }
    return d;
  });
  if (!decision.allowed) {
    throw new AdminError(
      "resource-exhausted",
      `rate limit of ${deps.rateLimitPerMinute} admin calls per minute reached; retry in ${decision.retryAfterSeconds} s`,
      { retryAfterSeconds: decision.retryAfterSeconds },
    );
  }
}

// ---- Audit -------------------------------------------------------------------------------------------------

// ---- Operations --------------------------------------------------------------------------------------------

const notFound = (message: string) => new AdminError("not-found", message);
const conflict = (message: string) => new AdminError("failed-precondition", message);

const setRole: Handler<"setRole"> = async ({ deps, caller, now }, input) => {
  if (caller.uid === input.uid && input.role === "admin" && !input.enabled) {
    throw conflict("you cannot remove your own admin role; ask another admin");
  }
  const user = await deps.auth.getUser(input.uid);
  if (!user) throw notFound(`no Firebase user ${input.uid}`);
  const beforeRoles = staffRolesFromClaims(user.claims);
  const claims: Record<string, unknown> = { ...user.claims };
  if (input.enabled) claims[input.role] = true;
  else delete claims[input.role];
  const afterRoles = staffRolesFromClaims(claims);
  const changed = beforeRoles.includes(input.role) !== input.enabled;
  const revoke = changed && !input.enabled;
  const base = { uid: input.uid, role: input.role, enabled: input.enabled, before: { roles: beforeRoles }, after: { roles: afterRoles } };
  if (isDryRun("setRole", input)) {
    return { outcome: "dry_run", result: { operation: "setRole", dryRun: true, ...base, wouldChange: changed, wouldRevokeSessions: revoke } };
  }
  if (!changed) {
    return { outcome: "unchanged", result: { operation: "setRole", dryRun: false, ...base, changed: false, sessionsRevoked: false } };
  }
  if (JSON.stringify(claims).length > MAX_CLAIMS_BYTES) {
    throw conflict(`custom claims for ${input.uid} would exceed ${MAX_CLAIMS_BYTES} bytes`);
  }
  await deps.auth.setClaims(input.uid, claims);
  // A removed role must stop working now, not when the user's ID token next refreshes (up to an hour).
  if (revoke) await deps.auth.revokeSessions(input.uid);
  await deps.db.collection(COL.auditLog).add(
    auditEntry(caller, "setRole", {
      outcome: "applied",
      target: `users/${input.uid}`,
      before: { roles: beforeRoles },
      after: { roles: afterRoles, sessionsRevoked: revoke },
      at: now,
    }),
  );
  return { outcome: "applied", result: { operation: "setRole", dryRun: false, ...base, changed: true, sessionsRevoked: revoke } };
};

const customerSummary: Handler<"customerSummary"> = async ({ deps, caller }, input) => {
  const { db } = deps;
  const readsBilling = hasAnyRole(caller.roles, BILLING_READER_ROLES);
  const readsNotes = hasAnyRole(caller.roles, STAFF_NOTES_READER_ROLES);
  const [customerSnap, billingSnap, notesSnap, jobsSnap, auditSnap] = await Promise.all([
    db.collection(COL.customers).doc(input.uid).get(),
    readsBilling ? db.doc(billingPath(input.uid)).get() : Promise.resolve(null),
    readsNotes ? db.doc(staffNotesPath(input.uid)).get() : Promise.resolve(null),
    db
      .collection(COL.syncJobs)
      .where("target.uid", "==", input.uid)
      .where("status", "in", [...OPEN_JOB_STATUSES])
      .limit(100)
      .get(),
    db.collection(COL.auditLog).where("target", "==", `${COL.customers}/${input.uid}`).orderBy("at", "desc").limit(20).get(),
  ]);
  if (!customerSnap.exists) throw notFound(`no customer record ${COL.customers}/${input.uid}`);
  const docs = (snaps: QueryDocumentSnapshot<DocumentData>[]) => snaps.map((d) => fromFirestore<Record<string, unknown>>(d.data()));
  const summary = shapeCustomerSummary(
    {
      uid: input.uid,
      customer: fromFirestore<Record<string, unknown>>(customerSnap.data()),
      billing: billingSnap?.exists ? fromFirestore<Record<string, unknown>>(billingSnap.data()) : null,
      staffNotes: notesSnap?.exists ? fromFirestore<Record<string, unknown>>(notesSnap.data()) : null,
      jobs: docs(jobsSnap.docs),
      audit: docs(auditSnap.docs),
    },
    caller.roles,
  );
  return { outcome: "read", result: { operation: "customerSummary", ...summary } };
};

const retryJob: Handler<"retryJob"> = async ({ deps, caller, now }, input) => {
  const snap = await deps.db.collection(COL.syncJobs).doc(input.jobId).get();
  if (!snap.exists) throw notFound(`no sync job ${COL.syncJobs}/${input.jobId}`);
  const status = String(snap.get("status"));
  if (status !== "dead") throw conflict(`job ${input.jobId} is ${status}; only dead jobs can be retried`);
  const before = { status: "dead", attempts: snap.get("attempts") ?? null, deadReason: snap.get("deadReason") ?? null };
  const retried = await retryDeadJob(deps.db, input.jobId, actorOf(caller), now);
  if (!retried) throw conflict(`job ${input.jobId} changed while retrying; read it again`);
  const after = { status: "pending", attempts: 0 };
  await deps.db
    .collection(COL.auditLog)
    .add(auditEntry(caller, "retryJob", { outcome: "applied", target: `${COL.syncJobs}/${input.jobId}`, before, after, at: now }));
  return { outcome: "applied", result: { operation: "retryJob", jobId: input.jobId, retried: true, before, after } };
};

const setAutomation: Handler<"setAutomation"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const snap = await db.doc(AUTOMATION_DOC).get();
  const current = snap.exists ? fromFirestore<Record<string, unknown>>(snap.data()) : {};
  const before = { paused: current.paused === true, reason: current.reason ?? null, by: current.by ?? null, at: current.at ?? null };
  const after = { paused: input.paused, reason: input.reason ?? null };
  if (isDryRun("setAutomation", input)) {
    // Pausing holds every job still to run; resuming re-queues the paused ones.
    const affected = input.paused
      ? db.collection(COL.syncJobs).where("status", "in", ["pending", "retrying", "running"])
      : db.collection(COL.syncJobs).where("status", "==", "paused");
    const jobsAffected = (await affected.count().get()).data().count;
    return {
      outcome: "dry_run",
      result: jsonSafe({
        operation: "setAutomation",
        dryRun: true,
        before,
        after,
        jobsAffected,
        effect: input.paused
          ? `no sink will be called; ${jobsAffected} job(s) waiting to run would be held as paused`
          : `${jobsAffected} paused job(s) would be re-queued (by onAutomationWritten; no order is promised)`,
      }) as AdminResult,
    };
  }
  // Resuming only writes the switch: onAutomationWritten is the one place that re-queues paused jobs (a console
  // edit of ops/automation takes the same path), each job once, never a finished one.
  await setAutomationPaused(db, input.paused, { by: caller.uid, reason: input.reason ?? null }, now, deps.notices);
  const pausedJobs = input.paused ? 0 : (await db.collection(COL.syncJobs).where("status", "==", "paused").count().get()).data().count;
  await db.collection(COL.auditLog).add(
    auditEntry(caller, "setAutomation", {
      outcome: "applied",
      target: AUTOMATION_DOC,
      before: { paused: before.paused, reason: before.reason },
      after: { ...after, pausedJobs },
      at: now,
    }),
  );
  return { outcome: "applied", result: jsonSafe({ operation: "setAutomation", dryRun: false, before, after, pausedJobs }) as AdminResult };
};

const resumeSink: Handler<"resumeSink"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const state = await db.collection(SYNC_COL.sinkState).doc(input.sink).get();
  const pause = state.exists ? (fromFirestore<{ pausedForAuth?: Record<string, unknown> | null }>(state.data()).pausedForAuth ?? null) : null;
  if (isDryRun("resumeSink", input)) {
    return {
      outcome: "dry_run",
      result: jsonSafe({
        operation: "resumeSink",
        dryRun: true,
        sink: input.sink,
        pausedForAuth: pause,
        effect: pause ? `the ${input.sink} sink would run again; its paused jobs would be re-queued` : `the ${input.sink} sink is not paused; nothing would change`,
      }) as AdminResult,
    };
  }
  const cleared = await clearSinkAuthPause(db, input.sink, actorOf(caller), now, deps.notices);
  // Re-queue even when it was not paused (a credential change lifted it meanwhile): preconditions make this idempotent.
  const requeued = await requeuePausedJobs(db, now, { sink: input.sink });
  const after = { pausedForAuth: null, requeued };
  await db.collection(COL.auditLog).add(
    auditEntry(caller, "resumeSink", { outcome: "applied", target: `${SYNC_COL.sinkState}/${input.sink}`, before: { pausedForAuth: pause }, after, at: now }),
  );
  return {
    outcome: cleared.wasPaused || requeued > 0 ? "applied" : "unchanged",
    result: jsonSafe({ operation: "resumeSink", dryRun: false, sink: input.sink, wasPaused: cleared.wasPaused, requeued }) as AdminResult,
  };
};

const resolveReview: Handler<"resolveReview"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const mapRef = db.collection(COL.stripeCustomers).doc(input.stripeCustomerId);
  const openItems = db
    .collection(COL.reviewQueue)
    .where("stripeCustomerId", "==", input.stripeCustomerId)
    .where("status", "==", "open")
    .orderBy("eventCreated", "asc");
  const item = (d: QueryDocumentSnapshot<DocumentData>) => ({
    eventId: d.id,
    eventType: d.get("eventType") ?? null,
    reason: d.get("reason") ?? null,
    eventCreated: d.get("eventCreated") ?? null,
  });
  const mappedTo = (uid: unknown): void => {
    if (typeof uid === "string" && uid !== input.uid) {
      throw conflict(`Stripe customer ${input.stripeCustomerId} is already mapped to uid ${uid}; a mapping is never moved`);
    }
  };
  if (!(await deps.auth.getUser(input.uid))) throw notFound(`no Firebase user ${input.uid}`);

  if (isDryRun("resolveReview", input)) {
    const [mapping, items] = await Promise.all([mapRef.get(), openItems.get()]);
    mappedTo(mapping.get("uid"));
    return {
      outcome: "dry_run",
      result: jsonSafe({
        operation: "resolveReview",
        dryRun: true,
        stripeCustomerId: input.stripeCustomerId,
        uid: input.uid,
        mapping: mapping.exists ? { uid: mapping.get("uid") ?? null, source: mapping.get("source") ?? null } : null,
        wouldCreateMapping: !mapping.exists,
        openItems: items.docs.map((d) => fromFirestore<Record<string, unknown>>(item(d))),
      }) as AdminResult,
    };
  }

  const auditRef = db.collection(COL.auditLog).doc();
  const source = `admin:${caller.uid}`;
  // The mapping (written once, never moved) and its audit entry commit together; the open items are read in
  // the same transaction so the answer covers them even if the onStripeCustomerMapped trigger applies them first.
  const { created, itemIds } = await db.runTransaction(async (tx) => {
    const [mapping, items] = await Promise.all([tx.get(mapRef), tx.get(openItems)]);
    mappedTo(mapping.get("uid"));
    const ids = items.docs.map((d) => d.id);
    if (!mapping.exists) {
      tx.create(mapRef, { stripeCustomerId: input.stripeCustomerId, uid: input.uid, source, createdAt: now });
      tx.set(
        auditRef,
        auditEntry(caller, "resolveReview", {
          outcome: "applied",
          target: `${COL.stripeCustomers}/${input.stripeCustomerId}`,
          before: { uid: null },
          after: { uid: input.uid, source, applied: [] },
          at: now,
        }),
      );
    }
    return { created: !mapping.exists, itemIds: ids };
  });

  // Idempotent: an event the trigger already applied is skipped.
  const released = await releaseHeldEventsForCustomer(db, input.stripeCustomerId, { graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) });
  const ids = [...new Set([...itemIds, ...released.map((r) => r.eventId)])];
  const ledger = ids.length ? await db.getAll(...ids.map((id) => db.collection(COL.stripeEvents).doc(id))) : [];
  const results = ledger.map((snap) => ({ eventId: snap.id, eventType: snap.get("type") ?? null, status: snap.get("status") ?? null }));
  const applied = results.filter((r) => r.status === "applied").map((r) => r.eventId);
  if (created) {
    await auditRef.update({ "after.applied": applied });
  } else if (applied.length) {
    await auditRef.set(
      auditEntry(caller, "resolveReview", {
        outcome: "applied",
        target: `${COL.stripeCustomers}/${input.stripeCustomerId}`,
        before: { uid: input.uid },
        after: { uid: input.uid, applied },
        at: now,
      }),
    );
  }
  if (released.length) log.heldEventsReleased(input.stripeCustomerId, released.map((r) => r.status));
  return {
    outcome: created || applied.length ? "applied" : "unchanged",
    result: { operation: "resolveReview", dryRun: false, stripeCustomerId: input.stripeCustomerId, uid: input.uid, mappingCreated: created, applied, results },
  };
};

const alreadyRecorded = (eventId: string, status: string) =>
  conflict(`event ${eventId} is already ${status}; replaying cannot change it`);

/** The event from the Stripe API; 404 when Stripe has none, 503 when Stripe cannot answer now. */
async function fetchStripeEvent(deps: AdminDeps, eventId: string): Promise<Record<string, unknown>> {
  let event: Record<string, unknown> | null;
  try {
    event = await deps.stripe.retrieveEvent(eventId);
  } catch (error) {
    if (error instanceof TransientError) {
      throw new AdminError("unavailable", `the Stripe API could not be reached (${error.message}); retry in a moment`);
    }
    throw error;
  }
  if (!event) throw notFound(`event ${eventId} not found (Stripe keeps events 30 days)`);
  return event;
}

const replayEvent: Handler<"replayEvent"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const fetched = await fetchStripeEvent(deps, input.eventId);
  const ledgerSnap = await db.collection(COL.stripeEvents).doc(input.eventId).get();
  const ledger = ledgerSnap.exists
    ? { status: ledgerSnap.get("status") as LedgerStatus, reason: (ledgerSnap.get("reason") as string | null | undefined) ?? null }
    : null;
  // The same path as a webhook delivery: envelope, mode check, normalization (then the ingest transaction).
  const checked = checkStripeEvent(fetched, deps.acceptLivemode);
  const envelope = checked.event;
  const event = {
    eventId: input.eventId,
    type: envelope?.type ?? (typeof fetched.type === "string" ? fetched.type : null),
    created: envelope ? new Date(envelope.created * 1000).toISOString() : null,
    objectId: envelope?.data.object.id ?? null,
    objectType: envelope?.data.object.object ?? null,
    livemode: envelope?.livemode ?? null,
    apiVersion: envelope?.api_version ?? null,
  };
  const replayable = REPLAYABLE_STATUSES.includes(ledger?.status ?? null);

  if (isDryRun("replayEvent", input)) {
    const normalized = checked.ok
      ? checked.normalized.outcome === "normalized"
        ? { outcome: "normalized", reason: null }
        : { outcome: checked.normalized.outcome, reason: checked.normalized.reason }
      : null;
    const why = !replayable
      ? `already ${ledger?.status ?? "recorded"}; replaying cannot change it`
      : !checked.ok
        ? checked.problem
        : ledger
          ? `the ledger says ${ledger.status}; the event would be run again and that outcome overwritten`
          : "not in the ledger; the event would be recorded as if Stripe had delivered it";
    return {
      outcome: "dry_run",
      result: { operation: "replayEvent", dryRun: true, event, ledger, normalized, wouldReprocess: replayable && checked.ok, why },
    };
  }

  if (ledger && !replayable) throw alreadyRecorded(input.eventId, ledger.status);
  if (!checked.ok) throw conflict(checked.problem);
  const result = await ingestReplay(db, checked.event, checked.normalized, { graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) });
  // Recorded by a delivery (or another replay) between the read above and the transaction.
  if (result.duplicate) throw alreadyRecorded(input.eventId, result.status);
  log.eventRecorded({ eventId: input.eventId, type: checked.event.type, status: result.status, duplicate: false, attempts: result.attempts, reason: result.reason });
  const before = { status: result.previous, reason: result.previous ? (ledger?.reason ?? null) : null };
  const after = { status: result.status, reason: result.reason };
  await db.collection(COL.auditLog).add(
    auditEntry(caller, "replayEvent", { outcome: "applied", target: `${COL.stripeEvents}/${input.eventId}`, before, after, at: now }),
  );
  return { outcome: "applied", result: { operation: "replayEvent", dryRun: false, event, before, after } };
};

const flagRefund: Handler<"flagRefund"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const field = REFUND_TARGET_FIELDS.find((f) => input[f] !== undefined);
  const targetId = field ? input[field] : undefined;
  if (!field || !targetId) throw new AdminError("invalid-argument", `flagRefund: exactly one of ${REFUND_TARGET_FIELDS.join(", ")} is required`, { field: null });
  const reviewId = refundReviewId(targetId);
  const ref = db.collection(COL.reviewQueue).doc(reviewId);
  const target = `${COL.reviewQueue}/${reviewId}`;
  const after = { detail: input.reason, amount: input.amount ?? null, status: "open" };
  const outcome = await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const before = snap.exists
      ? { detail: snap.get("detail") ?? null, amount: snap.get("amount") ?? null, status: snap.get("status") ?? null }
      : null;
    if (before && before.detail === after.detail && before.amount === after.amount && before.status === "open") {
      return { changed: false, created: false, before };
    }
    if (!before) {
      tx.create(ref, {
        reviewId,
        reason: "refund_requested",
        detail: input.reason,
        status: "open",
        orderId: input.orderId ?? null,
        chargeId: input.chargeId ?? null,
        paymentIntentId: input.paymentIntentId ?? null,
        amount: input.amount ?? null,
        requestedBy: caller.uid,
        createdAt: now,
        updatedAt: now,
      });
    } else {
      // One item per target: a second flag updates it (and reopens it if finance had closed it).
      tx.update(ref, { detail: input.reason, amount: input.amount ?? null, status: "open", updatedBy: caller.uid, updatedAt: now });
    }
    tx.set(db.collection(COL.auditLog).doc(), auditEntry(caller, "flagRefund", { outcome: "applied", target, before, after: { ...after, [field]: targetId }, at: now }));
    return { changed: true, created: !before, before };
  });
  return {
    outcome: outcome.changed ? "applied" : "unchanged",
    result: {
      operation: "flagRefund",
      reviewId,
      [field]: targetId,
      created: outcome.created,
      changed: outcome.changed,
      before: outcome.before,
      after,
    },
  };
};

const HANDLERS: { [O in AdminOperation]: Handler<O> } = {
  setRole,
  customerSummary,
  retryJob,
  setAutomation,
  resumeSink,
  resolveReview,
  replayEvent,
  flagRefund,
  resolveFailedPayment: resolveFailedPaymentOp,
  backfill: backfillOp,
  reconcile: reconcileOp,
  sweepEvents: sweepEventsOp,
  replay: replayOp,
  opsStatus,
  listQueue,
  findCustomer,
  ackIncident: ackIncidentOp,
  resolveIncident: resolveIncidentOp,
  resolveRefundRequest: resolveRefundRequestOp,
};

// ---- Callable ----------------------------------------------------------------------------------------------

export interface CallableAuth {
  uid: string;
  token: Record<string, unknown>;
}

const callEnvelope = z.strictObject({
  operation: z.string({ error: "operation is required (a string)" }).min(1, "operation must not be empty"),
  input: z.unknown().optional(),
});

/** The callable contract: `data = {operation, input}`, caller from the verified ID token. Throws HttpsError. */
export async function handleAdminCall(deps: AdminDeps, request: { auth?: CallableAuth | undefined; data: unknown }): Promise<AdminResult> {
  try {
    const caller = await callableCaller(deps, request.auth);
    const envelope = callEnvelope.safeParse(request.data);
    if (!envelope.success) {
      const issue = envelope.error.issues[0];
      const field = issue?.code === "unrecognized_keys" ? (issue.keys[0] ?? null) : issue?.path.map(String).join(".") || null;
      const message =
        issue?.code === "unrecognized_keys"
          ? `unknown field "${field ?? "?"}" in the call data (send {operation, input})`
          : `call data must be {operation, input}: ${field ? `${field}: ` : ""}${issue?.message ?? "invalid"}`;
      throw new AdminError("invalid-argument", message, { field });
    }
    return await runAdminOperation(deps, caller, envelope.data.operation, envelope.data.input ?? {});
  } catch (error) {
    throw toHttpsError(error);
  }
}

async function callableCaller(deps: AdminDeps, auth: CallableAuth | undefined): Promise<Caller> {
  if (!auth) throw new AdminError("unauthenticated", "sign in first: the admin callable needs a Firebase ID token");
  // The callable framework verifies the token but not revocation.
  return sessionCaller(deps.auth, auth.uid, auth.token, "callable");
}

/**
 * The caller behind a verified ID token, once its session is known to be current: one Auth lookup, then the
 * strict same-second revocation rule (domain/sessions.ts). Used by both the HTTP API and the callable.
 */
export async function sessionCaller(auth: AdminAuthPort, uid: string, token: Record<string, unknown>, via: "idToken" | "callable"): Promise<Caller> {
  const problem = sessionProblem(token, await auth.getUser(uid));
  if (problem === "revoked") throw new AdminError("unauthenticated", "this session was revoked; sign in again");
  if (problem) throw new AdminError("unauthenticated", "this account cannot use the admin API (unknown or disabled user)");
  return { uid, roles: staffRolesFromClaims(token), via };
}

export function toHttpsError(error: unknown): HttpsError {
  if (error instanceof HttpsError) return error;
  if (error instanceof AdminError) {
    const details: Record<string, unknown> = { code: error.code };
    if (error.detail.field !== undefined) details.field = error.detail.field;
    if (error.detail.allowedRoles) details.allowedRoles = [...error.detail.allowedRoles];
    if (error.detail.retryAfterSeconds !== undefined) details.retryAfterSeconds = error.detail.retryAfterSeconds;
    return new HttpsError(error.code, error.message, details);
  }
  return new HttpsError("internal", "internal error");
}

// ---- Composition root --------------------------------------------------------------------------------------

/** Firebase Auth behind AdminAuthPort. */
export function firebaseAdminAuth(): AdminAuthPort {
  ensureDefaultApp();
  const auth = getAuth();
  return {
    async getUser(uid) {
      try {
        const user = await auth.getUser(uid);
        const validAfter = user.tokensValidAfterTime ? Date.parse(user.tokensValidAfterTime) : NaN;
        const created = Date.parse(user.metadata.creationTime);
        return {
          claims: { ...(user.customClaims ?? {}) },
          tokensValidAfterMs: Number.isFinite(validAfter) ? validAfter : null,
          disabled: user.disabled,
          createdAtMs: Number.isFinite(created) ? created : null,
        };
      } catch (error) {
        const code = typeof error === "object" && error !== null && "code" in error ? (error as { code: unknown }).code : null;
        if (code === "auth/user-not-found") return null;
        throw error;
      }
    },
    setClaims: (uid, claims) => auth.setCustomUserClaims(uid, claims),
    revokeSessions: (uid) => auth.revokeRefreshTokens(uid),
  };
}

const deployedStripe: StripeReadPort = lazyStripeEvents(stripeApiConfig);

function readPorts(): { crm: CrmReadPort; claims: ClaimsReadPort } {
  const { crm, claims } = deployedReadPorts();
  return { crm, claims };
}

export function deployedAdminDeps(): AdminDeps & { corsOrigins: string[]; authFailures: AuthFailureGuard } {
  const cfg = adminConfig();
  return {
    authFailures: instanceAuthFailureGuard(cfg.authFailures),
    db: getDb(),
    auth: firebaseAdminAuth(),
    rateLimitPerMinute: cfg.rateLimitPerMinute,
    graceDays: cfg.graceDays,
    acceptLivemode: cfg.acceptLivemode,
    notices: noticeSettings(),
    // Built (and STRIPE_SECRET_KEY read) only when an operation calls Stripe.
    stripe: deployedStripe,
    // reconcile: HubSpot and Auth claims read sides, built on first use (HUBSPOT_TOKEN is bound to adminApi).
    ...readPorts(),
    corsOrigins: cfg.corsOrigins,
  };
}
