/** Every deployed function, one file each under triggers/. */
export { stripeWebhook } from "./triggers/stripeWebhook.js";
export { onStripeCustomerMapped } from "./triggers/onStripeCustomerMapped.js";
