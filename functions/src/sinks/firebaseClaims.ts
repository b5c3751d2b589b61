/**
 * Claims sink: Firebase Auth custom claims. opsync owns `entitlements`, `plan` and `supportTier`; every other
 * claim (staff roles, claims other code sets) is read and kept.
 */
import type { Auth } from "firebase-admin/auth";
import { PermanentError, TransientError } from "../domain/errors.js";
import { READ_BATCH, type ClaimsPort, type ClaimsReadPort } from "./ports.js";

/** Firebase rejects custom claims over 1000 bytes of JSON. */
const MAX_CLAIMS_BYTES = 1000;

function authCode(error: unknown): string | null {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : null;
  }
  return null;
}

export class FirebaseAuthClaims implements ClaimsPort, ClaimsReadPort {
  constructor(private readonly auth: () => Auth) {}

  /** One getUsers call per 100 uids; a uid Auth does not have maps to null. */
  async readClaims(uids: string[]): Promise<Map<string, Record<string, unknown> | null>> {
    if (uids.length > READ_BATCH) throw new PermanentError(`claims read takes at most ${READ_BATCH} uids per call`);
    const out = new Map<string, Record<string, unknown> | null>(uids.map((uid) => [uid, null]));
    if (uids.length === 0) return out;
    try {
      const result = await this.auth().getUsers(uids.map((uid) => ({ uid })));
      for (const user of result.users) out.set(user.uid, { ...(user.customClaims ?? {}) });
    } catch (error) {
      throw new TransientError(`claims read: ${authCode(error) ?? (error instanceof Error ? error.message : String(error))}`);
    }
    return out;
  }

  async setClaims(uid: string, owned: { entitlements: string[]; plan: string | null; supportTier: string }): Promise<void> {
    try {
      const user = await this.auth().getUser(uid);
      const merged = { ...(user.customClaims ?? {}), entitlements: owned.entitlements, plan: owned.plan, supportTier: owned.supportTier };
      if (JSON.stringify(merged).length > MAX_CLAIMS_BYTES) {
        throw new PermanentError(`custom claims for ${uid} would exceed ${MAX_CLAIMS_BYTES} bytes`);
      }
      await this.auth().setCustomUserClaims(uid, merged);
    } catch (error) {
      if (error instanceof PermanentError) throw error;
      const code = authCode(error);
      if (code === "auth/user-not-found" || code === "auth/invalid-uid" || code === "auth/claims-too-large") {
        throw new PermanentError(`claims for ${uid}: ${code}`);
      }
      throw new TransientError(`claims for ${uid}: ${code ?? (error instanceof Error ? error.message : String(error))}`);
    }
  }
}
