/**
 * Held events whose owner became known through a linked object: a refund or dispute that arrived before its payment
 * intent / charge (and names no order or customer) is applied, in Stripe's order, once that payment is linked to a
 * customer or an order (`stripeObjects/{id}` gains `uid` or `orderId`).
 */
import type { Firestore } from "firebase-admin/firestore";
import { heldEventsWaitingFor } from "../store/heldEvents.js";
import { releaseHeldEvent, type IngestOptions, type IngestResult } from "../store/ingest.js";

export async function releaseHeldEventsForObject(db: Firestore, stripeObjectId: string, options: IngestOptions): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  // One at a time: each release is its own transaction on the same owner's documents.
  for (const event of await heldEventsWaitingFor(db, stripeObjectId)) results.push(await releaseHeldEvent(db, event, options));
  return results;
}
