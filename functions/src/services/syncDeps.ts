/** Composition root for the sync queue in deployed functions: config → adapters → runner dependencies. */
import { graceDaysConfig, noticeSettings, stripeApiConfig, syncConfig } from "../config.js";
import { lazyStripeEvents } from "../sinks/stripeApi.js";
import { buildSinks } from "../sinks/factory.js";
import { getDb } from "../store/db.js";
import { readRefundStageIds } from "../store/hubspotSettings.js";
import type { SyncDeps } from "./syncRunner.js";
import { cloudTasksDispatcher } from "./taskDispatcher.js";

export function deployedSyncDeps(): SyncDeps {
  const cfg = syncConfig();
  return {
    db: getDb(),
    sinks: buildSinks(cfg, { refundStages: () => readRefundStageIds(getDb()), stripe: lazyStripeEvents(stripeApiConfig) }),
    policy: (sink) => ({ baseMs: cfg.backoffBaseMs, maxMs: cfg.backoffMaxMs, maxAttempts: cfg.maxAttempts[sink] ?? 5 }),
    dispatcher: cloudTasksDispatcher(),
    graceDays: graceDaysConfig(),
    notices: noticeSettings(),
  };
}
