/** The default Admin SDK app, created on first use (firebase-functions creates a named app of its own). */
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";

let db: Firestore | null = null;

export function benchDb(): Firestore {
  if (db) return db;
  if (!getApps().some((app) => app.name === "[DEFAULT]")) initializeApp();
  db = getFirestore();
  return db;
}

/** Settings the bench passes to the emulator's CLI process; the functions emulator hands its env to workers. */
export function benchEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through \`npm run bench\` (scripts/emulators.ts exec --bench)`);
  return value;
}
