/**
 * Deployed entry point: every minute, re-dispatch due retries and jobs whose worker died (expired lease), then the
 * incidents' sweep (signal alerts, probes).
 */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { incidentConfig, noticeSettings } from "../config.js";
import { log } from "../log.js";
import { sweepIncidents } from "../services/incidentSweep.js";
import { cloudTasksDispatcher } from "../services/taskDispatcher.js";
import { getDb } from "../store/db.js";
import { findDueJobs } from "../store/jobQueue.js";

export const sweepSyncJobs = onSchedule({ schedule: "every 1 minutes", retryCount: 0 }, async () => {
  const ids = await findDueJobs(getDb(), new Date(), 200);
  const dispatcher = cloudTasksDispatcher();
  await Promise.all(ids.map((id) => dispatcher.dispatch(id, 0)));
  if (ids.length) log.sweep(ids.length);
  // Signal alerts (failure rate, backlog age) and probes of vendor-wide incidents (docs/runbook.md).
  const cfg = incidentConfig();
  const incidents = await sweepIncidents(getDb(), { now: new Date(), thresholds: cfg.thresholds, notices: noticeSettings(), probeDelayMs: cfg.probeDelayMs });
  if (incidents.opened.length || incidents.closed.length || incidents.probed.length) log.incidentSweep(incidents);
});
