/**
 * Who a Stripe object belongs to. Order of trust: the Checkout Session's client_reference_id, then
 * `metadata.firebaseUid` on the object, then the stored stripeCustomers mapping, then the owner recorded for a
 * linked payment intent or charge. Email is never used: two people can share one, and one can change it.
 */
import type { OrderFacts, Subject } from "./normalize.js";
import type { StripeObjectDoc } from "./model.js";

export interface Owner {
  uid: string | null;
  order: OrderFacts | null;
  stripeCustomerId: string | null;
  source: "client_reference_id" | "metadata" | "mapping" | "linked_object" | null;
  conflict: string | null;
}

export function subjectCustomerId(subject: Subject): string | null {
  return "customerId" in subject ? subject.customerId : null;
}

/** Payment intents / charges whose recorded owner can identify this object (refunds, disputes, charges). */
export function linkedObjectIds(subject: Subject): string[] {
  const ids: string[] = [];
  if ("paymentIntentId" in subject && subject.paymentIntentId) ids.push(subject.paymentIntentId);
  if ("chargeId" in subject && subject.chargeId) ids.push(subject.chargeId);
  return ids;
}

export function resolveOwner(
  subject: Subject,
  lookup: { mappingUid: string | null; links: ReadonlyArray<StripeObjectDoc | null> },
): Owner {
  const stripeCustomerId = subjectCustomerId(subject);
  const links = lookup.links.filter((l): l is StripeObjectDoc => l !== null);
  const linkedOrderId = links.find((l) => l.orderId)?.orderId ?? null;
  const order: OrderFacts | null =
    ("order" in subject ? subject.order : null) ??
    (linkedOrderId ? { orderId: linkedOrderId, buyerUid: null, sellerUid: null } : null);

  const explicit =
    subject.kind === "checkout" && subject.clientReferenceId
      ? { uid: subject.clientReferenceId, source: "client_reference_id" as const }
      : subject.metadataUid
        ? { uid: subject.metadataUid, source: "metadata" as const }
        : null;

  if (explicit) {
    const conflict =
      lookup.mappingUid && lookup.mappingUid !== explicit.uid
        ? `Stripe customer ${stripeCustomerId} is mapped to uid ${lookup.mappingUid} but the event names uid ${explicit.uid} (${explicit.source})`
        : null;
    return { uid: explicit.uid, order, stripeCustomerId, source: explicit.source, conflict };
  }
  if (lookup.mappingUid) {
    return { uid: lookup.mappingUid, order, stripeCustomerId, source: "mapping", conflict: null };
  }
  const linkedUid = links.find((l) => l.uid)?.uid ?? null;
  if (linkedUid) {
    return {
      uid: linkedUid,
      order,
      stripeCustomerId: stripeCustomerId ?? links.find((l) => l.stripeCustomerId)?.stripeCustomerId ?? null,
      source: "linked_object",
      conflict: null,
    };
  }
  return { uid: null, order, stripeCustomerId, source: null, conflict: null };
}
