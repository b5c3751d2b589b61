/** Deployed entry point: the admin operations as a callable (`data = {operation, input}`, docs/admin-api.md). */
import { onCall } from "firebase-functions/v2/https";
import { adminCorsOriginList } from "../config/admin.js";
import { stripeSecretKey } from "../config/stripeApi.js";
import { hubspotToken } from "../config/sync.js";
import { handleAdminCall } from "../services/adminCallable.js";
import { deployedAdminDeps } from "../services/adminDeps.js";

// STRIPE_SECRET_KEY: replayEvent, backfill, sweepEvents and reconcile read the Stripe API; HUBSPOT_TOKEN: reconcile reads HubSpot.
export const adminCall = onCall({ cors: adminCorsOriginList, concurrency: 40, timeoutSeconds: 540, memory: "256MiB", secrets: [stripeSecretKey, hubspotToken] }, (request) =>
  handleAdminCall(deployedAdminDeps(), { auth: request.auth ? { uid: request.auth.uid, token: request.auth.token } : undefined, data: request.data }),
);
