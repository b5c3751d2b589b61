/**
 * Import an existing Stripe account: customers, their subscriptions (every status), open invoices and recent payment
 * intents, each applied as an API snapshot through the same apply as everything else (store/stripeImport.ts).
 * Resumable: `ops/backfill.cursor` is the last customer done, so a killed run goes on where it stopped. Re-running
 * changes nothing (unchanged snapshots are skipped). Customers nobody can attribute go to the review queue.
 *
 * Cost: related objects are listed once for the whole account (N/100 list calls per kind), customers page by page;
 * only customers with no uid from the mapping, the file or metadata cost one extra call (their Checkout Sessions).
 */
import type { Firestore } from "firebase-admin/firestore";
import { decideUid, groupByCustomer, type UidDecision } from "../domain/importMapping.js";
import { apiSubjects as subjectsOf } from "../domain/importPlan.js";
import type { StripeJson, StripeReadPort } from "../sinks/stripeApi.js";
import { readBackfillState, readMappings, writeBackfillState, type BackfillState } from "../store/opsState.js";
import { applyStripeObjects, holdForReview } from "../store/stripeImport.js";
import { listAll, withStripeRetry, type RetryOptions } from "./stripeRetry.js";

export interface BackfillDeps {
  db: Firestore;
  stripe: StripeReadPort;
  graceDays: number;
  now?: () => Date;
  retry?: RetryOptions;
}

export interface BackfillOptions {
  /** stripeCustomerId → uid from a mapping file (domain/importMapping.parseMappingCsv). */
  mapping?: Map<string, string>;
  noSync?: boolean;
  /** Ignore a stored cursor and start from the newest customer. */
  restart?: boolean;
  /** Stops after the current customer; the cursor is kept so the next run resumes. */
  signal?: AbortSignal;
  onProgress?: (progress: BackfillProgress) => void;
  /** How far back payment intents are imported (default 30 days). */
  paymentIntentDays?: number;
}

export interface BackfillProgress {
  phase: "listing" | "customers";
  /** Customers handled in this run so far. */
  done: number;
  imported: number;
  review: number;
  /** Customers in the account when known (after listing); null while listing. */
  total: number | null;
}

export type BackfillReport = Omit<BackfillState, "startedAt" | "updatedAt" | "finishedAt"> & {
  resumed: boolean;
  startedAt: string;
  finishedAt: string | null;
  listed: { subscriptions: number; invoices: number; paymentIntents: number };
};

const DAY_S = 86_400;
const CONCURRENCY = 10;

async function checkoutUids(deps: BackfillDeps, cus: string): Promise<string[]> {
  return withStripeRetry(async () => {
    const ids: string[] = [];
    for await (const s of deps.stripe.listCheckoutSessions({ customer: cus })) if (typeof s.client_reference_id === "string") ids.push(s.client_reference_id);
    return ids;
  }, deps.retry);
}

function startState(previous: BackfillState | null, opts: BackfillOptions, now: Date): { state: BackfillState; resumed: boolean } {
  const resumable = previous && (previous.status === "running" || previous.status === "aborted" || previous.status === "failed") && previous.cursor && !opts.restart;
  if (resumable) return { state: { ...previous, status: "running", noSync: opts.noSync ?? false, updatedAt: now, error: null }, resumed: true };
  const state: BackfillState = {
    runId: `backfill_${now.getTime()}`, status: "running", cursor: null, noSync: opts.noSync ?? false, startedAt: now, updatedAt: now,
    finishedAt: null, customers: 0, imported: 0, unchanged: 0, review: 0, conflicts: 0, skipped: 0, jobs: 0, error: null,
  };
  return { state, resumed: false };
}

export async function runBackfill(deps: BackfillDeps, opts: BackfillOptions = {}): Promise<BackfillReport> {
  const now = () => deps.now?.() ?? new Date();
  const { state, resumed } = startState(await readBackfillState(deps.db), opts, now());
  await writeBackfillState(deps.db, state);
  const fetchedAt = Math.floor(now().getTime() / 1000);
  let done = 0;
  const listed = { subscriptions: 0, invoices: 0, paymentIntents: 0 };
  const progress = (phase: BackfillProgress["phase"], total: number | null) =>
    opts.onProgress?.({ phase, done, imported: state.imported, review: state.review, total });
  try {
    progress("listing", null);
    const subscriptions = await listAll(deps.stripe, "subscriptions", { status: "all" }, deps.retry);
    const invoices = await listAll(deps.stripe, "invoices", { status: "open" }, deps.retry);
    const paymentIntents = await listAll(deps.stripe, "payment_intents", { createdGte: fetchedAt - (opts.paymentIntentDays ?? 30) * DAY_S }, deps.retry);
    Object.assign(listed, { subscriptions: subscriptions.length, invoices: invoices.length, paymentIntents: paymentIntents.length });
    const related = { subscription: groupByCustomer(subscriptions), invoice: groupByCustomer(invoices), payment_intent: groupByCustomer(paymentIntents) };
    let hasMore = true;
    while (hasMore && !opts.signal?.aborted) {
      const page = await withStripeRetry(() => deps.stripe.listPage("customers", state.cursor ? { startingAfter: state.cursor } : {}), deps.retry);
      hasMore = page.hasMore;
      const customers = page.data.filter((c) => typeof c.id === "string" && c.deleted !== true);
      const mapped = await readMappings(deps.db, customers.map((c) => String(c.id)));
      // A few customers at a time (each is its own transaction on its own documents); the cursor moves only past
      // a whole chunk, so a kill never skips a customer.
      for (let i = 0; i < page.data.length && !opts.signal?.aborted; i += CONCURRENCY) {
        const chunk = page.data.slice(i, i + CONCURRENCY);
        await Promise.all(
          chunk.map((raw) => (raw.deleted === true ? null : importCustomer(deps, opts, state, raw, mapped.get(String(raw.id)) ?? null, related, fetchedAt, now()))),
        );
        state.cursor = String(chunk[chunk.length - 1]?.id);
        done += chunk.length;
        progress("customers", null);
      }
      state.updatedAt = now();
      await writeBackfillState(deps.db, state);
    }
    state.status = opts.signal?.aborted ? "aborted" : "done";
    if (state.status === "done") state.finishedAt = now();
  } catch (error) {
    state.status = "failed";
    state.error = error instanceof Error ? error.message : String(error);
  }
  state.updatedAt = now();
  await writeBackfillState(deps.db, state);
  if (state.status === "failed") throw new Error(`backfill failed (resume with the same command): ${state.error}`);
  return {
    ...state,
    resumed,
    startedAt: state.startedAt.toISOString(),
    finishedAt: state.finishedAt?.toISOString() ?? null,
    listed,
  };
}

type Related = Record<"subscription" | "invoice" | "payment_intent", Map<string, StripeJson[]>>;

async function importCustomer(
  deps: BackfillDeps,
  opts: BackfillOptions,
  state: BackfillState,
  raw: StripeJson,
  mappedUid: string | null,
  related: Related,
  fetchedAt: number,
  at: Date,
): Promise<void> {
  const cus = String(raw.id);
  state.customers += 1;
  const customer = subjectsOf("customer", [raw], fetchedAt);
  const metadataUid = customer.subjects[0]?.metadataUid ?? null;
  const evidence = { mapped: mappedUid, file: opts.mapping?.get(cus) ?? null, metadata: metadataUid, checkout: null };
  let decision: UidDecision = decideUid(cus, evidence);
  if (decision.kind === "need_checkout") decision = decideUid(cus, { ...evidence, checkout: await checkoutUids(deps, cus) });
  const subs = related.subscription.get(cus) ?? [];
  if (decision.kind !== "uid") {
    const known = { email: typeof raw.email === "string" ? raw.email : null, name: typeof raw.name === "string" ? raw.name : null, subscriptions: subs.length, created: raw.created ?? null };
    const conflict = decision.kind === "conflict";
    const detail = decision.kind === "conflict"
      ? decision.detail
      : `No Firebase uid for Stripe customer ${cus}: set metadata.firebaseUid, add it to a mapping file (uid,stripeCustomerId), or map it with resolveReview; then run backfill again`;
    await holdForReview(deps.db, { stripeCustomerId: cus, reason: conflict ? "uid_conflict" : "unmapped_customer", detail, known, now: at });
    if (conflict) state.conflicts += 1;
    else state.review += 1;
    return;
  }
  const parts = [customer, subjectsOf("subscription", subs, fetchedAt), subjectsOf("invoice", related.invoice.get(cus) ?? [], fetchedAt), subjectsOf("payment_intent", related.payment_intent.get(cus) ?? [], fetchedAt)];
  state.skipped += parts.reduce((n, p) => n + p.unreadable, 0);
  const result = await applyStripeObjects(deps.db, {
    uid: decision.uid, stripeCustomerId: cus, subjects: parts.flatMap((p) => p.subjects), fetchedAt, cause: state.runId, actor: "backfill",
    graceDays: deps.graceDays, now: at, noSync: state.noSync,
  });
  if (result.outcome === "conflict") {
    await holdForReview(deps.db, { stripeCustomerId: cus, reason: "uid_conflict", detail: `${cus} is mapped to ${result.mappedUid}, not ${decision.uid}`, known: {}, now: at });
    state.conflicts += 1;
    return;
  }
  if (result.outcome === "changed") state.imported += 1;
  else state.unchanged += 1;
  state.jobs += result.jobIds.length;
}
