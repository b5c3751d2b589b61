/**
 * Missed-event sweep: list Stripe's Events API (the types opsync handles, from the last sweep's high-water mark, at
 * most 30 days back: Stripe keeps events no longer) and put every event the ledger lacks through the webhook's own
 * path (envelope and mode check, normalize, ledger create → apply) with source `sweep`. A webhook delivery racing
 * the sweep on one event applies it once: the ledger's create() admits one writer and only a `received` entry is
 * applied.
 */
import type { Firestore } from "firebase-admin/firestore";
import { HANDLED_EVENT_TYPES } from "../domain/normalize.js";
import type { StripeJson, StripeReadPort } from "../sinks/stripeApi.js";
import { ingestEvent } from "../store/ingest.js";
import { ledgerHas, readSweepState, writeSweepState, type SweepState } from "../store/opsState.js";
import { checkStripeEvent } from "./stripeWebhook.js";
import { withStripeRetry, type RetryOptions } from "./stripeRetry.js";

export interface SweepDeps {
  db: Firestore;
  stripe: StripeReadPort;
  graceDays: number;
  acceptLivemode: boolean;
  now?: () => Date;
  retry?: RetryOptions;
  /** Test seam: runs after the ledger check, before the sweep records the events it found missing. */
  beforeIngest?: (missing: string[]) => Promise<void>;
}

export interface SweepOptions {
  /** Start here instead of the stored high-water mark (still at most 30 days back). */
  since?: Date;
  /** Only report what would be applied. */
  dryRun?: boolean;
  onProgress?: (p: { listed: number; applied: number }) => void;
}

export interface SweepReport {
  from: string;
  until: string;
  listed: number;
  /** Already in the ledger (delivered by the webhook or an earlier sweep). */
  skipped: number;
  applied: number;
  /** Recorded with another final status (stale, needs_review, ignored, failed) — in the ledger now, for a person to read. */
  recorded: Record<string, number>;
  missing: string[];
  dryRun: boolean;
}

/** Stripe keeps events 30 days; start a little inside that so a page never names an event Stripe just dropped. */
export const SWEEP_MAX_AGE_MS = 30 * 86_400_000 - 3_600_000;
/** Events become listable shortly after `created`: each sweep looks this far behind the last high-water mark. */
export const SWEEP_OVERLAP_MS = 10 * 60_000;
/** Stripe's `types[]` takes at most 20 values. */
const TYPES_PER_CALL = 20;

export async function sweepEvents(deps: SweepDeps, opts: SweepOptions = {}): Promise<SweepReport> {
  const now = deps.now?.() ?? new Date();
  const state = await readSweepState(deps.db);
  const oldest = now.getTime() - SWEEP_MAX_AGE_MS;
  const wanted = opts.since?.getTime() ?? (state?.highWaterMark ? state.highWaterMark.getTime() - SWEEP_OVERLAP_MS : oldest);
  const from = new Date(Math.max(oldest, wanted));
  const until = now;
  const events = await listEvents(deps, Math.floor(from.getTime() / 1000), Math.floor(until.getTime() / 1000) + 1);
  const have = await ledgerHas(deps.db, events.map((e) => String(e.id)));
  // Oldest first, as Stripe created them: the apply's ordering rules then see them in their natural order.
  const missing = events.filter((e) => !have.has(String(e.id))).sort((a, b) => Number(a.created) - Number(b.created));
  const report: SweepReport = {
    from: from.toISOString(), until: until.toISOString(), listed: events.length, skipped: events.length - missing.length,
    applied: 0, recorded: {}, missing: missing.map((e) => String(e.id)), dryRun: opts.dryRun === true,
  };
  if (opts.dryRun) return report;
  await deps.beforeIngest?.(report.missing);
  for (const event of missing) {
    const checked = checkStripeEvent(event, deps.acceptLivemode);
    if (!checked.ok) {
      report.recorded.refused = (report.recorded.refused ?? 0) + 1;
      continue;
    }
    const result = await ingestEvent(deps.db, checked.event, checked.normalized, "sweep", { graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) });
    // A webhook delivery got there first: it applies the event, the sweep does not count it.
    if (result.duplicate) report.skipped += 1;
    else if (result.status === "applied") report.applied += 1;
    else report.recorded[result.status] = (report.recorded[result.status] ?? 0) + 1;
    opts.onProgress?.({ listed: report.listed, applied: report.applied });
  }
  const next: SweepState = {
    highWaterMark: until, lastRunAt: now, applied: report.applied, listed: report.listed, skipped: report.skipped,
    failed: Object.values(report.recorded).reduce((a, b) => a + b, 0),
  };
  await writeSweepState(deps.db, next);
  return report;
}

async function listEvents(deps: SweepDeps, createdGte: number, createdLt: number): Promise<StripeJson[]> {
  const out = new Map<string, StripeJson>();
  for (let i = 0; i < HANDLED_EVENT_TYPES.length; i += TYPES_PER_CALL) {
    const types = HANDLED_EVENT_TYPES.slice(i, i + TYPES_PER_CALL);
    let startingAfter: string | undefined;
    for (;;) {
      const page = await withStripeRetry(() => deps.stripe.listEvents({ types, createdGte, createdLt, ...(startingAfter ? { startingAfter } : {}) }), deps.retry);
      for (const e of page.data) if (typeof e.id === "string") out.set(e.id, e);
      const last = page.data[page.data.length - 1];
      if (!page.hasMore || typeof last?.id !== "string") break;
      startingAfter = last.id;
    }
  }
  return [...out.values()];
}
