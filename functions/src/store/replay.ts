/**
 * Replay from the ledger: a customer's record rebuilt from the normalized events the ledger holds for them, through
 * the domain apply (each event in Stripe order onto an empty snapshot set, with the same ordering rules), then the
 * record re-derived from that set against what is stored — so after the derivation rules change, a replay writes
 * the record the events imply, and its jobs and audit entries, in one transaction.
 */
import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { applyEvent, recomputeCustomer } from "../domain/apply.js";
import type { BillingDoc, CustomerDoc, LedgerStatus } from "../domain/model.js";
import type { NormalizeResult, NormalizedEvent } from "../domain/normalize.js";
import { emptySet, type SnapshotSet } from "../domain/snapshots.js";
import { diffFields } from "../domain/diff.js";
import { fromFirestore } from "./db.js";
import { writePlan } from "./ingest.js";
import { COL, billingPath, customerSnapshotsPath } from "./paths.js";

export interface LedgerRow {
  eventId: string;
  status: LedgerStatus;
  uid: string | null;
  orderId: string | null;
  created: Date;
  normalized: NormalizeResult | null;
}

function row(id: string, data: Record<string, unknown>): LedgerRow {
  const n = data.normalized;
  return {
    eventId: id,
    status: data.status as LedgerStatus,
    uid: typeof data.uid === "string" ? data.uid : null,
    orderId: typeof data.orderId === "string" ? data.orderId : null,
    created: data.created instanceof Timestamp ? data.created.toDate() : new Date(0),
    normalized: n && typeof n === "object" && "outcome" in n ? fromFirestore<NormalizeResult>(n) : null,
  };
}

export async function ledgerRowsOfCustomer(db: Firestore, uid: string): Promise<LedgerRow[]> {
  const snap = await db.collection(COL.stripeEvents).where("uid", "==", uid).get();
  return snap.docs.map((d) => row(d.id, d.data()));
}

export async function ledgerRow(db: Firestore, eventId: string): Promise<LedgerRow | null> {
  const snap = await db.collection(COL.stripeEvents).doc(eventId).get();
  return snap.exists ? row(snap.id, snap.data() ?? {}) : null;
}

export async function ledgerRowsBetween(db: Firestore, since: Date, until: Date, limit: number): Promise<LedgerRow[]> {
  const snap = await db.collection(COL.stripeEvents).where("created", ">=", since).where("created", "<", until).orderBy("created").limit(limit).get();
  return snap.docs.map((d) => row(d.id, d.data()));
}

const RANK = (type: string) => (type.endsWith(".created") ? 0 : type.endsWith(".deleted") ? 2 : 1);

/** Stripe order: created second, then lifecycle step, then id (only to be stable; ids carry no order). */
export function stripeOrder(a: NormalizedEvent, b: NormalizedEvent): number {
  return a.meta.created - b.meta.created || RANK(a.meta.type) - RANK(b.meta.type) || (a.meta.id < b.meta.id ? -1 : a.meta.id > b.meta.id ? 1 : 0);
}

export interface RebuildResult {
  uid: string;
  events: number;
  changed: boolean;
  /** Changed fields of customers/{uid}: what the stored record says, what the events imply. */
  diff: { before: Record<string, unknown>; after: Record<string, unknown> } | null;
  jobIds: string[];
}

export async function rebuildCustomer(
  db: Firestore,
  input: { uid: string; events: NormalizedEvent[]; now: Date; graceDays: number; cause: string; dryRun: boolean },
): Promise<RebuildResult> {
  const { uid, now, graceDays } = input;
  const events = [...input.events].sort(stripeOrder);
  return db.runTransaction(async (tx) => {
    const [c, b, s] = await tx.getAll(db.collection(COL.customers).doc(uid), db.doc(billingPath(uid)), db.doc(customerSnapshotsPath(uid)));
    const customer = c?.exists ? fromFirestore<CustomerDoc>(c.data()) : null;
    const billing = b?.exists ? fromFirestore<BillingDoc>(b.data()) : null;
    const storedSet = s?.exists ? fromFirestore<SnapshotSet>(s.data()) : null;
    let set: SnapshotSet = emptySet();
    for (const event of events) {
      const owner = { uid, order: null, stripeCustomerId: "customerId" in event.subject ? event.subject.customerId : null, source: "mapping" as const, conflict: null };
      const plan = applyEvent({ event, now, graceDays, owner, mappingUid: uid, customer, billing, order: null, snapshots: set });
      set = plan.snapshots?.set ?? set;
    }
    const base = customer ?? null;
    if (!base) return { uid, events: events.length, changed: false, diff: null, jobIds: [] };
    const plan = recomputeCustomer({ uid, now, graceDays, customer: base, billing, snapshots: set, cause: input.cause });
    const diff = plan.customer ? diffFields(base, plan.customer.after, ["updatedAt", "createdAt", "sync", "stripeState", "claimsVersion"]) : null;
    const setChanged = diffFields(storedSet?.objects ?? {}, set.objects, []) !== null;
    const changed = Boolean(plan.customer || plan.billing || setChanged);
    if (input.dryRun || !changed) return { uid, events: events.length, changed, diff, jobIds: [] };
    // writePlan reads the live jobs first: every other write of this transaction comes after it.
    const jobIds = await writePlan(db, tx, plan, null, now, "replay");
    tx.set(db.doc(customerSnapshotsPath(uid)), { ...set, updatedAt: now });
    for (const e of events) tx.update(db.collection(COL.stripeEvents).doc(e.meta.id), { replayedAt: now });
    return { uid, events: events.length, changed, diff, jobIds };
  });
}
