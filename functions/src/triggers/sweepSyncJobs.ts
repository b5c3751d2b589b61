/** Deployed entry point: every minute, re-dispatch due retries and jobs whose worker died (expired lease). */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { log } from "../log.js";
import { redispatchDueJobs } from "../services/jobDispatch.js";

export const sweepSyncJobs = onSchedule({ schedule: "every 1 minutes", retryCount: 0 }, async () => {
  const count = await redispatchDueJobs(new Date());
  if (count) log.sweep(count);
});
