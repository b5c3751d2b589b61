/** Deployed entry point: a sync job became `pending` (new, manually retried, resumed, or a rerun); dispatch it for its time. */
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { dispatchDelayMs } from "../domain/queuePolicy.js";
import { ensureDefaultApp, fromFirestore } from "../store/db.js";
import { COL } from "../store/paths.js";
import { cloudTasksDispatcher } from "../services/taskDispatcher.js";

export const onSyncJobWritten = onDocumentWritten({ document: `${COL.syncJobs}/{jobId}`, retry: true }, async (event) => {
  const after = event.data?.after;
  const before = event.data?.before;
  if (!after?.exists || after.get("status") !== "pending") return;
  if (before?.exists && before.get("status") === "pending") return;
  ensureDefaultApp();
  // A coalesced job waits its settle delay: one task at that time, not one now that is skipped as not due.
  const nextAttemptAt = fromFirestore<{ nextAttemptAt?: Date | null }>(after.data()).nextAttemptAt ?? null;
  await cloudTasksDispatcher().dispatch(event.params.jobId, dispatchDelayMs(nextAttemptAt, new Date()));
});
