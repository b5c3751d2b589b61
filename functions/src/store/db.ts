/** Conversions between Firestore values and the domain's (the handle itself is built in services/runtime.ts). */
import { Timestamp, type Firestore } from "firebase-admin/firestore";

/** Firestore Timestamps become Dates for the domain; everything else is passed through. */
export function fromFirestore<T>(value: unknown): T {
  return convert(value) as T;
}

function convert(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate();
  if (Array.isArray(value)) return value.map(convert);
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v)]));
  }
  return value;
}

/** One document as plain data (Timestamps as Dates), or null when it does not exist. */
export async function readDoc<T = Record<string, unknown>>(db: Firestore, path: string): Promise<T | null> {
  const snap = await db.doc(path).get();
  return snap.exists ? fromFirestore<T>(snap.data()) : null;
}
