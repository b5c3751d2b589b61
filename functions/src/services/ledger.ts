/**
 * The ledger's deployed use cases: record a webhook delivery (the ack's one write), apply a recorded entry, and
 * apply the entries held for a Stripe customer once it is mapped to a uid, or for a payment once it has an owner. Each reads its settings from config/
 * and its Firestore handle from runtime.ts, so the entry points stay one line.
 */
import { graceDaysConfig } from "../config/webhook.js";
import type { NormalizeResult, StripeEventEnvelope } from "../domain/normalize.js";
import { releaseHeldEventsForCustomer } from "../store/heldEvents.js";
import { releaseHeldEventsForObject } from "./heldEvents.js";
import { applyRecordedEvent, recordEvent, type IngestResult } from "../store/ingest.js";
import { getDb } from "./runtime.js";

export function recordWebhookEvent(envelope: StripeEventEnvelope, normalized: NormalizeResult): ReturnType<typeof recordEvent> {
  return recordEvent(getDb(), envelope, normalized, "webhook");
}

export function applyLedgerEntry(eventId: string): Promise<IngestResult> {
  return applyRecordedEvent(getDb(), eventId, { graceDays: graceDaysConfig() });
}

export function releaseEventsHeldFor(stripeCustomerId: string): Promise<IngestResult[]> {
  return releaseHeldEventsForCustomer(getDb(), stripeCustomerId, { graceDays: graceDaysConfig() });
}

export function releaseEventsHeldForObject(stripeObjectId: string): Promise<IngestResult[]> {
  return releaseHeldEventsForObject(getDb(), stripeObjectId, { graceDays: graceDaysConfig() });
}
