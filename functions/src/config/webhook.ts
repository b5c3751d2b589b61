/**
 * The Stripe webhook's settings (the ack path): signing secrets, the accepted mode, the grace period and the body
 * limit. Values are read inside handlers (never at module load) and validated, so a misconfiguration fails with a
 * message that names the setting.
 */
import { defineInt, defineSecret, defineString } from "firebase-functions/params";
import { z } from "zod";
import { ValidationError } from "../domain/errors.js";
import { isLocalProject } from "./env.js";

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

/** The value of `event.livemode` this deployment accepts (never live on the emulators or a demo-* project). */
export function acceptLivemodeConfig(): boolean {
  return z.enum(["test", "live"]).parse(stripeMode.value()) === "live" && !isLocalProject();
}
