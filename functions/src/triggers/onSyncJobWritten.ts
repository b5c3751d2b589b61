/** Deployed entry point: a sync job became `pending` (new, manually retried, resumed, or a rerun); dispatch it for its time. */
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { dispatchPendingJob } from "../services/jobDispatch.js";
import { COL } from "../store/paths.js";

export const onSyncJobWritten = onDocumentWritten({ document: `${COL.syncJobs}/{jobId}`, retry: true }, async (event) => {
  const after = event.data?.after;
  const before = event.data?.before;
  if (!after?.exists || after.get("status") !== "pending") return;
  if (before?.exists && before.get("status") === "pending") return;
  await dispatchPendingJob(event.params.jobId, after.data(), new Date());
});
