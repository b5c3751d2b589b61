/**
 * The ack floor: what any "durably record, then 200" webhook costs on this platform. Same HTTP options as
 * stripeWebhook, the same signed body arrives, and it does exactly one `create()` of a small document in
 * `bench_floor`. It verifies NOTHING (no signature, no JSON parse): the bench measures the HMAC check separately
 * in its own process (microseconds), so the floor is the platform (emulator hop, worker, one Firestore write).
 * No log line either: opsync's structured log per event is part of what the ratio charges to opsync.
 */
import { Timestamp } from "firebase-admin/firestore";
import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { onRequest } from "firebase-functions/v2/https";
import { benchDb } from "./app.js";

const floor = (collection: string) =>
  onRequest({ cors: false, concurrency: 80, timeoutSeconds: 30, memory: "256MiB" }, async (req, res) => {
    if (req.method !== "POST") {
      res.status(405).json({ error: "POST only" });
      return;
    }
    await benchDb().collection(collection).doc().create({ bytes: req.rawBody?.length ?? 0, receivedAt: Timestamp.now() });
    res.status(200).json({ received: true });
  });

export const benchAckFloor = floor("bench_floor");

/**
 * Diagnostic twin of the floor (BENCH_ACK_FLOOR_TRIGGER=1): the same create(), into a collection that a Firestore
 * trigger watches, as `stripeEvents` is watched by onStripeEventRecorded. With background triggers off the trigger
 * never runs, but the Firestore emulator still posts every create to the functions emulator (answered 204), off the
 * request path yet on the same 2 cores. The gap between the two floors is that price of the emulator.
 */
export const benchAckFloorTriggered = floor("bench_floor_triggered");

/** Never does anything: it exists so the Firestore emulator delivers benchAckFloorTriggered's writes. */
export const benchFloorTriggeredRecorded = onDocumentCreated("bench_floor_triggered/{id}", () => undefined);
