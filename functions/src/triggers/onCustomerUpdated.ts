/** Deployed entry point: an admin edited a customer's supportTier; resync the CRM and audit the edit. */
import { onDocumentUpdated } from "firebase-functions/v2/firestore";
import { getDb } from "../services/runtime.js";
import { COL } from "../store/paths.js";
import { handleCustomerEdit } from "../services/support.js";

export const onCustomerUpdated = onDocumentUpdated({ document: `${COL.customers}/{uid}`, retry: true }, async (event) => {
  const before = event.data?.before.data();
  const after = event.data?.after.data();
  if (!before || !after) return;
  await handleCustomerEdit(getDb(), event.params.uid, event.id, before, after, new Date());
});
