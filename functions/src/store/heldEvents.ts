/**
 * Events held in the review queue because nobody could say whose they were. When a Stripe customer gets a
 * mapping to a uid, its held events are applied in Stripe's order through the same transaction as a delivery.
 */
import type { Firestore } from "firebase-admin/firestore";
import { isHandledEventType, type NormalizedEvent } from "../domain/normalize.js";
import { releaseHeldEvent, type IngestOptions, type IngestResult } from "./ingest.js";
import { COL } from "./paths.js";

function isNormalizedEvent(value: unknown): value is NormalizedEvent {
  if (!value || typeof value !== "object") return false;
  const meta = (value as { meta?: unknown }).meta;
  const subject = (value as { subject?: unknown }).subject;
  return (
    typeof meta === "object" &&
    meta !== null &&
    typeof (meta as { id?: unknown }).id === "string" &&
    isHandledEventType(String((meta as { type?: unknown }).type)) &&
    typeof subject === "object" &&
    subject !== null
  );
}

/** The open held events a query selects, oldest first (Stripe's order). */
async function openHeld(db: Firestore, field: "stripeCustomerId" | "waitingFor", value: string): Promise<NormalizedEvent[]> {
  // Two literal queries (not one built from `field`), so the index check in test/unit/indexes.test.ts can read them.
  const held =
    field === "waitingFor"
      ? await db.collection(COL.reviewQueue).where("waitingFor", "array-contains", value).where("status", "==", "open").orderBy("eventCreated", "asc").get()
      : await db.collection(COL.reviewQueue).where("stripeCustomerId", "==", value).where("status", "==", "open").orderBy("eventCreated", "asc").get();
  return held.docs.map((doc) => {
    const event: unknown = doc.get("event");
    if (!isNormalizedEvent(event)) throw new Error(`reviewQueue/${doc.id} holds no replayable event`);
    return event;
  });
}

/**
 * Open held events that wait for this payment intent or charge to get an owner (`waitingFor`, e.g. a refund that
 * arrived before its payment and names no order or customer), oldest first.
 */
export function heldEventsWaitingFor(db: Firestore, stripeObjectId: string): Promise<NormalizedEvent[]> {
  return openHeld(db, "waitingFor", stripeObjectId);
}

export async function releaseHeldEventsForCustomer(db: Firestore, stripeCustomerId: string, options: IngestOptions): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  for (const event of await openHeld(db, "stripeCustomerId", stripeCustomerId)) results.push(await releaseHeldEvent(db, event, options));
  return results;
}
