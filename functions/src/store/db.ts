/** Conversions between Firestore values and the domain's (the handle itself is built in services/runtime.ts). */
import { Timestamp } from "firebase-admin/firestore";

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
