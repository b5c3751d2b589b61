/**
 * The admin operations, as data: each one's input schema (strict: an unknown field is an error that names it),
 * the staff roles that may run it, and whether it is destructive (without `confirm: true` it answers a dry-run
 * summary and changes nothing). Also the typed error every admin entry point maps to its transport, the
 * fixed-window rate-limit decision, and the shaping of the customer summary. Pure: no I/O.
 */
import { z } from "zod";
import { consoleInputSchemas } from "./consoleOps.js";
import { OpsyncError, ValidationError } from "./errors.js";
import { idSchema, isUsableId, stripeIdSchema, type IdKind } from "./ids.js";
import { SINK_NAMES } from "./model.js";
import { MAINTENANCE_OPERATIONS, maintenanceInputSchemas } from "./adminMaintenance.js";
import { INCIDENT_OPERATIONS, incidentInputSchemas } from "./incidentOps.js";
import { STAFF_ROLES, hasAnyRole, type StaffRole } from "./roles.js";

// ---- Errors ------------------------------------------------------------------------------------------------

export const ADMIN_ERROR_CODES = [
  "unauthenticated",
  "permission-denied",
  "invalid-argument",
  "not-found",
  "resource-exhausted",
  "failed-precondition",
  "unavailable",
] as const;
export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number];

export interface AdminErrorDetail {
  /** The input field at fault (invalid-argument). */
  field?: string | null;
  /** The roles that may run the operation (permission-denied). */
  allowedRoles?: readonly StaffRole[];
  /** Seconds until the caller's rate-limit window resets (resource-exhausted). */
  retryAfterSeconds?: number;
}

/** An admin request that cannot be served; callers branch on `code`, never on the message. */
export class AdminError extends OpsyncError {
  constructor(
    readonly code: AdminErrorCode,
    message: string,
    readonly detail: AdminErrorDetail = {},
  ) {
    super(message);
  }
}

// ---- Input schemas -----------------------------------------------------------------------------------------

// Every input that becomes a document id goes through the one id policy (domain/ids.ts): a value Firestore would
// refuse (`__x__`, `a/b`, `..`, > 1,500 bytes) is a 400 naming the field, never an internal error.

const confirm = z.boolean({ error: "confirm must be true or false" }).optional();

/** The ids flagRefund accepts; exactly one is given. */
export const REFUND_TARGET_FIELDS = ["orderId", "chargeId", "paymentIntentId"] as const;
export type RefundTargetField = (typeof REFUND_TARGET_FIELDS)[number];

export const adminInputSchemas = {
  setRole: z.strictObject({
    uid: idSchema("uid", "app"),
    role: z.enum(STAFF_ROLES, { error: `role must be one of ${STAFF_ROLES.join(", ")}` }),
    enabled: z.boolean({ error: "enabled must be true or false" }),
    confirm,
  }),
  customerSummary: z.strictObject({ uid: idSchema("uid", "app") }),
  retryJob: z.strictObject({ jobId: idSchema("jobId", "document") }),
  setAutomation: z.strictObject({
    paused: z.boolean({ error: "paused must be true or false" }),
    reason: z.string({ error: "reason must be a string" }).max(500, "reason must be at most 500 characters").optional(),
    confirm,
  }),
  resumeSink: z.strictObject({
    sink: z.enum(SINK_NAMES, { error: `sink must be one of ${SINK_NAMES.join(", ")}` }),
    confirm,
  }),
  resolveReview: z.strictObject({
    stripeCustomerId: stripeIdSchema("stripeCustomerId", ["cus"]),
    uid: idSchema("uid", "app"),
    confirm,
  }),
  replayEvent: z.strictObject({
    eventId: stripeIdSchema("eventId", ["evt"]),
    confirm,
  }),
  flagRefund: z
    .strictObject({
      orderId: idSchema("orderId", "app").optional(),
      chargeId: stripeIdSchema("chargeId", ["ch", "py"]).optional(),
      paymentIntentId: stripeIdSchema("paymentIntentId", ["pi"]).optional(),
      reason: z
        .string({ error: "reason is required (why the refund is requested)" })
        .trim()
        .min(1, "reason must not be empty")
        .max(500, "reason must be at most 500 characters"),
      amount: z
        .number({ error: "amount must be a number (cents)" })
        .int("amount must be a whole number of cents")
        .positive("amount must be more than 0")
        .max(100_000_000, "amount must be at most 100000000 cents")
        .optional(),
    })
    .superRefine((input, ctx) => {
      const given = REFUND_TARGET_FIELDS.filter((f) => input[f] !== undefined);
      if (given.length === 1) return;
      ctx.addIssue({
        code: "custom",
        // Name the second id when there are two; none given names no single field.
        path: given.length > 1 ? [given[1] ?? "orderId"] : [],
        message: `exactly one of ${REFUND_TARGET_FIELDS.join(", ")} is required${given.length > 1 ? ` (got ${given.join(", ")})` : ""}`,
      });
    }),
  resolveFailedPayment: z.strictObject({
    uid: idSchema("uid", "app"),
    note: z.string({ error: "note must be a string" }).trim().min(1, "note must not be empty").max(1000, "note must be at most 1000 characters").optional(),
    confirm,
  }),
  ...maintenanceInputSchemas,
  // Incidents and follow-ups (domain/incidentOps.ts).
  ...incidentInputSchemas,
  // The console's reads (domain/consoleOps.ts).
  ...consoleInputSchemas,
};

export type AdminOperation = keyof typeof adminInputSchemas;
export type AdminInput<O extends AdminOperation> = z.infer<(typeof adminInputSchemas)[O]>;

export interface OperationSpec {
  /** Staff roles that may run it (an admin may run everything). */
  roles: readonly StaffRole[];
  /** Needs `confirm: true`; without it the answer is a dry run. */
  destructive: boolean;
  summary: string;
}

export const ADMIN_OPERATIONS: Record<AdminOperation, OperationSpec> = {
  setRole: { roles: ["admin"], destructive: true, summary: "Grant or remove a staff role (custom claim) on a Firebase user." },
  customerSummary: {
    roles: ["admin", "support", "finance"],
    destructive: false,
    summary: "One page about a customer: identity, billing, sync, open jobs, tickets, recent audit.",
  },
  retryJob: { roles: ["admin", "support"], destructive: false, summary: "Put a dead sync job back to pending." },
  setAutomation: { roles: ["admin"], destructive: true, summary: "Pause or resume every sink (the kill switch)." },
  resumeSink: {
    roles: ["admin"],
    destructive: true,
    summary: "Resume one sink paused because its vendor refused the credentials (401/403), once the credential is fixed.",
  },
  resolveReview: {
    roles: ["admin", "support"],
    destructive: true,
    summary: "Map a Stripe customer to a uid and apply the events held for it.",
  },
  replayEvent: {
    roles: ["admin"],
    destructive: true,
    summary: "Fetch an event from the Stripe API and run it through the webhook's path again (failed, held or never received).",
  },
  flagRefund: {
    roles: ["admin", "support"],
    destructive: false,
    summary: "Ask finance for a refund: opens (or updates) a refund_requested review item.",
  },
  resolveFailedPayment: {
    roles: ["admin", "support", "finance"],
    destructive: true,
    summary: "Show a customer's failed invoice (with its hosted link), retry their dead sync jobs, resync the CRM contact and note the ticket (with your note).",
  },
  ...MAINTENANCE_OPERATIONS,
  ...INCIDENT_OPERATIONS,
  opsStatus: { roles: ["admin", "support", "finance"], destructive: false, summary: "Health: kill switch, sinks, backlog, oldest job, alerts, 15-minute failures, last reconcile." },
  listQueue: { roles: ["admin", "support", "finance"], destructive: false, summary: "The caller's role queues (support, finance, admin), paginated; amounts for finance and admin only." },
  findCustomer: { roles: ["admin", "support", "finance"], destructive: false, summary: "A customer card by email, uid, Stripe customer id or HubSpot contact id (lookup, never merge)." },
};

export const ADMIN_OPERATION_NAMES = Object.keys(ADMIN_OPERATIONS) as AdminOperation[];

export function isAdminOperation(name: string): name is AdminOperation {
  return Object.prototype.hasOwnProperty.call(ADMIN_OPERATIONS, name);
}

export function mayRun(operation: AdminOperation, roles: readonly StaffRole[]): boolean {
  return hasAnyRole(roles, ADMIN_OPERATIONS[operation].roles);
}

/** True when the operation is destructive and the input does not carry `confirm: true`. */
export function isDryRun(operation: AdminOperation, input: { confirm?: boolean }): boolean {
  return ADMIN_OPERATIONS[operation].destructive && input.confirm !== true;
}

/** Validates an operation's input; a ValidationError names the offending field. */
export function parseAdminInput<O extends AdminOperation>(operation: O, raw: unknown): AdminInput<O> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ValidationError(`${operation}: input must be a JSON object`, null);
  }
  const schema = adminInputSchemas[operation] as unknown as z.ZodType<AdminInput<O>>;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw validationErrorFrom(operation, parsed.error);
}

function validationErrorFrom(operation: string, error: z.ZodError): ValidationError {
  const issue = error.issues[0];
  if (!issue) return new ValidationError(`${operation}: invalid input`, null);
  if (issue.code === "unrecognized_keys") {
    const [key] = issue.keys;
    const allowed = Object.keys(adminInputSchemas[operation as AdminOperation]?.shape ?? {}).join(", ");
    const prefix = issue.path.length ? `${issue.path.join(".")}.` : "";
    return new ValidationError(`${operation}: unknown field "${prefix}${key ?? "?"}" (allowed: ${allowed})`, `${prefix}${key ?? ""}`);
  }
  const field = issue.path.map(String).join(".") || null;
  return new ValidationError(`${operation}: ${field ? `${field}: ` : ""}${issue.message}`, field);
}

/** The document an operation is about, for audit entries (best effort on raw, possibly invalid, input). */
export function auditTarget(operation: AdminOperation, raw: unknown): string | null {
  // Only a value the id policy accepts is named: a hostile one must not end up in the audit log as a path.
  const get = (key: string, kind: IdKind): string | null => {
    if (!raw || typeof raw !== "object") return null;
    const value = (raw as Record<string, unknown>)[key];
    return isUsableId(value, kind) ? value : null;
  };
  switch (operation) {
    case "setRole": {
      const uid = get("uid", "app");
      return uid ? `users/${uid}` : null;
    }
    case "customerSummary":
    case "resolveFailedPayment": {
      const uid = get("uid", "app");
      return uid ? `customers/${uid}` : null;
    }
    case "retryJob": {
      const id = get("jobId", "document");
      return id ? `syncJobs/${id}` : null;
    }
    case "setAutomation":
      return "ops/automation";
    case "resumeSink": {
      const sink = raw && typeof raw === "object" ? (raw as Record<string, unknown>).sink : null;
      return typeof sink === "string" && (SINK_NAMES as readonly string[]).includes(sink) ? `sinkState/${sink}` : null;
    }
    case "resolveReview": {
      const id = get("stripeCustomerId", "stripe");
      return id ? `stripeCustomers/${id}` : null;
    }
    case "replayEvent": {
      const id = get("eventId", "stripe");
      return id ? `stripeEvents/${id}` : null;
    }
    case "backfill":
      return "ops/backfill";
    case "reconcile":
      return "ops/reconcile";
    case "sweepEvents":
      return "ops/eventSweep";
    case "replay": {
      const id = get("eventId", "stripe");
      const uid = get("uid", "app");
      return id ? `stripeEvents/${id}` : uid ? `customers/${uid}` : "stripeEvents";
    }
    case "ackIncident":
    case "resolveIncident": {
      const id = get("incidentId", "document");
      return id ? `alerts/${id}` : null;
    }
    case "resolveRefundRequest": {
      const id = get("requestId", "document");
      return id ? `reviewQueue/${id}` : null;
    }
    case "opsStatus":
    case "listQueue":
    case "findCustomer":
      // Reads; a findCustomer query may be an email, which stays out of the audit log.
      return null;
    case "flagRefund": {
      const id = get("orderId", "app") ?? get("chargeId", "stripe") ?? get("paymentIntentId", "stripe");
      return id ? `reviewQueue/${refundReviewId(id)}` : null;
    }
  }
}

/** `reviewQueue/refund_<id>`: one item per refund target, so flagging it again updates it. */
export function refundReviewId(targetId: string): string {
  return `refund_${targetId}`;
}

// ---- Rate limit (fixed one-minute window) ------------------------------------------------------------------

export const RATE_WINDOW_MS = 60_000;

export interface RateWindow {
  windowStartMs: number;
  count: number;
}

export type RateDecision = { allowed: true; next: RateWindow } | { allowed: false; retryAfterSeconds: number };

export function rateLimitDecision(current: RateWindow | null, limit: number, nowMs: number): RateDecision {
  const windowStartMs = Math.floor(nowMs / RATE_WINDOW_MS) * RATE_WINDOW_MS;
  const count = current && current.windowStartMs === windowStartMs ? current.count : 0;
  if (count >= limit) {
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((windowStartMs + RATE_WINDOW_MS - nowMs) / 1000)) };
  }
  return { allowed: true, next: { windowStartMs, count: count + 1 } };
}

// ---- Customer summary --------------------------------------------------------------------------------------

/** Job statuses a person may still have to act on (or wait for). */
export const OPEN_JOB_STATUSES = ["pending", "running", "retrying", "dead", "paused"] as const;

/** Roles that see `customers/{uid}/private/billing`. */
export const BILLING_READER_ROLES: readonly StaffRole[] = ["admin", "finance"];

/** Roles that see `customers/{uid}/staff/notes` (internalNotes, ticket follow-up notes), as firestore.rules. */
export const STAFF_NOTES_READER_ROLES: readonly StaffRole[] = ["admin", "support"];

/** Dates become ISO strings, so the answer is the same over HTTP (JSON) and the callable encoder. */
export function jsonSafe(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value === undefined ? null : value;
}

type Doc = Record<string, unknown>;

export interface CustomerSummaryInput {
  uid: string;
  customer: Doc;
  /** customers/{uid}/private/billing, or null when absent. */
  billing: Doc | null;
  /** customers/{uid}/staff/notes, or null when absent or not read (the caller is no notes reader). */
  staffNotes: Doc | null;
  jobs: Doc[];
  audit: Doc[];
}

const pick = (doc: Doc | null, keys: readonly string[]): Doc =>
  Object.fromEntries(keys.map((k) => [k, doc?.[k] ?? null]));

const time = (v: unknown): number => (v instanceof Date ? v.getTime() : 0);

export function shapeCustomerSummary(input: CustomerSummaryInput, roles: readonly StaffRole[]): Record<string, unknown> {
  const c = input.customer;
  const tickets = c.tickets && typeof c.tickets === "object" ? (c.tickets as Record<string, Doc>) : {};
  const readsNotes = hasAnyRole(roles, STAFF_NOTES_READER_ROLES);
  const notes = input.staffNotes;
  const ticketNotes = notes?.tickets && typeof notes.tickets === "object" ? (notes.tickets as Record<string, Doc>) : {};
  const notesOf = (requestId: string): unknown[] => {
    const n = ticketNotes[requestId]?.notes;
    return Array.isArray(n) ? n : [];
  };
  const summary: Record<string, unknown> = {
    uid: input.uid,
    identity: { ...pick(c, ["email", "name", "stripeCustomerId", "crmContactId"]), uid: input.uid },
    billing: {
      ...pick(c, ["plan", "subscriptionStatus", "currentPeriodEnd", "cancelAtPeriodEnd", "delinquent", "lastPaymentAt", "supportTier"]),
      entitlements: Array.isArray(c.entitlements) ? c.entitlements : [],
    },
    sync: c.sync ?? {},
    openJobs: [...input.jobs]
      .sort((a, b) => time(a.createdAt) - time(b.createdAt))
      .map((j) => pick(j, ["jobId", "kind", "status", "attempts", "nextAttemptAt", "deadReason", "lastError", "createdAt", "updatedAt"])),
    tickets: Object.entries(tickets)
      .map(([requestId, t]): Doc => ({ requestId, ...pick(t, ["ticketId", "helpdesk", "subject", "at"]), ...(readsNotes ? { notes: notesOf(requestId) } : {}) }))
      .sort((a, b) => time(b.at) - time(a.at)),
    recentAudit: input.audit.map((a) => pick(a, ["action", "actor", "before", "after", "at"])),
  };
  if (readsNotes) summary.staffNotes = pick(notes, ["internalNotes", "lastEditedBy"]);
  if (hasAnyRole(roles, BILLING_READER_ROLES)) {
    summary.privateBilling = input.billing ? pick(input.billing, ["lastPaymentFailure", "actionRequired", "invoices"]) : null;
  }
  return jsonSafe(summary) as Record<string, unknown>;
}

// ---- Failed payment ----------------------------------------------------------------------------------------

/** Roles that see the amounts of a failed invoice (support sees its id, status and attempts only). */
export const AMOUNT_READER_ROLES: readonly StaffRole[] = ["admin", "finance"];

/**
 * The failed payment of `customers/{uid}/private/billing`: `lastPaymentFailure` plus that invoice's summary.
 * Amounts only for AMOUNT_READER_ROLES; the hosted invoice link for every role (support sends it to the customer).
 * null when nothing failed.
 */
export function shapeFailedPayment(billing: Doc | null, roles: readonly StaffRole[]): Record<string, unknown> | null {
  const failure = billing?.lastPaymentFailure;
  if (!failure || typeof failure !== "object") return null;
  const f = failure as Doc;
  const invoiceId = typeof f.invoiceId === "string" ? f.invoiceId : null;
  const invoices = billing?.invoices && typeof billing.invoices === "object" ? (billing.invoices as Record<string, Doc>) : {};
  const invoice = invoiceId ? (invoices[invoiceId] ?? null) : null;
  const seesAmounts = hasAnyRole(roles, AMOUNT_READER_ROLES);
  const shaped = {
    invoiceId,
    paymentIntentId: f.paymentIntentId ?? null,
    code: f.code ?? null,
    failedAt: f.at ?? null,
    invoice: invoice
      ? {
          invoiceId,
          // The hosted invoice page is where the customer pays: support sends it on (it shows the amount to the
          // customer, but the amount fields themselves stay finance's).
          ...pick(invoice, ["status", "attemptCount", "nextPaymentAttempt", "hostedInvoiceUrl"]),
          ...(seesAmounts ? pick(invoice, ["amountDue", "amountPaid", "currency", "number"]) : {}),
        }
      : null,
  };
  return jsonSafe(shaped) as Record<string, unknown>;
}

/**
 * The key of the failed-renewal ticket opsync opens for an invoice (`customers/{uid}.tickets.<key>`; its staff
 * follow-up notes are under the same key in `customers/{uid}/staff/notes.tickets`).
 */
export function failedRenewalTicketKey(invoiceId: string): string {
  return `failed-renewal:${invoiceId}`;
}
