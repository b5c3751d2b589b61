/** Collection names: part of opsync's contract (docs/data-model.md). */
export const COL = {
  customers: "customers",
  stripeCustomers: "stripeCustomers",
  stripeEvents: "stripeEvents",
  stripeObjects: "stripeObjects",
  orders: "orders",
  syncJobs: "syncJobs",
  auditLog: "auditLog",
  reviewQueue: "reviewQueue",
  ops: "ops",
  supportRequests: "supportRequests",
} as const;

export const billingPath = (uid: string) => `${COL.customers}/${uid}/private/billing`;
/** The latest known state of each of the owner's Stripe objects (domain/snapshots.ts). */
export const customerSnapshotsPath = (uid: string) => `${COL.customers}/${uid}/private/stripe`;
export const orderSnapshotsPath = (orderId: string) => `${COL.orders}/${orderId}/private/stripe`;

/** Staff-only notes about a customer (internalNotes, ticket follow-up notes): support and admin read it, the customer never. */
export const STAFF_NOTES = { collection: "staff", doc: "notes" } as const;
export const staffNotesPath = (uid: string) => `${COL.customers}/${uid}/${STAFF_NOTES.collection}/${STAFF_NOTES.doc}`;

export const SYNC_COL = {
  alerts: "alerts",
  sinkState: "sinkState",
} as const;

export const AUTOMATION_DOC = `${COL.ops}/automation`;
