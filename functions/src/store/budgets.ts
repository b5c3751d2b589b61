/**
 * Where the per-vendor budgets live: `vendorBudgets/{account}` (the account's hold: `blockedUntil`, `reason`) and
 * `vendorBudgets/{account}/shards/{n}` (one GCRA bucket each: `tat`). The claim reads and writes them in its own
 * transaction (store/jobs.ts), so a take costs no extra round trip; holds are written only on a 429 or when a
 * vendor's headers say its budget runs low. No decisions here: domain/budget.ts decides, services/ orchestrate.
 */
import type { DocumentReference, Firestore } from "firebase-admin/firestore";
import { extendBlock } from "../domain/queuePolicy.js";
import type { BucketShape, VendorAccount } from "../domain/budget.js";
import { fromFirestore } from "./db.js";
import { COL } from "./paths.js";

/** What the claim needs to take from an account's budget (built by the composition root from config/budgets.ts). */
export interface BudgetPlan {
  account: VendorAccount;
  shape: BucketShape;
  cost: number;
  random: () => number;
}

export interface AccountHoldDoc {
  blockedUntil?: Date | null;
  reason?: string | null;
}

export const accountRef = (db: Firestore, account: VendorAccount): DocumentReference => db.collection(COL.vendorBudgets).doc(account);

export function shardRef(db: Firestore, account: VendorAccount, shard: number): DocumentReference {
  return accountRef(db, account).collection("shards").doc(String(shard));
}

/** The shard a take uses: random, so concurrent claims spread over the shards' documents. */
export function pickShard(plan: BudgetPlan): number {
  return Math.min(plan.shape.shards - 1, Math.floor(plan.random() * plan.shape.shards));
}

/**
 * Holds every sink of `account` until `until` (a 429's Retry-After, or headers saying the budget is nearly gone).
 * Only ever extended: a later, shorter hold must not wake the account early.
 */
export async function holdAccount(db: Firestore, account: VendorAccount, until: Date, reason: string, now: Date): Promise<Date> {
  const ref = accountRef(db, account);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const current = snap.exists ? (fromFirestore<AccountHoldDoc>(snap.data()).blockedUntil ?? null) : null;
    const next = extendBlock(current, until);
    if (!current || next.getTime() !== current.getTime()) tx.set(ref, { account, blockedUntil: next, reason, updatedAt: now }, { merge: true });
    return next;
  });
}
