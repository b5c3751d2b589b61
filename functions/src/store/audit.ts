/**
 * The one writer of `auditLog` entries, and their one shape: who acted, what they did to which document, the state
 * before and after, and why (the cause: a Stripe event, a person, a job, a schedule). Every module that changes
 * something on someone's behalf writes its entry through here, inside the same transaction or batch as the change,
 * so an entry exists exactly when the change does.
 */
import type { DocumentReference, Firestore, Transaction, WriteBatch } from "firebase-admin/firestore";
import { COL } from "./paths.js";

export interface AuditActor {
  /** `user` (a signed-in person), `apiKey`, `cli` (the opsync CLI), `stripe` (an event), `auth` (a new Auth user), `system` (a job, a sweep, a schedule). */
  type: "user" | "apiKey" | "cli" | "stripe" | "auth" | "system";
  id: string;
  roles?: string[];
  via?: string;
  keyId?: string;
}

export interface AuditCause {
  type: string;
  id?: string;
}

export interface AuditEntry {
  actor: AuditActor;
  /** `<area>.<verb>`, e.g. `admin.retryJob`, `syncJob.dead`, `customer.updated`. */
  action: string;
  /** The document path the action changed, or null when it changed no single document. */
  target: string | null;
  before: unknown;
  after: unknown;
  cause: AuditCause;
  /** For actions a person asked for: whether it was done or refused. */
  outcome?: "applied" | "denied";
  /** Parameters of the action that are neither before nor after (a time range, a dry-run flag). */
  detail?: Record<string, unknown>;
  at: Date;
}

/** The stored document: absent before/after become null, optional keys appear only when set. */
export function auditDocument(entry: AuditEntry): Record<string, unknown> {
  return {
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    before: entry.before ?? null,
    after: entry.after ?? null,
    cause: entry.cause,
    ...(entry.outcome ? { outcome: entry.outcome } : {}),
    ...(entry.detail ? { detail: entry.detail } : {}),
    at: entry.at,
  };
}

/** A new entry's reference, for callers that must name it before writing (a job planned with the entry's id). */
export function newAuditRef(db: Firestore): DocumentReference {
  return db.collection(COL.auditLog).doc();
}

/** A named entry's reference (an id derived from what caused it makes a redelivered trigger write it once). */
export function auditRef(db: Firestore, id: string): DocumentReference {
  return db.collection(COL.auditLog).doc(id);
}

/** Writes the entry with the caller's transaction or batch, so it commits with the change it describes. */
export function auditIn(db: Firestore, writer: Transaction | WriteBatch, entry: AuditEntry, ref: DocumentReference = newAuditRef(db)): DocumentReference {
  (writer as Pick<WriteBatch, "set">).set(ref, auditDocument(entry));
  return ref;
}

/** Writes the entry on its own, for an action whose change was a single write already committed. */
export async function audit(db: Firestore, entry: AuditEntry, ref: DocumentReference = newAuditRef(db)): Promise<DocumentReference> {
  await ref.set(auditDocument(entry));
  return ref;
}

/** Adds what became known after the entry was written (e.g. the events a mapping released), by field path. */
export async function amendAudit(ref: DocumentReference, fields: Record<string, unknown>): Promise<void> {
  await ref.update(fields);
}
