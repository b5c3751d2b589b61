/**
 * The admin operations, one implementation behind both the HTTP API (adminHttp.ts) and the callable: rate limit
 * per caller, role check (denied attempts are audited), strict input validation, then the operation. Every
 * operation that changes something writes an `admin.<operation>` audit entry naming the caller, their roles and
 * how they authenticated. Destructive operations answer a dry run unless the input says `confirm: true`.
 */
import { ADMIN_OPERATION_NAMES, ADMIN_OPERATIONS, AdminError, auditTarget, isAdminOperation, mayRun, parseAdminInput, RATE_WINDOW_MS, rateLimitDecision, type AdminInput, type AdminOperation } from "../domain/adminOps.js";
import { ValidationError } from "../domain/errors.js";
import { log } from "../log.js";

import { ackIncidentOp } from "./adminOps/ackIncident.js";
import { auditEntry } from "./adminOps/audit.js";
import { backfillOp } from "./adminOps/backfill.js";
import { findCustomer } from "./adminOps/findCustomer.js";
import { listQueue } from "./adminOps/listQueue.js";
import { opsStatus } from "./adminOps/opsStatus.js";
import { reconcileOp } from "./adminOps/reconcile.js";
import { replayOp } from "./adminOps/replay.js";
import { resolveFailedPaymentOp } from "./adminOps/resolveFailedPayment.js";
import { resolveIncidentOp } from "./adminOps/resolveIncident.js";
import { resolveRefundRequestOp } from "./adminOps/resolveRefundRequest.js";
import { sweepEventsOp } from "./adminOps/sweepEvents.js";
import { customerSummary } from "./adminOps/customerSummary.js";
import { flagRefund } from "./adminOps/flagRefund.js";
import { replayEvent } from "./adminOps/replayEvent.js";
import { resolveReview } from "./adminOps/resolveReview.js";
import { resumeSink } from "./adminOps/resumeSink.js";
import { retryJob } from "./adminOps/retryJob.js";
import { setAutomation } from "./adminOps/setAutomation.js";
import { setRole } from "./adminOps/setRole.js";
import type { AdminDeps, AdminResult, Caller, Ctx, Handler } from "./adminOps/types.js";
import { audit } from "../store/audit.js";
import { takeFromWindow } from "../store/rateLimits.js";

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
      await audit(deps.db, 
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
  const decision = await takeFromWindow(deps.db, key, RATE_WINDOW_MS, (current) => rateLimitDecision(current, deps.rateLimitPerMinute, now.getTime()));
  if (!decision.allowed) {
    throw new AdminError(
      "resource-exhausted",
      `rate limit of ${deps.rateLimitPerMinute} admin calls per minute reached; retry in ${decision.retryAfterSeconds} s`,
      { retryAfterSeconds: decision.retryAfterSeconds },
    );
  }
}

// ---- Operations: one file each under adminOps/ -------------------------------------------------------------

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

