/** Notification jobs planned outside a transaction of their own: created once per key, never reset once delivered. */
import type { Firestore } from "firebase-admin/firestore";
import type { JobSpec } from "../domain/model.js";
import type { JobDoc } from "./jobs.js";
import { jobRef, newJobDoc, notifyJobId } from "./jobs.js";

/** True when this call created the job (false: a job for `key` exists already, delivered or not). */
export async function planNoticeOnce(db: Firestore, key: string, target: JobSpec["target"], text: string, cause: JobDoc["cause"], now: Date): Promise<boolean> {
  const id = notifyJobId(key);
  const spec: JobSpec = { kind: "notify.slack", target, idempotencyKey: key, reason: "review", text };
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(jobRef(db, id));
    if (snap.exists) return false;
    tx.create(jobRef(db, id), newJobDoc(id, spec, cause, now));
    return true;
  });
}
