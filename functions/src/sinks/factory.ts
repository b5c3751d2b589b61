/** Builds the sink adapters from validated configuration. Adapters create their SDK clients lazily. */
import { getAuth } from "firebase-admin/auth";
import type { SyncConfig } from "../config/sync.js";
import type { RateSignals } from "../domain/budget.js";
import type { RefundStageIds } from "../domain/syncModel.js";
import type { Sinks, StripeObjectsPort } from "./ports.js";
import { FirebaseAuthClaims } from "./firebaseClaims.js";
import { HubspotCrm, HubspotTickets } from "./hubspot.js";
import { SlackNotifier } from "./slack.js";
import { ZendeskHelpdesk } from "./zendesk.js";

/** What adapters need from opsync's own storage, passed in as functions so sinks never import the store. */
export interface SinkStores {
  refundStages: () => Promise<RefundStageIds | null>;
  /** The Stripe API read side (revalidation), or null when no key is configured. */
  stripe?: StripeObjectsPort | null;
  /** Where adapters report the vendors' rate-limit headers (the shared budgets read them). */
  observeRate?: RateSignals;
}

export function buildSinks(cfg: SyncConfig, stores: SinkStores): Sinks {
  const signals = stores.observeRate;
  // CRM and tickets report into the same account: they spend one portal budget.
  const hubspot = { accessToken: cfg.hubspot.accessToken, basePath: cfg.hubspot.basePath, ...(signals ? { observeRate: signals.recorder("hubspot") } : {}) };
  return {
    crm: new HubspotCrm({ ...hubspot, refundStages: stores.refundStages }),
    helpdesk:
      cfg.helpdesk === "zendesk"
        ? new ZendeskHelpdesk({
            baseUrl: cfg.zendesk.baseUrl,
            email: cfg.zendesk.email,
            apiToken: cfg.zendesk.apiToken,
            ...(signals ? { observeRate: signals.recorder("zendesk") } : {}),
          })
        : new HubspotTickets(hubspot),
    claims: new FirebaseAuthClaims(() => getAuth()),
    notify: cfg.slackWebhookUrl ? new SlackNotifier({ webhookUrl: cfg.slackWebhookUrl }) : null,
    stripe: stores.stripe ?? null,
  };
}
