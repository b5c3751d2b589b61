/**
 * Mapping a held Stripe customer to a uid by hand (admin resolveReview): the mapping `stripeCustomers/{cus}` (written
 * once, never moved) and the review items it releases. The caller decides whether an existing mapping is a
 * conflict; this reads and writes.
 */
import type { DocumentReference, Firestore } from "firebase-admin/firestore";
import { auditIn, type AuditEntry } from "./audit.js";
import { fromFirestore } from "./db.js";
import { COL } from "./paths.js";

export interface HeldItem {
  eventId: string;
  eventType: unknown;
  reason: unknown;
  eventCreated: unknown;
}

const mappingRef = (db: Firestore, stripeCustomerId: string) => db.collection(COL.stripeCustomers).doc(stripeCustomerId);

/** The customer's open review items, oldest Stripe event first. */
const openItemsQuery = (db: Firestore, stripeCustomerId: string) =>
  db.collection(COL.reviewQueue).where("stripeCustomerId", "==", stripeCustomerId).where("status", "==", "open").orderBy("eventCreated", "asc");

/** The mapping as stored (null when absent) and the open items it would release. */
export async function readMappingAndHeldItems(
  db: Firestore,
  stripeCustomerId: string,
): Promise<{ mapping: { uid: unknown; source: unknown } | null; items: HeldItem[] }> {
  const [mapping, items] = await Promise.all([mappingRef(db, stripeCustomerId).get(), openItemsQuery(db, stripeCustomerId).get()]);
  return {
    mapping: mapping.exists ? { uid: mapping.get("uid") ?? null, source: mapping.get("source") ?? null } : null,
    items: items.docs.map((d) =>
      fromFirestore<HeldItem>({ eventId: d.id, eventType: d.get("eventType") ?? null, reason: d.get("reason") ?? null, eventCreated: d.get("eventCreated") ?? null }),
    ),
  };
}

/**
 * Creates the mapping with its audit entry in one commit unless one exists; `check(existingUid)` may throw (a mapping
 * to another uid). The open items are read in the same transaction, so the answer covers them even if the
 * onStripeCustomerMapped trigger applies them first.
 */
export async function createMapping(
  db: Firestore,
  m: { stripeCustomerId: string; uid: string; source: string; now: Date; auditRef: DocumentReference },
  decide: { check: (existingUid: unknown) => void; audit: AuditEntry },
): Promise<{ created: boolean; itemIds: string[] }> {
  const ref = mappingRef(db, m.stripeCustomerId);
  return db.runTransaction(async (tx) => {
    const [mapping, items] = await Promise.all([tx.get(ref), tx.get(openItemsQuery(db, m.stripeCustomerId))]);
    decide.check(mapping.get("uid"));
    if (!mapping.exists) {
      tx.create(ref, { stripeCustomerId: m.stripeCustomerId, uid: m.uid, source: m.source, createdAt: m.now });
      auditIn(db, tx, decide.audit, m.auditRef);
    }
    return { created: !mapping.exists, itemIds: items.docs.map((d) => d.id) };
  });
}
