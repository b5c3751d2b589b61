/**
 * The Admin SDK app and the Firestore handle, created on first use (never at module load) with config/env.ts's options,
 * so tests and emulators can choose them. Composition lives here, not in store/: repositories take the handle.
 */
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { adminAppOptions } from "../config/env.js";

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
