/** Deployed entry point: a ledger entry was created (`received`); apply it. Redelivered triggers are no-ops. */
import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { log } from "../log.js";
import { applyLedgerEntry } from "../services/ledger.js";
import { COL } from "../store/paths.js";

export const onStripeEventRecorded = onDocumentCreated({ document: `${COL.stripeEvents}/{eventId}`, retry: true }, async (event) => {
  if (event.data?.get("status") !== "received") return;
  log.eventApplied(await applyLedgerEntry(event.params.eventId));
});
