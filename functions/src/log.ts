/**
 * Named, structured log messages. Only ids, types and statuses are logged: never secrets, card data,
 * email addresses or payloads.
 */
import * as logger from "firebase-functions/logger";

type Fields = Record<string, string | number | boolean | null | string[]>;

// logger.error() turns a string message into an Error with a stack; write() keeps entries one line.
const entry = (severity: "INFO" | "WARNING" | "ERROR", message: string, fields: Fields) =>
  logger.write({ severity, message, ...fields });

export const log = {
  webhookRejected: (reason: string) => entry("WARNING", "stripe_webhook_rejected", { reason }),
  /** An Auth user whose uid cannot be a document id (id policy): no canonical record is made for it. */
  userSkipped: (problem: string) => entry("WARNING", "auth_user_skipped", { problem }),
  webhookWrongMode: (eventId: string, type: string, livemode: boolean) =>
    entry("ERROR", "stripe_webhook_wrong_mode", { eventId, type, livemode }),
  eventRecorded: (fields: { eventId: string; type: string; status: string; duplicate: boolean; attempts: number; reason: string | null }) =>
    entry(fields.status === "failed" || fields.status === "needs_review" ? "WARNING" : "INFO", "stripe_event_recorded", fields),
  eventFailed: (eventId: string, type: string, error: unknown) =>
    entry("ERROR", "stripe_event_failed", {
      eventId,
      type,
      error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : String(error).slice(0, 500),
    }),
  syncJobRun: (jobId: string, outcome: string) =>
    entry(outcome === "dead" ? "ERROR" : "INFO", "sync_job_run", { jobId, outcome }),
  /** A worker finished after its lease ended or was taken over: its result was not recorded. */
  syncJobDiscarded: (jobId: string) => entry("WARNING", "sync_job_result_discarded", { jobId, reason: "lease_lost" }),
  /** A vendor account's shared budget is held (a 429, or its rate-limit headers near the reserve): counts only. */
  vendorHold: (account: string, reason: string, until: Date) => entry("WARNING", "vendor_budget_hold", { account, reason, until: until.toISOString() }),
  sweep: (dispatched: number) => entry("INFO", "sync_sweep", { dispatched }),
  /** Incident ids only (they carry no personal data): signal alerts opened / closed, probes sent. */
  incidentSweep: (fields: { opened: string[]; closed: string[]; probed: string[]; rechecked: string[] }) =>
    entry(fields.opened.length ? "WARNING" : "INFO", "incident_sweep", { opened: fields.opened, closed: fields.closed, probed: fields.probed, rechecked: fields.rechecked }),
  automationResumed: (requeued: number) => entry("INFO", "automation_resumed", { requeued }),
  supportRequest: (requestId: string, status: string) => entry("INFO", "support_request", { requestId, status }),
  eventApplied: (fields: { eventId: string; status: string; duplicate: boolean; attempts: number; reason: string | null }) =>
    entry(fields.status === "failed" || fields.status === "needs_review" ? "WARNING" : "INFO", "stripe_event_applied", fields),
  /** A scheduled maintenance run (missed-event sweep, reconciliation): counts only, no personal data. */
  maintenanceRun: (name: "sweepStripeEvents" | "reconcileDaily", fields: Record<string, unknown>) => entry("INFO", "maintenance_run", { name, ...fields }),
  ledgerSwept: (fields: { applied: number; graceExpired: number }) => entry("INFO", "ledger_swept", fields),
  heldEventsReleased: (stripeCustomerId: string, statuses: string[]) =>
    entry("INFO", "held_events_released", { stripeCustomerId, count: statuses.length, statuses }),
  heldEventsReleasedForObject: (stripeObjectId: string, statuses: string[]) =>
    entry("INFO", "held_events_released", { stripeObjectId, count: statuses.length, statuses }),
  adminOperation: (fields: { operation: string; callerId: string; via: string; outcome: "applied" | "dry_run" | "read" | "unchanged" }) =>
    entry("INFO", "admin_operation", fields),
  adminRefused: (fields: { operation: string; callerId: string | null; via: string | null; code: string; field: string | null }) =>
    entry(fields.code === "permission-denied" || fields.code === "resource-exhausted" ? "WARNING" : "INFO", "admin_refused", fields),
  /** Buckets are hashed addresses and API key ids, never the address itself. */
  adminAuthLimited: (fields: { buckets: string[]; retryAfterSeconds: number }) => entry("WARNING", "admin_auth_limited", fields),
  adminFailed: (operation: string, error: unknown) =>
    entry("ERROR", "admin_failed", {
      operation,
      error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : String(error).slice(0, 500),
    }),
};
