/**
 * What no Stripe event will do by itself: apply ledger entries whose trigger never finished, and re-derive
 * customers whose past-due grace has ended (Smart Retries can keep a subscription `past_due` for weeks).
 */
import type { Firestore } from "firebase-admin/firestore";
import { applyRecordedEvent, type IngestOptions } from "../store/ingest.js";
import { findCustomersWithGraceEndedBy, findStaleReceivedEvents, recomputeCustomerRecord } from "../store/recompute.js";

/** How long an entry may stay `received` before the sweep applies it (the trigger normally takes < 1 s). */
export const RECEIVED_DEADLINE_MS = 60_000;

export async function sweepLedger(db: Firestore, opts: { now: Date; graceDays: number; limit?: number }): Promise<{ applied: number; graceExpired: number }> {
  const options: IngestOptions = { graceDays: opts.graceDays, now: () => opts.now };
  const stale = await findStaleReceivedEvents(db, new Date(opts.now.getTime() - RECEIVED_DEADLINE_MS), opts.limit ?? 200);
  let applied = 0;
  for (const eventId of stale) {
    const result = await applyRecordedEvent(db, eventId, options);
    if (!result.duplicate) applied += 1;
  }
  return { applied, graceExpired: await expireGrace(db, opts) };
}

/** Re-derives every customer whose grace ended by `now`: entitlements drop, claims and CRM jobs follow. */
export async function expireGrace(db: Firestore, opts: { now: Date; graceDays: number; limit?: number }): Promise<number> {
  const uids = await findCustomersWithGraceEndedBy(db, opts.now, opts.limit ?? 200);
  let changed = 0;
  for (const uid of uids) if (await recomputeCustomerRecord(db, uid, opts)) changed += 1;
  return changed;
}
