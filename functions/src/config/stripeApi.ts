/**
 * The Stripe API key and base URL: replayEvent, the event sweep, revalidation reads and reconciliation. The key's
 * mode must match the events this project accepts.
 */
import { defineSecret, defineString } from "firebase-functions/params";
import { z } from "zod";
import { ValidationError } from "../domain/errors.js";
import { acceptLivemodeConfig } from "./webhook.js";

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
