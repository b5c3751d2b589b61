/** Admin operation `resolveReview`: map a held Stripe customer to a uid and release its events (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import { isDryRun, jsonSafe } from "../../domain/adminOps.js";
import { log } from "../../log.js";
import { readLedgerOutcomes } from "../../store/adminReads.js";
import { createMapping, readMappingAndHeldItems } from "../../store/customerMappings.js";
import { releaseHeldEventsForCustomer } from "../../store/heldEvents.js";
import { COL } from "../../store/paths.js";
import { auditEntry } from "./audit.js";
import { conflict, notFound } from "./errors.js";
import type { AdminResult, Handler } from "./types.js";
import { amendAudit, audit, newAuditRef } from "../../store/audit.js";

export const resolveReview: Handler<"resolveReview"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const mappedTo = (uid: unknown): void => {
    if (typeof uid === "string" && uid !== input.uid) {
      throw conflict(`Stripe customer ${input.stripeCustomerId} is already mapped to uid ${uid}; a mapping is never moved`);
    }
  };
  if (!(await deps.auth.getUser(input.uid))) throw notFound(`no Firebase user ${input.uid}`);

  if (isDryRun("resolveReview", input)) {
    const { mapping, items } = await readMappingAndHeldItems(db, input.stripeCustomerId);
    mappedTo(mapping?.uid);
    return {
      outcome: "dry_run",
      result: jsonSafe({
        operation: "resolveReview",
        dryRun: true,
        stripeCustomerId: input.stripeCustomerId,
        uid: input.uid,
        mapping,
        wouldCreateMapping: mapping === null,
        openItems: items,
      }) as AdminResult,
    };
  }

  const auditRef = newAuditRef(db);
  const source = `admin:${caller.uid}`;
  // The mapping (written once, never moved) and its audit entry commit together; the open items are read in
  // the same transaction so the answer covers them even if the onStripeCustomerMapped trigger applies them first.
  const { created, itemIds } = await createMapping(
    db,
    { stripeCustomerId: input.stripeCustomerId, uid: input.uid, source, now, auditRef },
    {
      check: mappedTo,
      audit: auditEntry(caller, "resolveReview", {
        outcome: "applied",
        target: `${COL.stripeCustomers}/${input.stripeCustomerId}`,
        before: { uid: null },
        after: { uid: input.uid, source, applied: [] },
        at: now,
      }),
    },
  );

  // Idempotent: an event the trigger already applied is skipped.
  const released = await releaseHeldEventsForCustomer(db, input.stripeCustomerId, { graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) });
  const ids = [...new Set([...itemIds, ...released.map((r) => r.eventId)])];
  const results = await readLedgerOutcomes(db, ids);
  const applied = results.filter((r) => r.status === "applied").map((r) => r.eventId);
  if (created) {
    await amendAudit(auditRef, { "after.applied": applied });
  } else if (applied.length) {
    await audit(
      db,
      auditEntry(caller, "resolveReview", {
        outcome: "applied",
        target: `${COL.stripeCustomers}/${input.stripeCustomerId}`,
        before: { uid: input.uid },
        after: { uid: input.uid, applied },
        at: now,
      }),
      auditRef,
    );
  }
  if (released.length) log.heldEventsReleased(input.stripeCustomerId, released.map((r) => r.status));
  return {
    outcome: created || applied.length ? "applied" : "unchanged",
    result: { operation: "resolveReview", dryRun: false, stripeCustomerId: input.stripeCustomerId, uid: input.uid, mappingCreated: created, applied, results },
  };
};
