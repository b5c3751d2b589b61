/** Drives the webhook contract in-process (real Firestore emulator, real signature checks). */
import type { Firestore, Transaction } from "firebase-admin/firestore";
import { handleStripeWebhook, type WebhookResponse } from "../../functions/src/services/stripeWebhook";
import { ingestDelivery } from "../../functions/src/store/ingest";
import { signedDelivery } from "./stripeFixtures";

export const TEST_SECRET = "whsec_test_current_0123456789";
export const PREVIOUS_SECRET = "whsec_test_previous_0123456789";

export interface DeliverOptions {
  secret?: string;
  timestamp?: number;
  method?: string;
  signature?: string | null;
  rawBody?: Buffer;
  acceptLivemode?: boolean;
  maxBodyBytes?: number;
  graceDays?: number;
  now?: () => Date;
  beforeCommit?: (tx: Transaction) => void | Promise<void>;
}

export async function deliver(db: Firestore, event: object, opts: DeliverOptions = {}): Promise<WebhookResponse> {
  const { body, signature } = signedDelivery(event, opts.secret ?? TEST_SECRET, opts.timestamp);
  const raw = opts.rawBody ?? Buffer.from(body);
  const headers: Record<string, string> = { "content-type": "application/json", "content-length": String(raw.length) };
  const sig = opts.signature === undefined ? signature : opts.signature;
  if (sig !== null) headers["stripe-signature"] = sig;
  return handleStripeWebhook(
    { method: opts.method ?? "POST", headers, rawBody: raw },
    {
      secrets: [TEST_SECRET, PREVIOUS_SECRET],
      acceptLivemode: opts.acceptLivemode ?? false,
      maxBodyBytes: opts.maxBodyBytes ?? 262_144,
      ingest: (envelope, normalized) =>
        ingestDelivery(db, envelope, normalized, {
          graceDays: opts.graceDays ?? 3,
          ...(opts.now ? { now: opts.now } : {}),
          ...(opts.beforeCommit ? { beforeCommit: opts.beforeCommit } : {}),
        }),
    },
  );
}
