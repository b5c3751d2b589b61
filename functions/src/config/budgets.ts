/**
 * One budget per vendor account (domain/budget.ts; docs/architecture.md "Vendor budgets"): what opsync may spend in
 * the HubSpot portal, the Zendesk account, Slack, Firebase Auth and the Stripe API. Errors name the param.
 */
import { defineInt, defineString } from "firebase-functions/params";
import { z } from "zod";
import { HUBSPOT_REQUESTS_PER_10S, HUBSPOT_TIERS, type VendorAccount, type VendorLimit } from "../domain/budget.js";
import { ValidationError } from "../domain/errors.js";

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
