/**
 * Replay from the ledger (any event opsync ever received, not only Stripe's last 30 days), dry run unless told:
 * - by customer: their record rebuilt from every event the ledger attributes to them (store/replay.ts);
 * - by event: the event's customer rebuilt; an entry that never applied (`failed`, `needs_review`, `received`)
 *   runs again through the ingest path with source `replay`;
 * - by time range: every customer with events in the range rebuilt, entries that never applied run again.
 * Events of marketplace orders are reported, not replayed (orders are rebuilt by their own events only).
 */
import type { Firestore } from "firebase-admin/firestore";
import type { NormalizedEvent, StripeEventEnvelope } from "../domain/normalize.js";
import { REPLAYABLE_STATUSES, applyRecordedEvent, ingestReplay } from "../store/ingest.js";
import { ledgerRow, ledgerRowsBetween, ledgerRowsOfCustomer, rebuildCustomer, type LedgerRow, type RebuildResult } from "../store/replay.js";

export interface ReplayDeps {
  db: Firestore;
  graceDays: number;
  now?: () => Date;
}

export type ReplayTarget = { eventId: string } | { uid: string } | { since: Date; until: Date };

export interface ReplayReport {
  dryRun: boolean;
  customers: RebuildResult[];
  /** Entries that had never applied, run again (or that would be). */
  rerun: Array<{ eventId: string; before: string; after: string | null }>;
  /** Events not replayed, with why. */
  skipped: Array<{ eventId: string; why: string }>;
}

const MAX_RANGE_EVENTS = 10_000;

function events(rows: LedgerRow[]): NormalizedEvent[] {
  return rows.flatMap((r) => (r.normalized?.outcome === "normalized" && !r.orderId ? [r.normalized.event] : []));
}

/** The envelope the ledger entry stands for (its normalized facts are what is applied; the raw event is not kept). */
function envelopeOf(row: LedgerRow, event: NormalizedEvent): StripeEventEnvelope {
  return {
    id: row.eventId, object: "event", type: event.meta.type, created: event.meta.created, livemode: event.meta.livemode,
    api_version: event.meta.apiVersion, data: { object: { id: event.subject.objectId, object: event.subject.kind } },
  };
}

export async function replay(deps: ReplayDeps, target: ReplayTarget, opts: { dryRun: boolean }): Promise<ReplayReport> {
  const now = deps.now?.() ?? new Date();
  const report: ReplayReport = { dryRun: opts.dryRun, customers: [], rerun: [], skipped: [] };
  let rows: LedgerRow[];
  if ("eventId" in target) {
    const one = await ledgerRow(deps.db, target.eventId);
    if (!one) throw new ReplayNotFound(`event ${target.eventId} is not in the ledger (replayEvent fetches it from Stripe instead)`);
    rows = [one];
  } else if ("uid" in target) {
    rows = await ledgerRowsOfCustomer(deps.db, target.uid);
    if (rows.length === 0) throw new ReplayNotFound(`the ledger has no events of customer ${target.uid}`);
  } else {
    rows = await ledgerRowsBetween(deps.db, target.since, target.until, MAX_RANGE_EVENTS);
  }
  const uids = new Set<string>();
  for (const r of rows) {
    if (r.orderId) report.skipped.push({ eventId: r.eventId, why: `order ${r.orderId}: order events are not replayed` });
    else if (r.uid && (r.status === "applied" || r.status === "stale")) uids.add(r.uid);
    else if (REPLAYABLE_STATUSES.includes(r.status) || r.status === "received") await rerun(deps, r, opts.dryRun, report);
    else report.skipped.push({ eventId: r.eventId, why: `${r.status}: nothing to apply` });
  }
  for (const uid of uids) {
    const all = "uid" in target ? rows : await ledgerRowsOfCustomer(deps.db, uid);
    report.customers.push(await rebuildCustomer(deps.db, { uid, events: events(all), now, graceDays: deps.graceDays, cause: `replay_${now.getTime()}_${uid}`, dryRun: opts.dryRun }));
  }
  return report;
}

async function rerun(deps: ReplayDeps, r: LedgerRow, dryRun: boolean, report: ReplayReport): Promise<void> {
  const n = r.normalized;
  if (!n || n.outcome !== "normalized") {
    report.skipped.push({ eventId: r.eventId, why: `${r.status}: the ledger holds no applicable event (replayEvent re-reads it from Stripe)` });
    return;
  }
  if (dryRun) {
    report.rerun.push({ eventId: r.eventId, before: r.status, after: null });
    return;
  }
  const options = { graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) };
  // A `received` entry was never applied (its trigger did not run): apply it as the trigger would.
  const result = r.status === "received" ? await applyRecordedEvent(deps.db, r.eventId, options) : await ingestReplay(deps.db, envelopeOf(r, n.event), n, options);
  report.rerun.push({ eventId: r.eventId, before: r.status, after: result.status });
}

export class ReplayNotFound extends Error {}
