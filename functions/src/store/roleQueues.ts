/**
 * The queries behind `listQueue`: one indexed, cursor-paged query per queue kind (oldest first, ties broken by
 * document id), plus the documents an item needs beside it (a delinquent customer's billing, the holder of a
 * dispute), read with one getAll per page. Never a scan: every query is limited.
 */
import { FieldPath, Timestamp, type DocumentSnapshot, type Firestore, type Query, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import type { QueueCursor, QueueKind } from "../domain/consoleOps.js";
import type { QueueSource } from "../domain/roleQueues.js";
import { fromFirestore } from "./db.js";
import { COL, billingPath } from "./paths.js";

type Doc = Record<string, unknown>;

/** Support requests still in someone's hands (a rejected one has no ticket to follow). */
const OPEN_REQUEST_STATUSES = ["received", "ticket_created", "notified"];

/** Each kind's query and the field it is ordered by (then by document id). */
function queryOf(db: Firestore, kind: QueueKind): { query: Query; sortField: string } {
  switch (kind) {
    case "alert":
      return {
        sortField: "createdAt",
        query: db.collection(COL.alerts).where("status", "==", "open").orderBy("createdAt", "asc").orderBy(FieldPath.documentId(), "asc"),
      };
    case "unmapped_customer":
      return {
        sortField: "createdAt",
        query: db.collection(COL.reviewQueue).where("reason", "==", "unmapped_customer").where("status", "==", "open").orderBy("createdAt", "asc").orderBy(FieldPath.documentId(), "asc"),
      };
    case "refund_request":
      return {
        sortField: "createdAt",
        query: db.collection(COL.reviewQueue).where("reason", "==", "refund_requested").where("status", "==", "open").orderBy("createdAt", "asc").orderBy(FieldPath.documentId(), "asc"),
      };
    case "failed_payment":
      return {
        sortField: "updatedAt",
        query: db.collection(COL.customers).where("delinquent", "==", true).orderBy("updatedAt", "asc").orderBy(FieldPath.documentId(), "asc"),
      };
    case "support_request":
      return {
        sortField: "createdAt",
        query: db.collection(COL.supportRequests).where("status", "in", OPEN_REQUEST_STATUSES).orderBy("createdAt", "asc").orderBy(FieldPath.documentId(), "asc"),
      };
    case "dispute":
      return {
        sortField: "created",
        query: db.collection(COL.stripeEvents).where("type", "==", "charge.dispute.created").orderBy("created", "asc").orderBy(FieldPath.documentId(), "asc"),
      };
  }
}

/** A Timestamp sort value as `seconds:nanos`, exact (a Date would lose the microseconds of server timestamps). */
function sortValueOf(snap: QueryDocumentSnapshot, field: string): string | number | null {
  const v: unknown = snap.get(field);
  if (v instanceof Timestamp) return `${v.seconds}:${v.nanoseconds}`;
  return typeof v === "number" || typeof v === "string" ? v : null;
}

function fromSortValue(v: string | number | null): unknown {
  if (typeof v === "string") {
    const m = /^(-?\d+):(\d+)$/.exec(v);
    if (m) return new Timestamp(Number(m[1]), Number(m[2]));
  }
  return v;
}

export interface QueueSlice {
  sources: QueueSource[];
  /** Documents the query returned (before closed items were dropped): fewer than asked means the kind is done. */
  fetched: number;
  last: QueueCursor | null;
}

/** Up to `limit` documents of one kind after `after` (null: from the start), with their related documents. */
export async function readQueueSlice(db: Firestore, kind: QueueKind, after: QueueCursor | null, limit: number): Promise<QueueSlice> {
  const { query, sortField } = queryOf(db, kind);
  const page = after ? query.startAfter(fromSortValue(after.sort), after.id) : query;
  const snap = await page.limit(limit).get();
  const docs = snap.docs;
  const relatedPaths = docs.map((d) => relatedPath(kind, d));
  const wanted = relatedPaths.filter((p): p is string => p !== null);
  const relatedSnaps: DocumentSnapshot[] = wanted.length ? await db.getAll(...wanted.map((p) => db.doc(p))) : [];
  const byPath = new Map(relatedSnaps.map((s) => [s.ref.path, s.exists ? fromFirestore<Doc>(s.data()) : null]));
  const lastDoc = docs.at(-1);
  return {
    sources: docs.map((d, i) => {
      const path = relatedPaths[i];
      return { id: d.id, data: fromFirestore<Doc>(d.data()), related: path ? (byPath.get(path) ?? null) : null };
    }),
    fetched: docs.length,
    last: lastDoc ? { kind, sort: sortValueOf(lastDoc, sortField), id: lastDoc.id } : null,
  };
}

function relatedPath(kind: QueueKind, d: QueryDocumentSnapshot): string | null {
  if (kind === "failed_payment") return billingPath(d.id);
  if (kind !== "dispute") return null;
  const orderId: unknown = d.get("orderId");
  const uid: unknown = d.get("uid");
  if (typeof orderId === "string" && orderId) return `${COL.orders}/${orderId}`;
  return typeof uid === "string" && uid ? billingPath(uid) : null;
}

/** How many open items each kind holds (count() aggregations), for the tabs of the console. */
export async function countQueueKinds(db: Firestore, kinds: readonly QueueKind[]): Promise<Partial<Record<QueueKind, number>>> {
  const counts = await Promise.all(kinds.map(async (k) => (await queryOf(db, k).query.count().get()).data().count));
  return Object.fromEntries(kinds.map((k, i) => [k, counts[i] ?? 0]));
}
