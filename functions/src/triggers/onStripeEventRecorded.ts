/** Deployed entry point: a ledger entry was created (`received`); apply it. Redelivered triggers are no-ops. */
import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { graceDaysConfig } from "../config.js";
import { log } from "../log.js";
import { getDb } from "../store/db.js";
import { applyRecordedEvent } from "../store/ingest.js";
import { COL } from "../store/paths.js";

export const onStripeEventRecorded = onDocumentCreated({ document: `${COL.stripeEvents}/{eventId}`, retry: true }, async (event) => {
  if (event.data?.get("status") !== "received") return;
  const result = await applyRecordedEvent(getDb(), event.params.eventId, { graceDays: graceDaysConfig() });
  log.eventApplied(result);
});
