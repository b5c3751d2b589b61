/** Deployed entry point: a new Firebase Auth user gets a canonical customer record and a CRM contact job. */
import * as functionsV1 from "firebase-functions/v1";
import { getDb } from "../services/runtime.js";
import { ensureCustomerForUser } from "../services/support.js";

// Auth "user created" events exist only as 1st-gen triggers (2nd gen has blocking functions instead).
export const onUserCreated = functionsV1.auth.user().onCreate(async (user) => {
  await ensureCustomerForUser(getDb(), { uid: user.uid, email: user.email ?? null, displayName: user.displayName ?? null }, new Date());
});
