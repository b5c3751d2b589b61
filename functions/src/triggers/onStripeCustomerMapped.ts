/** Deployed entry point: a Stripe customer got its uid mapping; apply the events held for it. */
import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { log } from "../log.js";
import { graceDaysConfig } from "../config.js";
import { getDb } from "../store/db.js";
import { releaseHeldEventsForCustomer } from "../store/heldEvents.js";
import { COL } from "../store/paths.js";

export const onStripeCustomerMapped = onDocumentCreated(
  { document: `${COL.stripeCustomers}/{stripeCustomerId}`, retry: true },
  async (event) => {
    const stripeCustomerId = event.params.stripeCustomerId;
    const results = await releaseHeldEventsForCustomer(getDb(), stripeCustomerId, { graceDays: graceDaysConfig() });
    if (results.length) log.heldEventsReleased(stripeCustomerId, results.map((r) => r.status));
  },
);
