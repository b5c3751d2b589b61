/** Admin operation `resolveReview`: map a held Stripe customer to a uid and release its events (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import type { DocumentData, QueryDocumentSnapshot } from "firebase-admin/firestore";
import { isDryRun, jsonSafe } from "../../domain/adminOps.js";
import { log } from "../../log.js";
import { fromFirestore } from "../../store/db.js";
import { releaseHeldEventsForCustomer } from "../../store/heldEvents.js";
import { COL } from "../../store/paths.js";
import { auditEntry } from "./audit.js";
import { conflict, notFound } from "./errors.js";
import type { AdminResult, Handler } from "./types.js";
import { newAuditRef } from "../../store/audit.js";

export const resolveReview: Handler<"resolveReview"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const mapRef = db.collection(COL.stripeCustomers).doc(input.stripeCustomerId);
  const openItems = db
    .collection(COL.reviewQueue)
    .where("stripeCustomerId", "==", input.stripeCustomerId)
    .where("status", "==", "open")
    .orderBy("eventCreated", "asc");
  const item = (d: QueryDocumentSnapshot<DocumentData>) => ({
    eventId: d.id,
    eventType: d.get("eventType") ?? null,
    reason: d.get("reason") ?? null,
    eventCreated: d.get("eventCreated") ?? null,
  });
  const mappedTo = (uid: unknown): void => {
    if (typeof uid === "string" && uid !== input.uid) {
      throw conflict(`Stripe customer ${input.stripeCustomerId} is already mapped to uid ${uid}; a mapping is never moved`);
    }
  };
  if (!(await deps.auth.getUser(input.uid))) throw notFound(`no Firebase user ${input.uid}`);

  if (isDryRun("resolveReview", input)) {
    const [mapping, items] = await Promise.all([mapRef.get(), openItems.get()]);
    mappedTo(mapping.get("uid"));
    return {
      outcome: "dry_run",
      result: jsonSafe({
        operation: "resolveReview",
        dryRun: true,
        stripeCustomerId: input.stripeCustomerId,
        uid: input.uid,
        mapping: mapping.exists ? { uid: mapping.get("uid") ?? null, source: mapping.get("source") ?? null } : null,
        wouldCreateMapping: !mapping.exists,
        openItems: items.docs.map((d) => fromFirestore<Record<string, unknown>>(item(d))),
      }) as AdminResult,
    };
  }

  const auditRef = newAuditRef(db);
  const source = `admin:${caller.uid}`;
  // The mapping (written once, never moved) and its audit entry commit together; the open items are read in
  // the same transaction so the answer covers them even if the onStripeCustomerMapped trigger applies them first.
  const { created, itemIds } = await db.runTransaction(async (tx) => {
    const [mapping, items] = await Promise.all([tx.get(mapRef), tx.get(openItems)]);
    mappedTo(mapping.get("uid"));
    const ids = items.docs.map((d) => d.id);
    if (!mapping.exists) {
      tx.create(mapRef, { stripeCustomerId: input.stripeCustomerId, uid: input.uid, source, createdAt: now });
      tx.set(
        auditRef,
        auditEntry(caller, "resolveReview", {
          outcome: "applied",
          target: `${COL.stripeCustomers}/${input.stripeCustomerId}`,
          before: { uid: null },
          after: { uid: input.uid, source, applied: [] },
          at: now,
        }),
      );
    }
    return { created: !mapping.exists, itemIds: ids };
  });

  // Idempotent: an event the trigger already applied is skipped.
  const released = await releaseHeldEventsForCustomer(db, input.stripeCustomerId, { graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) });
  const ids = [...new Set([...itemIds, ...released.map((r) => r.eventId)])];
  const ledger = ids.length ? await db.getAll(...ids.map((id) => db.collection(COL.stripeEvents).doc(id))) : [];
  const results = ledger.map((snap) => ({ eventId: snap.id, eventType: snap.get("type") ?? null, status: snap.get("status") ?? null }));
  const applied = results.filter((r) => r.status === "applied").map((r) => r.eventId);
  if (created) {
    await auditRef.update({ "after.applied": applied });
  } else if (applied.length) {
    await auditRef.set(
      auditEntry(caller, "resolveReview", {
        outcome: "applied",
        target: `${COL.stripeCustomers}/${input.stripeCustomerId}`,
        before: { uid: input.uid },
        after: { uid: input.uid, applied },
        at: now,
      }),
    );
  }
  if (released.length) log.heldEventsReleased(input.stripeCustomerId, released.map((r) => r.status));
  return {
    outcome: created || applied.length ? "applied" : "unchanged",
    result: { operation: "resolveReview", dryRun: false, stripeCustomerId: input.stripeCustomerId, uid: input.uid, mappingCreated: created, applied, results },
  };
};
