/** Deployed entry point: a sync job became `pending` (new, manually retried, or resumed); dispatch it now. */
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { ensureDefaultApp } from "../store/db.js";
import { COL } from "../store/paths.js";
import { cloudTasksDispatcher } from "../services/taskDispatcher.js";

export const onSyncJobWritten = onDocumentWritten({ document: `${COL.syncJobs}/{jobId}`, retry: true }, async (event) => {
  const after = event.data?.after;
  const before = event.data?.before;
  if (!after?.exists || after.get("status") !== "pending") return;
  if (before?.exists && before.get("status") === "pending") return;
  ensureDefaultApp();
  await cloudTasksDispatcher().dispatch(event.params.jobId, 0);
});
