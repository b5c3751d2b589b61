/** Deployed entry point: an app user filed an in-app support request; validate it and plan the ticket. */
import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { log } from "../log.js";
import { getDb } from "../services/runtime.js";
import { COL } from "../store/paths.js";
import { handleSupportRequest } from "../services/support.js";

export const onSupportRequestCreated = onDocumentCreated({ document: `${COL.supportRequests}/{requestId}`, retry: true }, async (event) => {
  const outcome = await handleSupportRequest(getDb(), event.params.requestId, new Date());
  log.supportRequest(event.params.requestId, outcome.status);
});
