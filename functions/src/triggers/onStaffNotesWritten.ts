/** Deployed entry point: an admin edited a customer's staff-only internalNotes; audit the edit and resync the CRM. */
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { getDb } from "../services/runtime.js";
import { COL, STAFF_NOTES } from "../store/paths.js";
import { handleStaffNotesEdit } from "../services/support.js";

export const onStaffNotesWritten = onDocumentWritten(
  { document: `${COL.customers}/{uid}/${STAFF_NOTES.collection}/${STAFF_NOTES.doc}`, retry: true },
  async (event) => {
    const after = event.data?.after.data();
    // A deletion is the server's (the rules let no client delete it): nothing to audit as a staff edit.
    if (!after) return;
    await handleStaffNotesEdit(getDb(), event.params.uid, event.id, event.data?.before.data() ?? {}, after, new Date());
  },
);
