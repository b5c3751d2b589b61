/**
 * The local Stripe API stand-in (read endpoints, pagination, rate limit, `__seed` / `__control`); the implementation
 * lives in ./stripe/ (server, store, lists, control). This path stays the import for tests and scripts/lib/localVendors.
 */
export { startStripeServer, type StripeLoggedRequest, type StripeServer, type StripeServerOptions } from "./stripe/server";
