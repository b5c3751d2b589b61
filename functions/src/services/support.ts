/**
 * Support requests and new users: the canonical record and the follow-up jobs, written once however often the
 * trigger fires (the request's `status` / the customer's existence is checked inside the transaction).
 */
import { FieldValue, type Firestore, type Transaction } from "firebase-admin/firestore";
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
  type OrderParties,
} from "../domain/supportRequests.js";
import { auditIn, auditRef } from "../store/audit.js";
import { fromFirestore } from "../store/db.js";
import { newJobDoc } from "../store/jobs.js";
import { planJobs } from "../store/liveJobs.js";
import { COL, staffNotesPath } from "../store/paths.js";

export type SupportOutcome = { status: "received"; jobId: string } | { status: "rejected"; reason: string } | { status: "already_handled" };

export async function handleSupportRequest(db: Firestore, requestId: string, now: Date): Promise<SupportOutcome> {
  const ref = db.collection(COL.supportRequests).doc(requestId);
  const pre = await ref.get();
  if (!pre.exists) return { status: "already_handled" };
  const uid = pre.get("uid");
  // The rate-limit count is read before the transaction (queries in transactions lock ranges); the status
  // check inside the transaction still makes a second firing a no-op.
  const recent =
    typeof uid === "string" && uid
      ? (await db.collection(COL.supportRequests).where("uid", "==", uid).where("createdAt", ">", new Date(now.getTime() - SUPPORT_RATE_LIMIT.windowMs)).get()).docs.filter(
          (d) => d.id !== requestId && d.get("status") !== "rejected",
        ).length
      : 0;
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists || snap.get("status")) return { status: "already_handled" } as const;
    const raw = { ...snap.data() };
    const parsed = supportRequestSchema.safeParse(raw);
    // Only an order id that passed the id policy is read; the read is in the transaction so the check and the
    // planned job see the same order.
    const orderId = parsed.success ? parsed.data.orderId : undefined;
    const order = orderId ? await tx.get(db.collection(COL.orders).doc(orderId)) : null;
    const parties: OrderParties | null = order?.exists ? { buyerUid: order.get("buyerUid") ?? null, sellerUid: order.get("sellerUid") ?? null } : null;
    const reason = !parsed.success
      ? describeSupportRequestProblem(parsed.error)
      : orderId && !isOrderParty(parties, parsed.data.uid)
        ? foreignOrderReason()
        : rateLimitReason(recent);
    if (!parsed.success || reason) {
      tx.update(ref, { status: "rejected", reason: reason ?? "the request is not valid", updatedAt: now });
      return { status: "rejected", reason: reason ?? "the request is not valid" } as const;
    }
    const spec: JobSpec = {
      kind: "helpdesk.ticket.create",
      target: { uid: parsed.data.uid, supportRequestId: requestId, ...(parsed.data.orderId ? { orderId: parsed.data.orderId } : {}) },
      idempotencyKey: `support:${requestId}`,
      reason: "support_request",
    };
    const id = jobId(`support_${requestId}`, spec);
    tx.set(db.collection(COL.syncJobs).doc(id), newJobDoc(id, spec, { type: "supportRequest", jobId: requestId }, now));
    tx.update(ref, { status: "received", jobId: id, updatedAt: now });
    auditIn(db, tx, {
      actor: { type: "user", id: parsed.data.uid },
      action: "supportRequest.received",
      target: `${COL.supportRequests}/${requestId}`,
      before: null,
      after: { status: "received", category: parsed.data.category },
      cause: { type: "supportRequest", id: requestId },
      at: now,
    });
    return { status: "received", jobId: id } as const;
  });
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
  const ref = db.collection(COL.customers).doc(user.uid);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (snap.exists) return false;
    const spec: JobSpec = { kind: "crm.contact.upsert", target: { uid: user.uid }, idempotencyKey: `contact:${user.uid}`, reason: "new user" };
    // The customer's one live contact job (domain/coalesce.ts): an event planned for this uid meanwhile folds into it.
    const planned = await planJobs(db, tx, [spec], `user_${user.uid}`, { type: "authUser", jobId: user.uid }, now);
    const id = planned.ids[0] ?? "";
    const customer: CustomerDoc = {
      ...newCustomer(user.uid, now),
      email: user.email,
      name: user.displayName,
      sync: { crm: { status: "pending", jobId: id, at: now } },
    };
    tx.set(ref, customer);
    planned.write();
    auditIn(db, tx, {
      actor: { type: "auth", id: user.uid },
      action: "customer.create",
      target: `${COL.customers}/${user.uid}`,
      before: null,
      after: { uid: user.uid, email: user.email },
      cause: { type: "authUserCreated", id: user.uid },
      at: now,
    });
    return true;
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
 * burst of events adds at most one more upsert. Reads (the live job) first: call before any other write of `tx`.
 */
async function recordStaffEdit(
  db: Firestore,
  tx: Transaction,
  edit: { uid: string; eventId: string; path: string; changed: string[]; before: Record<string, unknown>; after: Record<string, unknown>; now: Date },
): Promise<void> {
  const { uid, changed, before, after, now } = edit;
  const editor = typeof after.lastEditedBy === "string" ? after.lastEditedBy : "unknown";
  const editId = `edit_${edit.eventId}`;
  const spec: JobSpec = { kind: "crm.contact.upsert", target: { uid }, idempotencyKey: `contact:${uid}`, reason: `staff edit: ${changed.join(", ")}` };
  const planned = await planJobs(db, tx, [spec], editId, { type: "staffEdit", jobId: editId }, now);
  planned.write();
  auditIn(db, tx, {
    actor: { type: "user", id: editor },
    action: "customer.staff_edit",
    target: edit.path,
    before: Object.fromEntries(changed.map((f) => [f, before[f] ?? null])),
    after: Object.fromEntries(changed.map((f) => [f, after[f] ?? null])),
    cause: { type: "staffEdit" },
    at: now,
  }, auditRef(db, editId.replace(/[/\s]/g, "_")));
}

/** A staff edit of `customers/{uid}.supportTier` (the customer's own tier) is resynced to the CRM and audited. */
export async function handleCustomerEdit(
  db: Firestore,
  uid: string,
  /** The trigger event's id: a second firing of the same event writes the same documents. */
  eventId: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  now: Date,
): Promise<boolean> {
  const path = `${COL.customers}/${uid}`;
  const changed = staffChanges(["supportTier"], before, after);
  if (!changed.length) return false;
  await db.runTransaction(async (tx) => {
    await recordStaffEdit(db, tx, { uid, eventId, path, changed, before, after, now });
    // Keep the person's choice when later plan changes recompute the tier. The editor's uid is in the audit entry
    // now; it is staff data, so it does not stay on the record the customer reads. (This write leaves supportTier
    // as it is, so it is no further edit.)
    tx.set(db.collection(COL.customers).doc(uid), { supportTierSource: "staff", lastEditedBy: FieldValue.delete() }, { merge: true });
  });
  return true;
}

/**
 * A staff edit of `customers/{uid}/staff/notes.internalNotes` is audited and resynced like a tier edit. The
 * audit entry targets the notes document: it quotes the notes, and `auditLog` is admin-only.
 */
export async function handleStaffNotesEdit(
  db: Firestore,
  uid: string,
  eventId: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  now: Date,
): Promise<boolean> {
  const path = staffNotesPath(uid);
  const changed = staffChanges(["internalNotes"], before, after);
  if (!changed.length) return false;
  await db.runTransaction((tx) => recordStaffEdit(db, tx, { uid, eventId, path, changed, before, after, now }));
  return true;
}
