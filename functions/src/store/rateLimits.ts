/** Fixed-window counters in `rateLimits/{key}` shared by every function instance (docs/admin-api.md). */
import type { Firestore } from "firebase-admin/firestore";
import { COL } from "./paths.js";


/**
 * Adds one to the counter of `key` for the window starting at `windowStartMs` (a stale window starts again at 1)
 * and returns the new count. `expireAt` can drive a Firestore TTL policy; stale windows are harmless.
 */
export async function countInWindow(db: Firestore, key: string, windowStartMs: number, windowMs: number): Promise<number> {
  const ref = db.collection(COL.rateLimits).doc(key);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const count = snap.exists && Number(snap.get("windowStartMs")) === windowStartMs ? Number(snap.get("count")) + 1 : 1;
    tx.set(ref, { callerKey: key, windowStartMs, count, expireAt: new Date(windowStartMs + 2 * windowMs) });
    return count;
  });
}
