/**
 * Deployed entry point: every minute, apply ledger entries still `received` a minute after they arrived (the
 * trigger gave up or never ran) and end past-due grace that has run out with no further Stripe event.
 */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { graceDaysConfig } from "../config/webhook.js";
import { log } from "../log.js";
import { sweepLedger as sweep } from "../services/ledgerSweep.js";
import { getDb } from "../services/runtime.js";

export const sweepLedger = onSchedule({ schedule: "every 1 minutes", retryCount: 0 }, async () => {
  const result = await sweep(getDb(), { now: new Date(), graceDays: graceDaysConfig() });
  if (result.applied || result.graceExpired) log.ledgerSwept(result);
});
