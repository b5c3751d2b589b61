/**
 * The only module that reads params, secrets and environment. Values are read inside handlers (never at
 * module load) and validated, so a misconfiguration fails with a message that names the setting.
 */
import { Expression, defineInt, defineSecret, defineString } from "firebase-functions/params";
import { z } from "zod";
import { HUBSPOT_REQUESTS_PER_10S, HUBSPOT_TIERS, type VendorAccount, type VendorLimit } from "./domain/budget.js";
import { ValidationError } from "./domain/errors.js";
import { NOTICE_PERSONAL_DATA, type NoticeSettings } from "./domain/notices.js";

/** One or two signing secrets (comma separated) so an endpoint secret can be rotated without downtime. */
export const stripeWebhookSecret = defineSecret("STRIPE_WEBHOOK_SECRET");

export const stripeMode = defineString("STRIPE_MODE", {
  default: "test",
  description: "Which Stripe mode this project accepts events from: test or live.",
});

export const entitlementGraceDays = defineInt("ENTITLEMENT_GRACE_DAYS", {
  default: 3,
  description: "Days a past_due subscription keeps its entitlements.",
});

export const webhookMaxBodyBytes = defineInt("WEBHOOK_MAX_BODY_BYTES", {
  default: 262_144,
  description: "Largest Stripe webhook body accepted; larger bodies are answered 413.",
});

const envSchema = z.object({
  FUNCTIONS_EMULATOR: z.string().optional(),
  GCLOUD_PROJECT: z.string().optional(),
});

const webhookConfigSchema = z.object({
  secrets: z
    .array(z.string().regex(/^whsec_\S+$/, "each secret must start with whsec_"))
    .min(1, "set STRIPE_WEBHOOK_SECRET")
    .max(2, "at most two secrets (current and previous)"),
  mode: z.enum(["test", "live"]),
  graceDays: z.number().int().min(0).max(60),
  maxBodyBytes: z.number().int().min(1024).max(10_485_760),
});

export interface WebhookConfig {
  secrets: string[];
  /** The value of `event.livemode` this deployment accepts. */
  acceptLivemode: boolean;
  graceDays: number;
  maxBodyBytes: number;
}

/** True on the local emulators or a demo-* project: such a project never accepts live-mode events. */
export function isLocalProject(): boolean {
  const env = envSchema.parse(process.env);
  return env.FUNCTIONS_EMULATOR === "true" || (env.GCLOUD_PROJECT ?? "").startsWith("demo-");
}

/** The last validated webhook configuration and the raw values it came from (one per instance in practice). */
let webhookConfigCache: { key: string; config: WebhookConfig } | null = null;

/**
 * Read on every delivery (the ack path), so the validated result is reused while the raw values are unchanged;
 * a changed value (tests, a rotated secret in a new instance) is validated again.
 */
export function webhookConfig(): WebhookConfig {
  const raw = {
    secret: stripeWebhookSecret.value(),
    mode: stripeMode.value(),
    graceDays: entitlementGraceDays.value(),
    maxBodyBytes: webhookMaxBodyBytes.value(),
    local: isLocalProject(),
  };
  const key = JSON.stringify(raw);
  if (webhookConfigCache?.key === key) return webhookConfigCache.config;
  const config = parseWebhookConfig(raw);
  webhookConfigCache = { key, config };
  return config;
}

function parseWebhookConfig(raw: { secret: string; mode: string; graceDays: number; maxBodyBytes: number; local: boolean }): WebhookConfig {
  const parsed = webhookConfigSchema.safeParse({
    secrets: raw.secret.split(/[,\s]+/).filter(Boolean),
    mode: raw.mode,
    graceDays: raw.graceDays,
    maxBodyBytes: raw.maxBodyBytes,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const names: Record<string, string> = {
      secrets: "STRIPE_WEBHOOK_SECRET",
      mode: "STRIPE_MODE",
      graceDays: "ENTITLEMENT_GRACE_DAYS",
      maxBodyBytes: "WEBHOOK_MAX_BODY_BYTES",
    };
    const field = names[String(issue?.path[0])] ?? String(issue?.path[0]);
    throw new ValidationError(`invalid configuration ${field}: ${issue?.message}`, field);
  }
  const cfg = parsed.data;
  return {
    secrets: cfg.secrets,
    acceptLivemode: cfg.mode === "live" && !raw.local,
    graceDays: cfg.graceDays,
    maxBodyBytes: cfg.maxBodyBytes,
  };
}

export function graceDaysConfig(): number {
  return z.number().int().min(0).max(60).parse(entitlementGraceDays.value());
}

// ---- Sync queue and sinks --------------------------------------------------------------------------------

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

// Per-vendor shared budgets (domain/budget.ts; docs/architecture.md "Vendor budgets").
export const hubspotTier = defineString("HUBSPOT_TIER", {
  default: "starter",
  description: "Your HubSpot subscription tier (free, starter, professional, enterprise): sizes the portal budget (100 or 190 requests / 10 s).",
});
export const hubspotRateLimitPer10s = defineInt("HUBSPOT_RATE_LIMIT_PER_10S", {
  default: 0,
  description: "Requests per 10 s opsync may spend in the HubSpot portal; 0 = from HUBSPOT_TIER. Lower it to leave room for other apps.",
});
export const zendeskRateLimitPerMinute = defineInt("ZENDESK_RATE_LIMIT_PER_MINUTE", {
  default: 200,
  description: "Requests per minute opsync may spend in the Zendesk account (plan limits 200-700).",
});
export const slackRateLimitPerMinute = defineInt("SLACK_RATE_LIMIT_PER_MINUTE", { default: 60, description: "Slack webhook posts per minute." });
export const authRateLimitPerSecond = defineInt("AUTH_RATE_LIMIT_PER_SECOND", { default: 20, description: "Firebase Auth Admin calls per second (claims)." });
export const stripeReadRateLimitPerSecond = defineInt("STRIPE_READ_RATE_LIMIT_PER_SECOND", {
  default: 20,
  description: "Stripe API reads per second for revalidation (Stripe allows ~25/s in test mode, ~100/s live).",
});

const budgetSchema = z.object({
  HUBSPOT_TIER: z.enum(HUBSPOT_TIERS),
  HUBSPOT_RATE_LIMIT_PER_10S: z.number().int().min(0).max(10_000),
  ZENDESK_RATE_LIMIT_PER_MINUTE: z.number().int().min(1).max(100_000),
  SLACK_RATE_LIMIT_PER_MINUTE: z.number().int().min(1).max(10_000),
  AUTH_RATE_LIMIT_PER_SECOND: z.number().int().min(1).max(10_000),
  STRIPE_READ_RATE_LIMIT_PER_SECOND: z.number().int().min(1).max(10_000),
});

/** Each vendor account's budget opsync spends; errors name the param. */
export function vendorBudgetLimits(): Record<VendorAccount, VendorLimit> {
  const parsed = budgetSchema.safeParse({
    HUBSPOT_TIER: hubspotTier.value().trim().toLowerCase(),
    HUBSPOT_RATE_LIMIT_PER_10S: hubspotRateLimitPer10s.value(),
    ZENDESK_RATE_LIMIT_PER_MINUTE: zendeskRateLimitPerMinute.value(),
    SLACK_RATE_LIMIT_PER_MINUTE: slackRateLimitPerMinute.value(),
    AUTH_RATE_LIMIT_PER_SECOND: authRateLimitPerSecond.value(),
    STRIPE_READ_RATE_LIMIT_PER_SECOND: stripeReadRateLimitPerSecond.value(),
  });
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? "HUBSPOT_TIER");
    throw new ValidationError(`invalid configuration ${field}: ${parsed.error.issues[0]?.message}`, field);
  }
  const c = parsed.data;
  return {
    hubspot: { requests: c.HUBSPOT_RATE_LIMIT_PER_10S || HUBSPOT_REQUESTS_PER_10S[c.HUBSPOT_TIER], windowMs: 10_000 },
    zendesk: { requests: c.ZENDESK_RATE_LIMIT_PER_MINUTE, windowMs: 60_000 },
    slack: { requests: c.SLACK_RATE_LIMIT_PER_MINUTE, windowMs: 60_000 },
    auth: { requests: c.AUTH_RATE_LIMIT_PER_SECOND, windowMs: 1_000 },
    stripe: { requests: c.STRIPE_READ_RATE_LIMIT_PER_SECOND, windowMs: 1_000 },
  };
}

/** What personal data a Slack notice may carry (domain/notices.ts): none (uid and a console link), name, email. */
export const noticePersonalData = defineString("NOTICE_PERSONAL_DATA", {
  default: "none",
  description: "Personal data Slack notices may carry: none (uid and a console link only), name, or email (name and email).",
});

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

/** NOTICE_PERSONAL_DATA and the console link base of this project (null when the project id is unknown). */
export function noticeSettings(): NoticeSettings {
  const level = z.enum(NOTICE_PERSONAL_DATA).safeParse(noticePersonalData.value().trim());
  if (!level.success) {
    throw new ValidationError(
      `invalid configuration NOTICE_PERSONAL_DATA: must be one of ${NOTICE_PERSONAL_DATA.join(", ")}`,
      "NOTICE_PERSONAL_DATA",
    );
  }
  const project = envSchema.parse(process.env).GCLOUD_PROJECT;
  const consoleDataUrl =
    project && /^[a-z0-9-]+$/.test(project) ? `https://console.firebase.google.com/project/${project}/firestore/databases/-default-/data/` : null;
  return { personalData: level.data, consoleDataUrl };
}

/** Options for the Admin SDK app; on the emulators a service account id avoids a metadata-server probe. */
export function adminAppOptions(): { serviceAccountId?: string } {
  const env = envSchema.parse(process.env);
  return isLocalProject() ? { serviceAccountId: `${env.GCLOUD_PROJECT ?? "demo-opsync"}@appspot.gserviceaccount.com` } : {};
}

// ---- Incidents and signal alerts -------------------------------------------------------------------------

export const incidentJoinAfterAttempts = defineInt("INCIDENT_JOIN_AFTER_ATTEMPTS", {
  default: 3,
  description: "A sync job still retrying joins its cause's incident (and the incident opens) once this many attempts failed; dead jobs always join.",
});
export const incidentProbeMinutes = defineInt("INCIDENT_PROBE_MINUTES", {
  default: 5,
  description: "Minutes after a vendor-wide incident's jobs gave up before opsync retries one of them (then again each period).",
});
export const alertFailureRatePercent = defineInt("ALERT_FAILURE_RATE_PERCENT", {
  default: 5,
  description: "The failure-rate alert opens when more than this percentage of deliveries or finished sync jobs failed in the window.",
});
export const alertFailureWindowMinutes = defineInt("ALERT_FAILURE_WINDOW_MINUTES", { default: 15, description: "The failure-rate alert's window in minutes." });
export const alertFailureMinVolume = defineInt("ALERT_FAILURE_MIN_VOLUME", {
  default: 20,
  description: "Fewer deliveries (or finished jobs) than this in the window never open the failure-rate alert.",
});
export const alertBacklogAgeMinutes = defineInt("ALERT_BACKLOG_AGE_MINUTES", {
  default: 30,
  description: "The backlog-age alert opens when the oldest waiting sync job is older than this many minutes.",
});

export interface IncidentConfig {
  joinAfterAttempts: number;
  probeDelayMs: number;
  thresholds: { failureRatePercent: number; windowMinutes: number; minVolume: number; backlogAgeMinutes: number };
}

const incidentConfigSchema = z.object({
  INCIDENT_JOIN_AFTER_ATTEMPTS: z.number().int().min(1).max(50),
  INCIDENT_PROBE_MINUTES: z.number().int().min(1).max(24 * 60),
  ALERT_FAILURE_RATE_PERCENT: z.number().int().min(1).max(100),
  ALERT_FAILURE_WINDOW_MINUTES: z.number().int().min(1).max(120),
  ALERT_FAILURE_MIN_VOLUME: z.number().int().min(1).max(1_000_000),
  ALERT_BACKLOG_AGE_MINUTES: z.number().int().min(1).max(7 * 24 * 60),
});

export function incidentConfig(): IncidentConfig {
  const parsed = incidentConfigSchema.safeParse({
    INCIDENT_JOIN_AFTER_ATTEMPTS: incidentJoinAfterAttempts.value(),
    INCIDENT_PROBE_MINUTES: incidentProbeMinutes.value(),
    ALERT_FAILURE_RATE_PERCENT: alertFailureRatePercent.value(),
    ALERT_FAILURE_WINDOW_MINUTES: alertFailureWindowMinutes.value(),
    ALERT_FAILURE_MIN_VOLUME: alertFailureMinVolume.value(),
    ALERT_BACKLOG_AGE_MINUTES: alertBacklogAgeMinutes.value(),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "INCIDENT");
    throw new ValidationError(`invalid configuration ${field}: ${issue?.message}`, field);
  }
  const c = parsed.data;
  return {
    joinAfterAttempts: c.INCIDENT_JOIN_AFTER_ATTEMPTS,
    probeDelayMs: c.INCIDENT_PROBE_MINUTES * 60_000,
    thresholds: {
      failureRatePercent: c.ALERT_FAILURE_RATE_PERCENT,
      windowMinutes: c.ALERT_FAILURE_WINDOW_MINUTES,
      minVolume: c.ALERT_FAILURE_MIN_VOLUME,
      backlogAgeMinutes: c.ALERT_BACKLOG_AGE_MINUTES,
    },
  };
}

// ---- Stripe API (admin replayEvent) -----------------------------------------------------------------------

/** A restricted (`rk_`) or secret (`sk_`) key that may read events (`GET /v1/events/{id}`); bound to adminApi/adminCall. */
export const stripeSecretKey = defineSecret("STRIPE_SECRET_KEY");
export const stripeApiBaseUrl = defineString("STRIPE_API_BASE_URL", {
  default: "https://api.stripe.com",
  description: "Stripe API base URL (a local stand-in can take its place on the emulators).",
});

export interface StripeApiConfig {
  secretKey: string;
  host: string;
  port: number;
  protocol: "http" | "https";
}

const stripeKeySchema = z.string().regex(/^(sk|rk)_(test|live)_\S+$/, "must be a Stripe secret (sk_...) or restricted (rk_...) key");

/** The configured Stripe key as set (possibly empty or invalid), only to notice that it was replaced (never logged). */
export function stripeSecretKeyAsSet(): string | null {
  const key = stripeSecretKey.value().trim();
  return key === "" ? null : key;
}

/** Where and how the admin API calls Stripe. The key's mode must match the events this project accepts. */
export function stripeApiConfig(): StripeApiConfig {
  const key = stripeKeySchema.safeParse(stripeSecretKey.value().trim());
  if (!key.success) throw new ValidationError(`invalid configuration STRIPE_SECRET_KEY: ${key.error.issues[0]?.message}`, "STRIPE_SECRET_KEY");
  const wantLive = acceptLivemodeConfig();
  if (key.data.includes("_live_") !== wantLive) {
    throw new ValidationError(
      `invalid configuration STRIPE_SECRET_KEY: a ${wantLive ? "live" : "test"}-mode key is needed (this project accepts ${wantLive ? "live" : "test"}-mode events)`,
      "STRIPE_SECRET_KEY",
    );
  }
  const raw = stripeApiBaseUrl.value().trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`invalid configuration STRIPE_API_BASE_URL: "${raw}" is not a URL`, "STRIPE_API_BASE_URL");
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || (url.pathname !== "/" && url.pathname !== "")) {
    throw new ValidationError(`invalid configuration STRIPE_API_BASE_URL: "${raw}" must be http(s)://host[:port] without a path`, "STRIPE_API_BASE_URL");
  }
  const protocol = url.protocol === "https:" ? "https" : "http";
  return { secretKey: key.data, host: url.hostname, port: url.port ? Number(url.port) : protocol === "https" ? 443 : 80, protocol };
}

/** The value of `event.livemode` this deployment accepts (never live on the emulators or a demo-* project). */
export function acceptLivemodeConfig(): boolean {
  return z.enum(["test", "live"]).parse(stripeMode.value()) === "live" && !isLocalProject();
}

// ---- Admin API (adminApi, adminCall) ---------------------------------------------------------------------

export const adminCorsOrigins = defineString("ADMIN_CORS_ORIGINS", {
  default: "",
  description: "Browser origins allowed to call the admin API, comma separated, exact match (e.g. https://admin.example.com). Empty: none.",
});
export const adminRateLimitPerMinute = defineInt("ADMIN_RATE_LIMIT_PER_MINUTE", {
  default: 60,
  description: "Admin API calls allowed per caller (user or API key) per minute.",
});

export const adminAuthFailureLimit = defineInt("ADMIN_AUTH_FAILURE_LIMIT", {
  default: 20,
  description: "Failed admin authentications allowed per client address and per API key id in one window; then 429.",
});
export const adminAuthFailureWindowSeconds = defineInt("ADMIN_AUTH_FAILURE_WINDOW_SECONDS", {
  default: 300,
  description: "Length of the failed-authentication window in seconds.",
});

/** An origin as a browser sends it: scheme://host[:port], no path, no trailing slash, no wildcard. */
const originSchema = z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, "each origin must look like https://host[:port] (no path, no trailing slash, no *)");

export function parseCorsOrigins(value: string): string[] {
  const origins = value
    .split(/[,\s]+/)
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    const parsed = originSchema.safeParse(origin);
    if (!parsed.success) {
      throw new ValidationError(`invalid configuration ADMIN_CORS_ORIGINS: "${origin}": ${parsed.error.issues[0]?.message}`, "ADMIN_CORS_ORIGINS");
    }
  }
  return origins;
}

export interface AdminConfig {
  corsOrigins: string[];
  rateLimitPerMinute: number;
  graceDays: number;
  /** For replayEvent: the same mode check as the webhook. */
  acceptLivemode: boolean;
  /** ADMIN_AUTH_FAILURE_LIMIT failures per ADMIN_AUTH_FAILURE_WINDOW_SECONDS, per address and per API key id. */
  authFailures: { maxFailures: number; windowMs: number };
}

export function adminConfig(): AdminConfig {
  const limit = z.number().int().min(1).max(100_000).safeParse(adminRateLimitPerMinute.value());
  if (!limit.success) {
    throw new ValidationError(`invalid configuration ADMIN_RATE_LIMIT_PER_MINUTE: ${limit.error.issues[0]?.message}`, "ADMIN_RATE_LIMIT_PER_MINUTE");
  }
  const failures = z.number().int().min(1).max(10_000).safeParse(adminAuthFailureLimit.value());
  if (!failures.success) {
    throw new ValidationError(`invalid configuration ADMIN_AUTH_FAILURE_LIMIT: ${failures.error.issues[0]?.message}`, "ADMIN_AUTH_FAILURE_LIMIT");
  }
  const windowSeconds = z.number().int().min(10).max(86_400).safeParse(adminAuthFailureWindowSeconds.value());
  if (!windowSeconds.success) {
    throw new ValidationError(
      `invalid configuration ADMIN_AUTH_FAILURE_WINDOW_SECONDS: ${windowSeconds.error.issues[0]?.message}`,
      "ADMIN_AUTH_FAILURE_WINDOW_SECONDS",
    );
  }
  return {
    authFailures: { maxFailures: failures.data, windowMs: windowSeconds.data * 1000 },
    corsOrigins: parseCorsOrigins(adminCorsOrigins.value()),
    rateLimitPerMinute: limit.data,
    graceDays: graceDaysConfig(),
    acceptLivemode: acceptLivemodeConfig(),
  };
}

/**
 * ADMIN_CORS_ORIGINS as a list, for the callable's `cors` option: firebase-functions resolves an Expression per
 * request (`runtimeValue`), so the setting is read at run time, not at module load. An empty list (or an invalid
 * setting) disables CORS.
 */
class AdminCorsOriginList extends Expression<string[]> {
  runtimeValue(): string[] {
    return parseCorsOrigins(adminCorsOrigins.value());
  }
  override toString(): string {
    return "params.ADMIN_CORS_ORIGINS.split(',')";
  }
}
export const adminCorsOriginList: Expression<string[]> = new AdminCorsOriginList();

// ---- Maintenance schedules ---------------------------------------------------------------------------------

/**
 * When `reconcileDaily` runs (Cloud Scheduler syntax, e.g. "every day 03:00" or cron "0 3 * * *"). onSchedule takes
 * a plain string at deploy time, so this is read from the environment (functions/.env.<project>: RECONCILE_SCHEDULE)
 * when the code is loaded, not as a runtime param.
 */
export const RECONCILE_SCHEDULE_DEFAULT = "every day 03:00";

export function reconcileSchedule(): string {
  const raw = process.env.RECONCILE_SCHEDULE?.trim();
  return raw ? raw : RECONCILE_SCHEDULE_DEFAULT;
}

/** The HubSpot read side (reconciliation): only HUBSPOT_TOKEN and HUBSPOT_BASE_URL, not the whole sync config. */
export function hubspotReadConfig(): { accessToken: string; basePath: string } {
  const parsed = syncConfigSchema.shape.hubspot.safeParse({ accessToken: hubspotToken.value(), basePath: hubspotBaseUrl.value() });
  if (!parsed.success) throw new ValidationError(`invalid configuration HUBSPOT_TOKEN / HUBSPOT_BASE_URL: ${parsed.error.issues[0]?.message}`, "HUBSPOT_TOKEN");
  return parsed.data;
}
