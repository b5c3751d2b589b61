/** Fixed-window counters in `rateLimits/{key}` shared by every function instance (docs/admin-api.md). */
import type { Firestore } from "firebase-admin/firestore";
import type { RateDecision, RateWindow } from "../domain/adminOps.js";
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

/**
 * One caller's fixed window in `rateLimits/{key}`, read and (when `decide` allows the call) advanced in one
 * transaction. The limit itself is the caller's decision (domain/adminOps.rateLimitDecision).
 */
export async function takeFromWindow(
  db: Firestore,
  key: string,
  windowMs: number,
  decide: (current: RateWindow | null) => RateDecision,
): Promise<RateDecision> {
  const ref = db.collection(COL.rateLimits).doc(key);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const current = snap.exists ? { windowStartMs: Number(snap.get("windowStartMs")), count: Number(snap.get("count")) } : null;
    const d = decide(current);
    if (d.allowed) {
      tx.set(ref, {
        callerKey: key,
        windowStartMs: d.next.windowStartMs,
        count: d.next.count,
        // For a Firestore TTL policy on rateLimits.expireAt (optional; stale windows are harmless).
        expireAt: new Date(d.next.windowStartMs + 2 * windowMs),
      });
    }
    return d;
  });
}
