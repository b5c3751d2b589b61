/**
 * Deployed entry point: every minute, re-dispatch due retries and jobs whose worker died (expired lease), then the
 * incidents' sweep (signal alerts, probes, re-checks of quiet incidents).
 */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { log } from "../log.js";
import { sweepIncidentsNow } from "../services/incidentSweep.js";
import { redispatchDueJobs } from "../services/jobDispatch.js";

export const sweepSyncJobs = onSchedule({ schedule: "every 1 minutes", retryCount: 0 }, async () => {
  const count = await redispatchDueJobs(new Date());
  if (count) log.sweep(count);
  // Signal alerts (failure rate, backlog age) and probes of vendor-wide incidents (docs/runbook.md).
  const incidents = await sweepIncidentsNow(new Date());
  if (incidents.opened.length || incidents.closed.length || incidents.probed.length || incidents.rechecked.length) log.incidentSweep(incidents);
});
