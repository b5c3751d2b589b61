/** Deployed entry point (callable): a seller or an admin moves an order to in_fulfillment or completed. */
import { HttpsError, onCall } from "firebase-functions/v2/https";
import { z } from "zod";
import { idSchema } from "../domain/ids.js";
import { staffRolesFromClaims } from "../domain/roles.js";
import { getDb } from "../services/runtime.js";
import { fulfillOrder as fulfill } from "../services/orderFulfillment.js";

const input = z.object({ orderId: idSchema("orderId", "app"), status: z.enum(["in_fulfillment", "completed"]) }).strict();

export const fulfillOrder = onCall(async (request) => {
  if (!request.auth) throw new HttpsError("unauthenticated", "sign in to fulfill an order");
  const parsed = input.safeParse(request.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : (issue?.path.join(".") ?? "input");
    throw new HttpsError("invalid-argument", `${field}: ${issue?.message ?? "invalid"}`);
  }
  const result = await fulfill(getDb(), parsed.data, { uid: request.auth.uid, roles: staffRolesFromClaims(request.auth.token) }, new Date());
  if (result.ok) return result;
  const code = result.code === "not_found" ? "not-found" : result.code === "permission_denied" ? "permission-denied" : "failed-precondition";
  throw new HttpsError(code, result.reason);
});
