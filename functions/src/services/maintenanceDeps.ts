/**
 * Composition root for the maintenance runs in deployed functions (scheduled sweep and reconcile, the admin API's
 * reconcile): the Stripe read client and the CRM / claims read sides, each built on first use so a function that never
 * calls a vendor needs none of its secrets.
 */
import { getAuth } from "firebase-admin/auth";
import { stripeApiConfig } from "../config/stripeApi.js";
import { hubspotReadConfig } from "../config/sync.js";
import { FirebaseAuthClaims } from "../sinks/firebaseClaims.js";
import { HubspotCrm } from "../sinks/hubspot.js";
import type { ClaimsReadPort, CrmReadPort } from "../sinks/ports.js";
import { lazyStripeEvents, type StripeReadPort } from "../sinks/stripeApi.js";
import { ensureDefaultApp, getDb } from "./runtime.js";
import { readRefundStageIds } from "../store/hubspotSettings.js";

export function deployedReadPorts(): { stripe: StripeReadPort; crm: CrmReadPort; claims: ClaimsReadPort } {
  let crm: HubspotCrm | null = null;
  const hubspot = (): HubspotCrm => {
    if (crm) return crm;
    crm = new HubspotCrm({ ...hubspotReadConfig(), refundStages: () => readRefundStageIds(getDb()) });
    return crm;
  };
  return {
    stripe: lazyStripeEvents(stripeApiConfig),
    crm: { readContacts: (uids) => hubspot().readContacts(uids), readDeals: (keys) => hubspot().readDeals(keys), dealStageId: (stage) => hubspot().dealStageId(stage) },
    claims: new FirebaseAuthClaims(() => {
      ensureDefaultApp();
      return getAuth();
    }),
  };
}
