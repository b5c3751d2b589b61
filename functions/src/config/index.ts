/**
 * The only place that reads params, secrets and the environment, split by concern (one file each). Triggers bind
 * the secrets and options they need at deploy time; services read validated values inside handlers. Nothing below
 * services/ imports config (eslint.config.mjs); values are passed down.
 */
export * from "./admin.js";
export * from "./alerts.js";
export * from "./budgets.js";
export * from "./env.js";
export * from "./stripeApi.js";
export * from "./sync.js";
export * from "./webhook.js";
