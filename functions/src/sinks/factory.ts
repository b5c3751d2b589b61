/** Builds the sink adapters from validated configuration. Adapters create their SDK clients lazily. */
import { getAuth } from "firebase-admin/auth";
import type { SyncConfig } from "../config.js";
import type { Sinks, StripeObjectsPort } from "./ports.js";
import { FirebaseAuthClaims } from "./firebaseClaims.js";
import { HubspotCrm, HubspotTickets } from "./hubspot.js";
import { SlackNotifier } from "./slack.js";
import { ZendeskHelpdesk } from "./zendesk.js";

export function buildSinks(cfg: SyncConfig, stripe: StripeObjectsPort | null = null): Sinks {
  const hubspot = { accessToken: cfg.hubspot.accessToken, basePath: cfg.hubspot.basePath };
  return {
    crm: new HubspotCrm(hubspot),
    helpdesk:
      cfg.helpdesk === "zendesk"
        ? new ZendeskHelpdesk({ baseUrl: cfg.zendesk.baseUrl, email: cfg.zendesk.email, apiToken: cfg.zendesk.apiToken })
        : new HubspotTickets(hubspot),
    claims: new FirebaseAuthClaims(() => getAuth()),
    notify: cfg.slackWebhookUrl ? new SlackNotifier({ webhookUrl: cfg.slackWebhookUrl }) : null,
    stripe,
  };
}
