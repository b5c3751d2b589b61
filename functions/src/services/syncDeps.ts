/** Composition root for the sync queue in deployed functions: config → adapters → runner dependencies. */
import { createHash } from "node:crypto";
import { incidentConfig, noticeSettings } from "../config/alerts.js";
import { vendorBudgetLimits } from "../config/budgets.js";
import { stripeApiConfig, stripeSecretKeyAsSet } from "../config/stripeApi.js";
import { syncConfig, type SyncConfig } from "../config/sync.js";
import { graceDaysConfig } from "../config/webhook.js";
import { RateSignals, accountOf } from "../domain/budget.js";
import type { SinkName } from "../domain/model.js";
import { lazyStripeEvents } from "../sinks/stripeApi.js";
import { buildSinks } from "../sinks/factory.js";
import { getDb } from "./runtime.js";
import { readRefundStageIds } from "../store/hubspotSettings.js";
import type { SyncDeps } from "./syncTypes.js";
import { cloudTasksDispatcher } from "./taskDispatcher.js";

/** A short hash of a secret: enough to notice it was replaced, useless to anyone who reads sinkState. */
const fingerprint = (secret: string): string => createHash("sha256").update(secret).digest("hex").slice(0, 16);

/** The credential each sink authenticates with, as a fingerprint (sinkState.pausedForAuth.credential). */
export function credentialFingerprints(cfg: SyncConfig, stripeKey: () => string | null): (sink: SinkName) => string | null {
  return (sink) => {
    switch (sink) {
      case "crm":
        return fingerprint(cfg.hubspot.accessToken);
      case "helpdesk":
        return fingerprint(cfg.helpdesk === "zendesk" ? `${cfg.zendesk.email}:${cfg.zendesk.apiToken}` : cfg.hubspot.accessToken);
      case "notify":
        return cfg.slackWebhookUrl ? fingerprint(cfg.slackWebhookUrl) : null;
      case "stripe": {
        const key = stripeKey();
        return key ? fingerprint(key) : null;
      }
      case "claims":
        return null;
    }
  };
}

/** One per instance: the adapters report rate-limit headers here, the runner reads them after each job. */
const signals = new RateSignals();

export function deployedSyncDeps(): SyncDeps {
  const cfg = syncConfig();
  const stores = { refundStages: () => readRefundStageIds(getDb()), stripe: lazyStripeEvents(stripeApiConfig), observeRate: signals };
  return {
    db: getDb(),
    sinks: buildSinks(cfg, stores),
    budgets: { accountOf: (sink) => accountOf(sink, cfg.helpdesk), limits: vendorBudgetLimits(), signals },
    policy: (sink) => ({ baseMs: cfg.backoffBaseMs, maxMs: cfg.backoffMaxMs, maxAttempts: cfg.maxAttempts[sink] ?? 5 }),
    dispatcher: cloudTasksDispatcher(),
    graceDays: graceDaysConfig(),
    notices: noticeSettings(),
    incidents: (({ joinAfterAttempts, probeDelayMs }) => ({ joinAfterAttempts, probeDelayMs }))(incidentConfig()),
    credentialOf: credentialFingerprints(cfg, stripeSecretKeyAsSet),
  };
}
