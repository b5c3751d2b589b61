/** The callable transport of the admin API (adminCall): the Firebase session as the caller, errors as HttpsError. */
import { HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
import { AdminError } from "../domain/adminOps.js";
import { runAdminOperation } from "./admin.js";
import type { AdminDeps, AdminResult, Caller } from "./adminOps/types.js";
import { sessionCaller } from "./adminSession.js";

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
