/**
 * API keys after creation (createApiKey in adminHttp.ts makes them): list without secrets, revoke. A revoked key is
 * refused at once by the admin API (it reads `apiKeys/{keyId}` on every request); the document stays, so the audit
 * log's references keep resolving.
 */
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { ValidationError } from "../domain/errors.js";
import { STAFF_ROLES, type StaffRole } from "../domain/roles.js";
import { listApiKeyDocs, revokeApiKeyDoc, type RevokeOutcome } from "../store/apiKeys.js";
import { COL } from "../store/paths.js";

/** The id part of `opk_<keyId>_<secret>`. */
export const apiKeyIdSchema = z.string().regex(/^[0-9a-f]{16}$/, "key id must be 16 hex characters (the part after opk_)");

export interface ApiKeyInfo {
  keyId: string;
  role: StaffRole | null;
  label: string | null;
  createdBy: string | null;
  createdAt: Date | null;
  revoked: boolean;
  revokedAt: Date | null;
}

/** Every key, newest first: never the hash or salt. Small collection (a handful of keys per project). */
export async function listApiKeys(db: Firestore): Promise<ApiKeyInfo[]> {
  return (await listApiKeyDocs(db))
    .map(({ keyId, doc: k }) => {
      const role = STAFF_ROLES.find((r) => r === k.role) ?? null;
      return {
        keyId,
        role,
        label: typeof k.label === "string" ? k.label : null,
        createdBy: typeof k.createdBy === "string" ? k.createdBy : null,
        createdAt: k.createdAt instanceof Date ? k.createdAt : null,
        revoked: k.revoked === true,
        revokedAt: k.revokedAt instanceof Date ? k.revokedAt : null,
      };
    })
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
}

/** Marks `apiKeys/{keyId}` revoked with an `apiKey.revoke` audit entry, in one transaction. Revoking twice changes nothing. */
export async function revokeApiKey(db: Firestore, keyId: string, by: { type: "user" | "cli"; id: string }, now: Date = new Date()): Promise<RevokeOutcome> {
  const parsed = apiKeyIdSchema.safeParse(keyId);
  if (!parsed.success) throw new ValidationError(parsed.error.issues[0]?.message ?? "invalid key id", "keyId");
  return revokeApiKeyDoc(db, parsed.data, {
    by: by.id,
    now,
    audit: (stored) => ({
      actor: { type: by.type, id: by.id },
      action: "apiKey.revoke",
      target: `${COL.apiKeys}/${parsed.data}`,
      before: { revoked: false, role: stored.role ?? null, label: stored.label ?? null },
      after: { revoked: true },
      cause: { type: "manual" },
      at: now,
    }),
  });
}
