/** Dispatches sync jobs through the Cloud Tasks queue of the `runSyncJob` function (rate limits, delays). */
import { getFunctions } from "firebase-admin/functions";
import type { Dispatcher } from "./syncTypes.js";

export const RUN_SYNC_JOB_FUNCTION = "runSyncJob";

export function cloudTasksDispatcher(location = "us-central1"): Dispatcher {
  return {
    async dispatch(jobId, delayMs) {
      const queue = getFunctions().taskQueue<{ jobId: string }>(`locations/${location}/functions/${RUN_SYNC_JOB_FUNCTION}`);
      await queue.enqueue({ jobId }, delayMs > 0 ? { scheduleDelaySeconds: Math.ceil(delayMs / 1000) } : {});
    },
  };
}
