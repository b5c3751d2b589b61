/** Deployed entry point: reconciliation report on a schedule (RECONCILE_SCHEDULE, default daily 03:00); drift opens an alert. */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { reconcileSchedule } from "../config/env.js";
import { stripeSecretKey } from "../config/stripeApi.js";
import { hubspotToken } from "../config/sync.js";
import { graceDaysConfig } from "../config/webhook.js";
import { log } from "../log.js";
import { deployedReadPorts } from "../services/maintenanceDeps.js";
import { reconcile } from "../services/reconcile.js";
import { getDb } from "../services/runtime.js";

// Reports only: repairs are a person's decision (`opsync reconcile --fix` or the admin API with confirm).
export const reconcileDaily = onSchedule({ schedule: reconcileSchedule(), retryCount: 0, timeoutSeconds: 1800, memory: "512MiB", secrets: [stripeSecretKey, hubspotToken] }, async () => {
  const report = await reconcile({ db: getDb(), ...deployedReadPorts(), graceDays: graceDaysConfig() });
  log.maintenanceRun("reconcileDaily", { runId: report.runId, checked: report.checked, driftTotal: report.driftTotal, drift: report.drift });
});
