/** Deployed entry point: the admin HTTP API (`POST /v1/<operation>`, docs/admin-api.md). CORS is handled inside. */
import { getAuth } from "firebase-admin/auth";
import { onRequest } from "firebase-functions/v2/https";
import { stripeSecretKey } from "../config/stripeApi.js";
import { hubspotToken } from "../config/sync.js";
import { deployedAdminDeps } from "../services/adminDeps.js";
import { handleAdminRequest } from "../services/adminHttp.js";
import { ensureDefaultApp } from "../services/runtime.js";

// STRIPE_SECRET_KEY: replayEvent, backfill, sweepEvents and reconcile read the Stripe API; HUBSPOT_TOKEN: reconcile reads HubSpot.
export const adminApi = onRequest({ cors: false, concurrency: 40, timeoutSeconds: 540, memory: "256MiB", secrets: [stripeSecretKey, hubspotToken] }, async (req, res) => {
  ensureDefaultApp();
  const result = await handleAdminRequest(
    { method: req.method, path: req.path, headers: req.headers, rawBody: req.rawBody, remoteAddress: req.ip ?? null },
    {
      ...deployedAdminDeps(),
      verifyIdToken: async (token) => {
        // No checkRevoked: the service does the one Auth lookup and a stricter, same-second revocation check.
        const decoded = await getAuth().verifyIdToken(token);
        return { uid: decoded.uid, claims: { ...decoded } };
      },
    },
  );
  res.set(result.headers).status(result.status);
  if (result.body === null) res.end();
  else res.json(result.body);
});
