/**
 * Revalidation: when two events of one Stripe object cannot be ordered (same second, same lifecycle step,
 * different content), fetch the object from the Stripe API and apply it as the authoritative snapshot.
 */
import { PermanentError } from "../domain/errors.js";
import { isSubjectKind, normalizeObject } from "../domain/normalize.js";
import { STRIPE_API_VERSION } from "../domain/stripeVersion.js";
import { applyApiSnapshot } from "../store/apiSnapshot.js";
import type { JobDoc } from "../store/jobs.js";
import type { Firestore } from "firebase-admin/firestore";
import type { StripeObjectsPort } from "../sinks/ports.js";

export interface RevalidateDeps {
  db: Firestore;
  stripe: StripeObjectsPort | null;
  now?: () => Date;
  graceDays?: number;
}

export async function revalidateObject(deps: RevalidateDeps, job: JobDoc): Promise<Record<string, string>> {
  const { stripeObjectId: id, stripeObjectKind: kind, uid, orderId } = job.target;
  if (!id || !kind || !isSubjectKind(kind)) throw new PermanentError("revalidation job names no Stripe object");
  if (!deps.stripe) throw new PermanentError("no Stripe API client is configured (STRIPE_SECRET_KEY): cannot revalidate");
  const fetchedAt = Math.floor((deps.now?.() ?? new Date()).getTime() / 1000);
  const object = await deps.stripe.retrieveObject(kind === "checkout" ? "checkout_session" : kind, id);
  if (!object) throw new PermanentError(`Stripe has no ${kind} ${id} (wrong account or mode?)`);
  const normalized = normalizeObject(kind, object, fetchedAt, STRIPE_API_VERSION);
  if (normalized.outcome !== "normalized") throw new PermanentError(`Stripe's ${kind} ${id} cannot be read: ${normalized.outcome === "ignored" ? "ignored" : normalized.reason}`);
  const status = await applyApiSnapshot(deps.db, {
    subject: normalized.event.subject,
    fetchedAt,
    owner: { uid: uid ?? null, orderId: orderId ?? null },
    cause: `revalidate_${job.jobId}`,
    graceDays: deps.graceDays ?? 3,
    now: deps.now?.() ?? new Date(),
  });
  // Nobody owns the object (the job names neither a uid nor an order): nothing was written; say so as a dead job.
  if (status === "failed") throw new PermanentError(`revalidation of ${kind} ${id} has no owner (the job names no uid or order)`);
  return { revalidated: id, status };
}
