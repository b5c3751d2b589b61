/** Small readers for assertions against the emulator. */
import type { Firestore } from "firebase-admin/firestore";

export async function data(db: Firestore, path: string): Promise<Record<string, unknown> | undefined> {
  return (await db.doc(path).get()).data();
}

export async function jobs(db: Firestore, filter: { kind?: string; eventId?: string } = {}) {
  let q: FirebaseFirestore.Query = db.collection("syncJobs");
  if (filter.kind) q = q.where("kind", "==", filter.kind);
  if (filter.eventId) q = q.where("cause.eventId", "==", filter.eventId);
  return (await q.get()).docs.map((d) => d.data());
}

export async function audits(db: Firestore, eventId?: string) {
  let q: FirebaseFirestore.Query = db.collection("auditLog");
  if (eventId) q = q.where("cause.eventId", "==", eventId);
  return (await q.get()).docs.map((d) => d.data());
}

export async function ledger(db: Firestore, eventId: string) {
  return (await db.doc(`stripeEvents/${eventId}`).get()).data();
}
