/** Job ids are derived from the cause, so re-running the same event's transaction cannot add a second job. */
import type { JobSpec } from "./model.js";

export function jobId(eventId: string, spec: JobSpec): string {
  const t = spec.target;
  const target = [t.uid, t.orderId, t.subscriptionId, t.invoiceId, t.disputeId, t.alertId, t.ticketRequestId, t.supportRequestId, t.stripeObjectId]
    .filter(Boolean)
    .join("_");
  // Firestore ids cannot contain "/"; keep them readable in the console.
  return `${eventId}.${spec.kind}.${target}`.replace(/[/\s]/g, "_").slice(0, 1400);
}
