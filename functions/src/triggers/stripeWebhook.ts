/** Deployed entry point: Stripe webhook deliveries (HTTP). */
import { onRequest } from "firebase-functions/v2/https";
import { stripeWebhookSecret, webhookConfig } from "../config/webhook.js";
import { handleStripeWebhook } from "../services/stripeWebhook.js";
import { recordWebhookEvent } from "../services/ledger.js";

export const stripeWebhook = onRequest(
  { secrets: [stripeWebhookSecret], cors: false, concurrency: 80, timeoutSeconds: 30, memory: "256MiB" },
  async (req, res) => {
    const cfg = webhookConfig();
    const result = await handleStripeWebhook(
      { method: req.method, headers: req.headers, rawBody: req.rawBody },
      {
        secrets: cfg.secrets,
        acceptLivemode: cfg.acceptLivemode,
        maxBodyBytes: cfg.maxBodyBytes,
        record: recordWebhookEvent,
      },
    );
    res.status(result.status).json(result.body);
  },
);
