/** Test access to the Firestore emulator: an Admin SDK handle and a data reset between tests. */
import { getApps, initializeApp } from "firebase-admin/app";
import type { Firestore } from "firebase-admin/firestore";
import { getDb } from "../../functions/src/services/runtime";

export const PROJECT_ID = process.env.GCLOUD_PROJECT ?? "demo-opsync";

export function testDb(): Firestore {
  if (!process.env.FIRESTORE_EMULATOR_HOST) throw new Error("FIRESTORE_EMULATOR_HOST is not set; run through npm test");
  if (!getApps().some((app) => app.name === "[DEFAULT]")) initializeApp({ projectId: PROJECT_ID });
  return getDb();
}

export async function resetFirestore(): Promise<void> {
  const host = process.env.FIRESTORE_EMULATOR_HOST;
  const res = await fetch(`http://${host}/emulator/v1/projects/${PROJECT_ID}/databases/(default)/documents`, {
    method: "DELETE",
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`emulator reset failed: ${res.status}`);
}

export async function countDocs(db: Firestore, collection: string): Promise<number> {
  const snap = await db.collection(collection).count().get();
  return snap.data().count;
}

/** Every document in the database, as path → data (small test databases only). */
export async function dumpAll(db: Firestore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const walk = async (cols: FirebaseFirestore.CollectionReference[]) => {
    for (const col of cols) {
      const refs = await col.listDocuments();
      for (const ref of refs) {
        const snap = await ref.get();
        if (snap.exists) out[ref.path] = snap.data();
        await walk(await ref.listCollections());
      }
    }
  };
  await walk(await db.listCollections());
  return out;
}
