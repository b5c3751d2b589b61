/** Deployed entry point: every minute, re-dispatch due retries and jobs whose worker died (expired lease). */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { log } from "../log.js";
import { cloudTasksDispatcher } from "../services/taskDispatcher.js";
import { getDb } from "../store/db.js";
import { findDueJobs } from "../store/jobQueue.js";

export const sweepSyncJobs = onSchedule({ schedule: "every 1 minutes", retryCount: 0 }, async () => {
  const ids = await findDueJobs(getDb(), new Date(), 200);
  const dispatcher = cloudTasksDispatcher();
  await Promise.all(ids.map((id) => dispatcher.dispatch(id, 0)));
  if (ids.length) log.sweep(ids.length);
});
