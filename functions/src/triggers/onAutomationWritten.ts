/** Deployed entry point: the kill switch `ops/automation` was turned off; re-queue the paused jobs (the one place that does; each once, never a finished one). */
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { log } from "../log.js";
import { requeueAfterResume } from "../services/jobDispatch.js";
import { AUTOMATION_DOC } from "../store/paths.js";

export const onAutomationWritten = onDocumentWritten({ document: AUTOMATION_DOC, retry: true }, async (event) => {
  const wasPaused = event.data?.before?.get("paused") === true;
  const isPaused = event.data?.after?.get("paused") === true;
  if (!wasPaused || isPaused) return;
  log.automationResumed(await requeueAfterResume(new Date()));
});
