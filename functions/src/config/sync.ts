/**
 * The sync queue and its sinks: vendor credentials and base URLs, the helpdesk choice, attempts per sink, backoff
 * and the queue's dispatch ceiling. Read inside handlers and validated; errors name the setting.
 */
import { defineInt, defineSecret, defineString } from "firebase-functions/params";
import { z } from "zod";
import { ValidationError } from "../domain/errors.js";

export const hubspotToken = defineSecret("HUBSPOT_TOKEN");
export const zendeskToken = defineSecret("ZENDESK_TOKEN");
/** A Slack incoming-webhook URL, or `none` to switch notifications off. */
export const slackWebhookUrl = defineSecret("SLACK_WEBHOOK_URL");

export const hubspotBaseUrl = defineString("HUBSPOT_BASE_URL", {
  default: "https://api.hubapi.com",
  description: "HubSpot API base URL (a local server or sandbox can stand in).",
});
export const helpdeskKind = defineString("HELPDESK", { default: "hubspot", description: "hubspot or zendesk" });
export const zendeskBaseUrl = defineString("ZENDESK_BASE_URL", {
  default: "https://example.zendesk.com",
  description: "Zendesk base URL, e.g. https://yourcompany.zendesk.com",
});
export const zendeskEmail = defineString("ZENDESK_EMAIL", { default: "none", description: "Zendesk agent email for API auth" });
export const syncMaxAttempts = defineString("SYNC_MAX_ATTEMPTS", {
  default: "crm=5,helpdesk=5,claims=5,notify=3,stripe=5",
  description: "Attempts per sink before a job is dead, as sink=n pairs.",
});
/**
 * Jobs dispatched per second across all instances: a ceiling on the queue. The per-vendor budgets below pace the
 * vendor calls themselves (one budget per account, shared by every sink that calls it).
 */
export const syncDispatchesPerSecond = defineInt("SYNC_DISPATCHES_PER_SECOND", {
  default: 6,
  description: "Sync jobs started per second (Cloud Tasks queue rate limit).",
});
export const syncBackoffBaseMs = defineInt("SYNC_BACKOFF_BASE_MS", { default: 2000, description: "First retry delay ceiling." });
export const syncBackoffMaxMs = defineInt("SYNC_BACKOFF_MAX_MS", { default: 900_000, description: "Largest retry delay." });

const SINKS = ["crm", "helpdesk", "claims", "notify", "stripe"] as const;

const syncConfigSchema = z.object({
  hubspot: z.object({ accessToken: z.string().min(1, "set HUBSPOT_TOKEN"), basePath: z.url() }),
  helpdesk: z.enum(["hubspot", "zendesk"]),
  zendesk: z.object({ baseUrl: z.url(), email: z.string(), apiToken: z.string() }),
  slackWebhookUrl: z.url().nullable(),
  maxAttempts: z.record(z.enum(SINKS), z.number().int().min(1).max(50)),
  backoffBaseMs: z.number().int().min(10),
  backoffMaxMs: z.number().int().min(10),
});
export type SyncConfig = z.infer<typeof syncConfigSchema>;

function parseAttempts(value: string): Record<string, number> {
  const out: Record<string, number> = { crm: 5, helpdesk: 5, claims: 5, notify: 3, stripe: 5 };
  for (const pair of value.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [sink, n] = pair.split("=");
    if (!sink || !n) throw new ValidationError(`invalid configuration SYNC_MAX_ATTEMPTS: "${pair}" is not sink=n`, "SYNC_MAX_ATTEMPTS");
    out[sink.trim()] = Number(n);
  }
  return out;
}

export function syncConfig(): SyncConfig {
  const slack = slackWebhookUrl.value().trim();
  const parsed = syncConfigSchema.safeParse({
    hubspot: { accessToken: hubspotToken.value(), basePath: hubspotBaseUrl.value() },
    helpdesk: helpdeskKind.value(),
    zendesk: { baseUrl: zendeskBaseUrl.value(), email: zendeskEmail.value(), apiToken: zendeskToken.value() },
    slackWebhookUrl: slack === "" || slack === "none" ? null : slack,
    maxAttempts: parseAttempts(syncMaxAttempts.value()),
    backoffBaseMs: syncBackoffBaseMs.value(),
    backoffMaxMs: syncBackoffMaxMs.value(),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") ?? "sync";
    throw new ValidationError(`invalid sync configuration ${field}: ${issue?.message}`, field);
  }
  return parsed.data;
}

/** The HubSpot read side (reconciliation): only HUBSPOT_TOKEN and HUBSPOT_BASE_URL, not the whole sync config. */
export function hubspotReadConfig(): { accessToken: string; basePath: string } {
  const parsed = syncConfigSchema.shape.hubspot.safeParse({ accessToken: hubspotToken.value(), basePath: hubspotBaseUrl.value() });
  if (!parsed.success) throw new ValidationError(`invalid configuration HUBSPOT_TOKEN / HUBSPOT_BASE_URL: ${parsed.error.issues[0]?.message}`, "HUBSPOT_TOKEN");
  return parsed.data;
}
