/** Every deployed function, one file each under triggers/. */
export { stripeWebhook } from "./triggers/stripeWebhook.js";
export { onStripeEventRecorded } from "./triggers/onStripeEventRecorded.js";
export { sweepLedger } from "./triggers/sweepLedger.js";
export { sweepStripeEvents } from "./triggers/sweepStripeEvents.js";
export { reconcileDaily } from "./triggers/reconcileDaily.js";
export { onStripeCustomerMapped } from "./triggers/onStripeCustomerMapped.js";
export { onSyncJobWritten } from "./triggers/onSyncJobWritten.js";
export { runSyncJob } from "./triggers/runSyncJob.js";
export { sweepSyncJobs } from "./triggers/sweepSyncJobs.js";
export { onAutomationWritten } from "./triggers/onAutomationWritten.js";
export { onUserCreated } from "./triggers/onUserCreated.js";
export { onSupportRequestCreated } from "./triggers/onSupportRequestCreated.js";
export { onCustomerUpdated } from "./triggers/onCustomerUpdated.js";
export { onStaffNotesWritten } from "./triggers/onStaffNotesWritten.js";
export { fulfillOrder } from "./triggers/fulfillOrder.js";
export { adminApi } from "./triggers/adminApi.js";
export { adminCall } from "./triggers/adminCall.js";
