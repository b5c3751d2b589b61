/** Deployed entry point: a payment intent / charge got its owner; apply the events held until it had one. */
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { log } from "../log.js";
import { releaseEventsHeldForObject } from "../services/ledger.js";
import { COL } from "../store/paths.js";

const owned = (data: FirebaseFirestore.DocumentData | undefined): boolean => Boolean(data?.uid || data?.orderId);

export const onStripeObjectLinked = onDocumentWritten({ document: `${COL.stripeObjects}/{stripeObjectId}`, retry: true }, async (event) => {
  // Only the write that gave the object its owner; later writes of the same link have nothing new to release.
  if (!owned(event.data?.after.data()) || owned(event.data?.before.data())) return;
  const stripeObjectId = event.params.stripeObjectId;
  const results = await releaseEventsHeldForObject(stripeObjectId);
  if (results.length) log.heldEventsReleasedForObject(stripeObjectId, results.map((r) => r.status));
});
