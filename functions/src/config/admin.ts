/**
 * The admin API (adminApi, adminCall): allowed browser origins, the per-caller rate limit and the failed-
 * authentication limit. Read per request and validated; errors name the setting.
 */
import { Expression, defineInt, defineString } from "firebase-functions/params";
import { z } from "zod";
import { ValidationError } from "../domain/errors.js";
import { acceptLivemodeConfig, graceDaysConfig } from "./webhook.js";

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
