/**
 * Staff-only data about a customer lives in `customers/{uid}/staff/notes`, never on `customers/{uid}` (which the
 * customer reads). Records written before that split still carry it; this finds what has to move.
 */

/** Staff-only fields that older code wrote onto `customers/{uid}`. */
export interface LegacyStaffData {
  internalNotes?: unknown;
  lastEditedBy?: unknown;
  /** ticket key → the follow-up notes that were on `customers/{uid}.tickets.<key>.notes`. */
  ticketNotes: Record<string, unknown[]>;
}

/** What must move off the customer's record, or null when it holds nothing staff-only. */
export function legacyStaffData(customer: Record<string, unknown>): LegacyStaffData | null {
  const tickets = customer.tickets && typeof customer.tickets === "object" ? (customer.tickets as Record<string, unknown>) : {};
  const ticketNotes: Record<string, unknown[]> = {};
  for (const [key, ticket] of Object.entries(tickets)) {
    const notes = ticket && typeof ticket === "object" ? (ticket as Record<string, unknown>).notes : undefined;
    if (notes !== undefined) ticketNotes[key] = Array.isArray(notes) ? notes : [notes];
  }
  const has = (field: string) => Object.prototype.hasOwnProperty.call(customer, field);
  if (!has("internalNotes") && !has("lastEditedBy") && Object.keys(ticketNotes).length === 0) return null;
  return {
    ...(has("internalNotes") ? { internalNotes: customer.internalNotes } : {}),
    ...(has("lastEditedBy") ? { lastEditedBy: customer.lastEditedBy } : {}),
    ticketNotes,
  };
}
