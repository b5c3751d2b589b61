/**
 * `apiKeys/{keyId}`: the stored key (salted hash, role, label) and its life — created with an `apiKey.create` audit
 * entry, revoked (never deleted, so the audit log's references keep resolving) with an `apiKey.revoke` entry.
 * Hashing, roles and what a revoked key means are the services' (services/adminHttp.ts, services/apiKeys.ts).
 */
import type { Firestore } from "firebase-admin/firestore";
import { auditIn, type AuditEntry } from "./audit.js";
import { fromFirestore, readDoc } from "./db.js";
import { COL } from "./paths.js";

type Doc = Record<string, unknown>;

/** Every stored key with its id (a handful per project, so no paging). */
export async function listApiKeyDocs(db: Firestore): Promise<{ keyId: string; doc: Doc }[]> {
  const snap = await db.collection(COL.apiKeys).get();
  return snap.docs.map((d) => ({ keyId: d.id, doc: fromFirestore<Doc>(d.data()) }));
}

/** One stored key, or null. */
export const readApiKey = (db: Firestore, keyId: string): Promise<Doc | null> => readDoc(db, `${COL.apiKeys}/${keyId}`);

/** Creates the key document (fails if the id exists) and its audit entry in one batch. */
export async function createApiKeyDoc(db: Firestore, keyId: string, doc: Doc, entry: AuditEntry): Promise<void> {
  const batch = db.batch();
  batch.create(db.collection(COL.apiKeys).doc(keyId), doc);
  auditIn(db, batch, entry);
  await batch.commit();
}

export type RevokeOutcome = "revoked" | "already_revoked" | "not_found";

/** Marks the key revoked with the audit entry `entry(stored)` builds, in one transaction; twice changes nothing. */
export async function revokeApiKeyDoc(
  db: Firestore,
  keyId: string,
  revoke: { by: string; now: Date; audit: (stored: Doc) => AuditEntry },
): Promise<RevokeOutcome> {
  const ref = db.collection(COL.apiKeys).doc(keyId);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) return "not_found";
    if (snap.get("revoked") === true) return "already_revoked";
    tx.update(ref, { revoked: true, revokedAt: revoke.now, revokedBy: revoke.by });
    auditIn(db, tx, revoke.audit(fromFirestore<Doc>(snap.data())));
    return "revoked";
  });
}
