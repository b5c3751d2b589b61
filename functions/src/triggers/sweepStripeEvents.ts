/** Deployed entry point: every 15 minutes, apply Stripe events the ledger lacks (missed webhook deliveries). */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { stripeSecretKey } from "../config/stripeApi.js";
import { acceptLivemodeConfig, graceDaysConfig } from "../config/webhook.js";
import { log } from "../log.js";
import { sweepEvents } from "../services/eventSweep.js";
import { deployedReadPorts } from "../services/maintenanceDeps.js";
import { getDb } from "../services/runtime.js";

export const sweepStripeEvents = onSchedule({ schedule: "every 15 minutes", retryCount: 0, timeoutSeconds: 540, secrets: [stripeSecretKey] }, async () => {
  const report = await sweepEvents({ db: getDb(), stripe: deployedReadPorts().stripe, graceDays: graceDaysConfig(), acceptLivemode: acceptLivemodeConfig() });
  if (report.applied || Object.keys(report.recorded).length) log.maintenanceRun("sweepStripeEvents", { listed: report.listed, applied: report.applied, recorded: report.recorded });
});
