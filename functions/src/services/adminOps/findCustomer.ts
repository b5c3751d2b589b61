/**
 * `findCustomer`: by email, uid, Stripe customer id or HubSpot contact id (exact values; lookup, never merge).
 * One match answers its card; several answer the list to choose from; an unmapped Stripe customer answers the
 * card of what is held for it. Amounts and billing detail are shaped away for support (domain/customerCard.ts);
 * support keeps the failed invoice's hosted link.
 */
import { jsonSafe, type AdminInput } from "../../domain/adminOps.js";
import { lookupsFor } from "../../domain/consoleOps.js";
import { customerTimeline, shapeCustomerCard, unmappedVerdict } from "../../domain/customerCard.js";
import { lookupCustomers, readCardDocs, readUnmappedLedger } from "../../store/customerLookup.js";
import type { ReadAnswer, ReadCtx } from "./consoleRead.js";

export async function findCustomer({ deps, caller, now }: ReadCtx, input: AdminInput<"findCustomer">): Promise<ReadAnswer> {
  const lookedUpBy = lookupsFor(input.query);
  const { matches, unmapped } = await lookupCustomers(deps.db, input.query, lookedUpBy);
  const base = { operation: "findCustomer", query: input.query, lookedUpBy, matches };
  const only = matches.length === 1 ? matches[0] : undefined;
  if (only) {
    const docs = await readCardDocs(deps.db, only.uid);
    if (docs) {
      const card = shapeCustomerCard({ uid: only.uid, ...docs, now }, caller.roles);
      return { outcome: "read", result: jsonSafe({ ...base, card }) as Record<string, unknown> };
    }
  }
  if (!matches.length && unmapped) {
    const ledger = await readUnmappedLedger(deps.db, unmapped.stripeCustomerId);
    const card = {
      uid: null,
      identity: { email: null, name: null, stripeCustomerId: unmapped.stripeCustomerId, crmContactId: null },
      verdict: unmappedVerdict(unmapped.stripeCustomerId, unmapped.heldEvents),
      heldEvents: unmapped.heldEvents,
      sync: [],
      openJobs: [],
      tickets: [],
      supportRequests: [],
      payment: null,
      timeline: customerTimeline([], ledger, 30),
    };
    return { outcome: "read", result: jsonSafe({ ...base, card }) as Record<string, unknown> };
  }
  return { outcome: "read", result: jsonSafe({ ...base, card: null }) as Record<string, unknown> };
}
