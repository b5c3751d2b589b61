/** Deployed entry point: the admin operations as a callable (`data = {operation, input}`, docs/admin-api.md). */
import { onCall } from "firebase-functions/v2/https";
import { adminCorsOriginList, stripeSecretKey } from "../config.js";
import { deployedAdminDeps, handleAdminCall } from "../services/admin.js";

// STRIPE_SECRET_KEY: replayEvent fetches the event from the Stripe API.
export const adminCall = onCall({ cors: adminCorsOriginList, concurrency: 40, timeoutSeconds: 60, memory: "256MiB", secrets: [stripeSecretKey] }, (request) =>
  handleAdminCall(deployedAdminDeps(), { auth: request.auth ? { uid: request.auth.uid, token: request.auth.token } : undefined, data: request.data }),
);
