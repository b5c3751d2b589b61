/**
 * Support requests and new users: the canonical record and the follow-up jobs, written once however often the
 * trigger fires (the request's `status` / the customer's existence is checked inside the transaction).
 */
import type { Firestore } from "firebase-admin/firestore";
import { newCustomer } from "../domain/apply.js";
import { idProblem } from "../domain/ids.js";
import { log } from "../log.js";
import { jobId } from "../domain/jobIds.js";
import type { CustomerDoc, JobSpec } from "../domain/model.js";
import {
  describeSupportRequestProblem,
  foreignOrderReason,
  isOrderParty,
  rateLimitReason,
  SUPPORT_RATE_LIMIT,
  supportRequestSchema,
} from "../domain/supportRequests.js";
import { createCustomerOnce, recordStaffEdit } from "../store/customerEdits.js";
import { fromFirestore } from "../store/db.js";
import { COL, staffNotesPath } from "../store/paths.js";
import { readSupportRequest, recentSupportRequests, settleSupportRequest, type SupportSettlement } from "../store/supportRequests.js";

export type SupportOutcome = { status: "received"; jobId: string } | { status: "rejected"; reason: string } | { status: "already_handled" };

export async function handleSupportRequest(db: Firestore, requestId: string, now: Date): Promise<SupportOutcome> {
  const pre = await readSupportRequest(db, requestId);
  if (!pre) return { status: "already_handled" };
  const uid = pre.uid;
  // The rate-limit count is read before the transaction (queries in transactions lock ranges); the status
  // check inside the transaction still makes a second firing a no-op.
  const recent =
    typeof uid === "string" && uid
      ? (await recentSupportRequests(db, uid, new Date(now.getTime() - SUPPORT_RATE_LIMIT.windowMs))).filter((r) => r.id !== requestId && r.status !== "rejected").length
      : 0;
  const settled = await settleSupportRequest(db, requestId, now, async (raw, orderParties): Promise<SupportSettlement> => {
    const parsed = supportRequestSchema.safeParse(raw);
    // Only an order id that passed the id policy is read.
    const orderId = parsed.success ? parsed.data.orderId : undefined;
    const parties = orderId ? await orderParties(orderId) : null;
    const reason = !parsed.success
      ? describeSupportRequestProblem(parsed.error)
      : orderId && !isOrderParty(parties, parsed.data.uid)
        ? foreignOrderReason()
        : rateLimitReason(recent);
    if (!parsed.success || reason) return { status: "rejected", reason: reason ?? "the request is not valid" };
    const spec: JobSpec = {
      kind: "helpdesk.ticket.create",
      target: { uid: parsed.data.uid, supportRequestId: requestId, ...(parsed.data.orderId ? { orderId: parsed.data.orderId } : {}) },
      idempotencyKey: `support:${requestId}`,
      reason: "support_request",
    };
    return {
      status: "received",
      job: { id: jobId(`support_${requestId}`, spec), spec, cause: { type: "supportRequest", jobId: requestId } },
      audit: {
        actor: { type: "user", id: parsed.data.uid },
        action: "supportRequest.received",
        target: `${COL.supportRequests}/${requestId}`,
        before: null,
        after: { status: "received", category: parsed.data.category },
        cause: { type: "supportRequest", id: requestId },
        at: now,
      },
    };
  });
  if (!settled) return { status: "already_handled" };
  return settled.status === "rejected" ? settled : { status: "received", jobId: settled.job.id };
}

/** A new Firebase Auth user gets its canonical record (once) and a CRM contact job. */
export async function ensureCustomerForUser(
  db: Firestore,
  user: { uid: string; email: string | null; displayName: string | null },
  now: Date,
): Promise<boolean> {
  // An Auth uid is not checked for path characters by Auth itself; never let one choose a path.
  const problem = idProblem(user.uid, "app");
  if (problem) {
    log.userSkipped(`uid ${problem}`);
    return false;
  }
  const spec: JobSpec = { kind: "crm.contact.upsert", target: { uid: user.uid }, idempotencyKey: `contact:${user.uid}`, reason: "new user" };
  return createCustomerOnce(db, user.uid, {
    // The customer's one live contact job (domain/coalesce.ts): an event planned for this uid meanwhile folds into it.
    job: { spec, causeKey: `user_${user.uid}`, cause: { type: "authUser", jobId: user.uid } },
    record: (id): CustomerDoc => ({
      ...newCustomer(user.uid, now),
      email: user.email,
      name: user.displayName,
      sync: { crm: { status: "pending", jobId: id, at: now } },
    }),
    audit: {
      actor: { type: "auth", id: user.uid },
      action: "customer.create",
      target: `${COL.customers}/${user.uid}`,
      before: null,
      after: { uid: user.uid, email: user.email },
      cause: { type: "authUserCreated", id: user.uid },
      at: now,
    },
    now,
  });
}

/**
 * Which of the staff-editable `fields` a person changed, or [] for a server write. Server writes always move
 * `updatedAt`; an edit that changes these fields without moving it came from a person (the rules forbid staff to
 * touch it).
 */
function staffChanges(fields: readonly string[], before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const changed = fields.filter((f) => JSON.stringify(before[f] ?? null) !== JSON.stringify(after[f] ?? null));
  const b = fromFirestore<{ updatedAt?: Date }>(before);
  const a = fromFirestore<{ updatedAt?: Date }>(after);
  const serverWrite = b.updatedAt?.getTime() !== a.updatedAt?.getTime();
  return serverWrite ? [] : changed;
}

/**
 * Audits a staff edit and plans a CRM contact resync through the customer's live contact job, so an edit during a
 * burst of events adds at most one more upsert.
 */
async function auditStaffEdit(
  db: Firestore,
  edit: { uid: string; eventId: string; path: string; changed: string[]; before: Record<string, unknown>; after: Record<string, unknown>; now: Date },
  keepStaffTier: boolean,
): Promise<void> {
  const { uid, changed, before, after, now } = edit;
  const editor = typeof after.lastEditedBy === "string" ? after.lastEditedBy : "unknown";
  const editId = `edit_${edit.eventId}`;
  const spec: JobSpec = { kind: "crm.contact.upsert", target: { uid }, idempotencyKey: `contact:${uid}`, reason: `staff edit: ${changed.join(", ")}` };
  await recordStaffEdit(db, {
    uid,
    job: { spec, causeKey: editId, cause: { type: "staffEdit", jobId: editId } },
    audit: {
      actor: { type: "user", id: editor },
      action: "customer.staff_edit",
      target: edit.path,
      before: Object.fromEntries(changed.map((f) => [f, before[f] ?? null])),
      after: Object.fromEntries(changed.map((f) => [f, after[f] ?? null])),
      cause: { type: "staffEdit" },
      at: now,
    },
    auditId: editId.replace(/[/\s]/g, "_"),
    keepStaffTier,
    now,
  });
}

/** Audits (and resyncs) a staff edit of `fields` on `path`; false when none of them changed. */
async function staffEdit(
  db: Firestore,
  edit: { uid: string; eventId: string; path: string; fields: string[]; before: Record<string, unknown>; after: Record<string, unknown>; now: Date },
  keepStaffTier: boolean,
): Promise<boolean> {
  const changed = staffChanges(edit.fields, edit.before, edit.after);
  if (!changed.length) return false;
  const { uid, eventId, path, before, after, now } = edit;
  await auditStaffEdit(db, { uid, eventId, path, changed, before, after, now }, keepStaffTier);
  return true;
}

/** A staff edit of `customers/{uid}.supportTier` (the customer's own tier) is resynced to the CRM and audited. */
export function handleCustomerEdit(
  db: Firestore,
  uid: string,
  /** The trigger event's id: a second firing of the same event writes the same documents. */
  eventId: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  now: Date,
): Promise<boolean> {
  // Keep the person's choice when later plan changes recompute the tier; the editor's uid moves to the audit entry.
  return staffEdit(db, { uid, eventId, path: `${COL.customers}/${uid}`, fields: ["supportTier"], before, after, now }, true);
}

/**
 * A staff edit of `customers/{uid}/staff/notes.internalNotes` is audited and resynced like a tier edit. The
 * audit entry targets the notes document: it quotes the notes, and `auditLog` is admin-only.
 */
export function handleStaffNotesEdit(
  db: Firestore,
  uid: string,
  eventId: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  now: Date,
): Promise<boolean> {
  return staffEdit(db, { uid, eventId, path: staffNotesPath(uid), fields: ["internalNotes"], before, after, now }, false);
}
