/** Collection names, all of them in one table: part of opsync's contract (docs/data-model.md). */
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
  // The sync queue's state: one incident or signal alert per cause, each sink's 429 block / auth pause, each vendor
  // account's shared budget.
  alerts: "alerts",
  sinkState: "sinkState",
  vendorBudgets: "vendorBudgets",
  // The admin API's own: per-caller rate-limit windows (and failed-auth counters), hashed API keys.
  rateLimits: "rateLimits",
  apiKeys: "apiKeys",
} as const;

export const billingPath = (uid: string) => `${COL.customers}/${uid}/private/billing`;
/** The latest known state of each of the owner's Stripe objects (domain/snapshots.ts). */
export const customerSnapshotsPath = (uid: string) => `${COL.customers}/${uid}/private/stripe`;
export const orderSnapshotsPath = (orderId: string) => `${COL.orders}/${orderId}/private/stripe`;

/** Staff-only notes about a customer (internalNotes, ticket follow-up notes): support and admin read it, the customer never. */
export const STAFF_NOTES = { collection: "staff", doc: "notes" } as const;
export const staffNotesPath = (uid: string) => `${COL.customers}/${uid}/${STAFF_NOTES.collection}/${STAFF_NOTES.doc}`;

export const AUTOMATION_DOC = `${COL.ops}/automation`;
