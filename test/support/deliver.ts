/**
 * Drives the webhook contract in-process (real Firestore emulator, real signature checks), then does what the
 * ledger trigger (`onStripeEventRecorded`) does for a new `received` entry: applies it. The answer is the webhook's,
 * except `body.status`, which is the ledger status after the apply (`body.ack` keeps what the webhook said).
 */
import type { Firestore, Transaction } from "firebase-admin/firestore";
import { handleStripeWebhook, type WebhookResponse } from "../../functions/src/services/stripeWebhook";
import { applyRecordedEvent, recordEvent } from "../../functions/src/store/ingest";
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
  const now = opts.now ?? (() => new Date());
  const res = await handleStripeWebhook(
    { method: opts.method ?? "POST", headers, rawBody: raw },
    {
      secrets: [TEST_SECRET, PREVIOUS_SECRET],
      acceptLivemode: opts.acceptLivemode ?? false,
      maxBodyBytes: opts.maxBodyBytes ?? 262_144,
      record: (envelope, normalized) => recordEvent(db, envelope, normalized, "webhook", now()),
    },
  );
  // The trigger fires once, for the delivery that created the entry; duplicates only read the status.
  if (res.status !== 200 || res.body.status !== "received" || res.body.duplicate) return { ...res, body: { ...res.body, ack: res.body.status } };
  const applied = await applyRecordedEvent(db, String(res.body.eventId), {
    graceDays: opts.graceDays ?? 3,
    now,
    ...(opts.beforeCommit ? { beforeCommit: opts.beforeCommit } : {}),
  });
  return { ...res, body: { ...res.body, ack: res.body.status, status: applied.status } };
}
