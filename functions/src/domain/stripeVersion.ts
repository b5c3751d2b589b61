/**
 * The one place the Stripe API version is pinned. The webhook endpoint in the Stripe dashboard should be
 * created with this version (README: "Point it at real Stripe"); the stripe SDK is constructed with it.
 * Events rendered in other versions are still applied where the fields opsync reads exist in either shape.
 */
export const STRIPE_API_VERSION = "2026-10-28.endive" as const;
