/** Deployed entry point: Cloud Tasks delivers a job id; run it (rate limited per queue, see docs/architecture.md). */
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { z } from "zod";
import { RUN_SYNC_JOB_TIMEOUT_SECONDS } from "../domain/queuePolicy.js";
import { stripeSecretKey } from "../config/stripeApi.js";
import { hubspotToken, slackWebhookUrl, syncDispatchesPerSecond, zendeskToken } from "../config/sync.js";
import { log } from "../log.js";
import { deployedSyncDeps } from "../services/syncDeps.js";
import { runSyncJob as run } from "../services/syncRunner.js";

const payload = z.object({ jobId: z.string().min(1) }).strict();

export const runSyncJob = onTaskDispatched(
  {
    secrets: [hubspotToken, zendeskToken, slackWebhookUrl, stripeSecretKey],
    // HubSpot allows 190 requests / 10 s per portal; the queue's rate holds every instance under it.
    rateLimits: { maxDispatchesPerSecond: syncDispatchesPerSecond, maxConcurrentDispatches: 10 },
    // Job state lives in Firestore; Cloud Tasks retries only when the runner itself could not record a result.
    retryConfig: { maxAttempts: 5, minBackoffSeconds: 5 },
    // Longer than a job's lease (domain/queuePolicy.leaseMsFor), which covers its longest possible run.
    timeoutSeconds: RUN_SYNC_JOB_TIMEOUT_SECONDS,
  },
  async (req) => {
    const { jobId } = payload.parse(req.data);
    const result = await run(deployedSyncDeps(), jobId);
    log.syncJobRun(result.jobId, result.outcome);
  },
);
