/**
 * The sync runner's side of the per-vendor budgets (domain/budget.ts): what a claim takes from which account, and
 * what a run's vendor answers mean for the account afterwards — a 429 (any sink of the account) or rate-limit
 * headers saying the budget is nearly spent hold every sink of that account, so one product's burst slows the other.
 */
import { CALLS_PER_JOB, bucketShape, holdForSignal, type VendorAccount } from "../domain/budget.js";
import { SINK_OF_JOB, type JobKind, type SinkName } from "../domain/model.js";
import type { FailureDecision } from "../domain/retry.js";
import { log } from "../log.js";
import { holdAccount, type BudgetPlan } from "../store/budgets.js";
import type { SyncDeps } from "./syncTypes.js";

/** The claim's budget lookup, or undefined when the deployment meters nothing. */
export function budgetPlanner(deps: SyncDeps): ((kind: JobKind) => BudgetPlan | null) | undefined {
  const budgets = deps.budgets;
  if (!budgets) return undefined;
  return (kind) => {
    const account = budgets.accountOf(SINK_OF_JOB[kind]);
    return { account, shape: bucketShape(budgets.limits[account]), cost: CALLS_PER_JOB[kind], random: deps.random ?? Math.random };
  };
}

/**
 * After a run of a `sink` job: hold its account if the vendor answered 429 (for the Retry-After, or the backoff
 * when it gave none) or if its headers said the remaining budget is at the reserve. Returns the hold's end, if any.
 */
export async function recordVendorAnswers(deps: SyncDeps, sink: SinkName, decision: FailureDecision | null, now: Date): Promise<Date | null> {
  const budgets = deps.budgets;
  if (!budgets) return null;
  const account: VendorAccount = budgets.accountOf(sink);
  const signal = budgets.signals.take(account);
  let holdMs = signal ? holdForSignal(signal) : null;
  let reason = signal && holdMs !== null ? `rate-limit headers: ${signal.remaining} of ${signal.max} left` : "";
  if (decision?.kind === "retry" && decision.error.httpStatus === 429 && decision.delayMs > (holdMs ?? -1)) {
    holdMs = decision.delayMs;
    reason = `429 from ${sink}`;
  }
  if (holdMs === null) return null;
  const until = await holdAccount(deps.db, account, new Date(now.getTime() + holdMs), reason, now);
  log.vendorHold(account, reason, until);
  return until;
}
