/** Deployed entry point: a Stripe customer got its uid mapping; apply the events held for it. */
import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { log } from "../log.js";
import { releaseEventsHeldFor } from "../services/ledger.js";
import { COL } from "../store/paths.js";

export const onStripeCustomerMapped = onDocumentCreated(
  { document: `${COL.stripeCustomers}/{stripeCustomerId}`, retry: true },
  async (event) => {
    const stripeCustomerId = event.params.stripeCustomerId;
    const results = await releaseEventsHeldFor(stripeCustomerId);
    if (results.length) log.heldEventsReleased(stripeCustomerId, results.map((r) => r.status));
  },
);
