/** Firestore handle, created on first use (never at module load) so tests and emulators can choose it. */
import { getApps, initializeApp } from "firebase-admin/app";
import { Timestamp, getFirestore, type Firestore } from "firebase-admin/firestore";
import { adminAppOptions } from "../config.js";

let db: Firestore | null = null;

export function getDb(): Firestore {
  if (db) return db;
  // firebase-functions creates a named app of its own for Firestore triggers; only the default app counts.
  ensureDefaultApp();
  db = getFirestore();
  db.settings({ ignoreUndefinedProperties: true });
  return db;
}

/** The default Admin SDK app, created on first use. */
export function ensureDefaultApp(): void {
  if (!getApps().some((app) => app.name === "[DEFAULT]")) initializeApp(adminAppOptions());
}

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
