/** Reading Firestore documents the demo checks, without trusting their shape. */
import { Timestamp, type Firestore } from "firebase-admin/firestore";

const FIRESTORE_TIMEOUT_MS = 15_000;
// ---------------------------------------------------------------------------------------------------------------
// Reading Firestore documents without trusting their shape

export type Fields = Record<string, unknown>;
export const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
export const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
export const bool = (v: unknown): boolean | null => (typeof v === "boolean" ? v : null);
export const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
export const date = (v: unknown): Date | null => (v instanceof Timestamp ? v.toDate() : null);
export const record = (v: unknown): Fields => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Fields) : {});

export interface CustomerView {
  exists: boolean;
  plan: string | null;
  subscriptionStatus: string | null;
  entitlements: string[];
  delinquent: boolean | null;
  cancelAtPeriodEnd: boolean | null;
  lastPaymentAt: Date | null;
  supportTier: string | null;
  stripeCustomerId: string | null;
  sync: Record<string, string>;
  crmContactId: string | null;
  crmDealIds: Record<string, string>;
  /** Helpdesk ticket ids by request id (failed renewals). */
  tickets: Record<string, string>;
  updatedAt: Date | null;
}

export interface OrderView {
  exists: boolean;
  status: string | null;
  amount: number | null;
  amountRefunded: number | null;
  buyerUid: string | null;
  sellerUid: string | null;
  history: string[];
  rejected: number;
  crmDealId: string | null;
}

/** Firestore calls have no abort signal; a stuck emulator must still end the demo. */
export function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${FIRESTORE_TIMEOUT_MS / 1000} s`)), FIRESTORE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function readCustomer(db: Firestore, uid: string): Promise<CustomerView> {
  const snap = await withTimeout(db.doc(`customers/${uid}`).get(), `reading customers/${uid}`);
  const d: Fields = snap.data() ?? {};
  const sync = Object.fromEntries(Object.entries(record(d.sync)).map(([sink, s]) => [sink, str(record(s).status) ?? "?"]));
  return {
    exists: snap.exists,
    plan: str(d.plan),
    subscriptionStatus: str(d.subscriptionStatus),
    entitlements: strings(d.entitlements),
    delinquent: bool(d.delinquent),
    cancelAtPeriodEnd: bool(d.cancelAtPeriodEnd),
    lastPaymentAt: date(d.lastPaymentAt),
    supportTier: str(d.supportTier),
    stripeCustomerId: str(d.stripeCustomerId),
    sync,
    crmContactId: str(d.crmContactId),
    crmDealIds: stringValues(d.crmDealIds),
    tickets: ticketIds(d.tickets),
    updatedAt: date(d.updatedAt),
  };
}

export function stringValues(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(v)).filter((e): e is [string, string] => typeof e[1] === "string"));
}

export function ticketIds(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(v)).map(([requestId, t]) => [requestId, str(record(t).ticketId) ?? "?"]));
}

export async function readOrder(db: Firestore, orderId: string): Promise<OrderView> {
  const snap = await withTimeout(db.doc(`orders/${orderId}`).get(), `reading orders/${orderId}`);
  const d: Fields = snap.data() ?? {};
  const history = Array.isArray(d.history)
    ? d.history.map((h: unknown) => `${str(record(h).from) ?? "new"}→${str(record(h).to) ?? "?"}`)
    : [];
  return {
    exists: snap.exists,
    status: str(d.status),
    amount: num(d.amount),
    amountRefunded: num(d.amountRefunded),
    buyerUid: str(d.buyerUid),
    sellerUid: str(d.sellerUid),
    history,
    rejected: Array.isArray(d.rejectedTransitions) ? d.rejectedTransitions.length : 0,
    crmDealId: str(d.crmDealId),
  };
}

/** Documents whose `field` is one of `values` (the collections also hold earlier runs). `in` takes at most 30 values. */
export async function docsWhereIn(db: Firestore, collection: string, field: string, values: string[]): Promise<Array<{ id: string; data: Fields }>> {
  const out: Array<{ id: string; data: Fields }> = [];
  for (let i = 0; i < values.length; i += 30) {
    const chunk = values.slice(i, i + 30);
    const snap = await withTimeout(db.collection(collection).where(field, "in", chunk).get(), `querying ${collection}`);
    for (const doc of snap.docs) out.push({ id: doc.id, data: doc.data() });
  }
  return out;
}

/** Documents caused by this run's events. */
export async function docsCausedBy(db: Firestore, collection: string, eventIds: string[]): Promise<Fields[]> {
  return (await docsWhereIn(db, collection, "cause.eventId", eventIds)).map((d) => d.data);
}

export async function reviewItemsFor(db: Firestore, eventIds: string[]): Promise<number> {
  const refs = eventIds.map((id) => db.doc(`reviewQueue/${id}`));
  const snaps = await withTimeout(db.getAll(...refs), "reading reviewQueue");
  return snaps.filter((s) => s.exists).length;
}

