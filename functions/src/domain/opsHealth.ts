/**
 * The Health answer of `opsStatus`, from facts the store reads with aggregation queries and single-document
 * reads only (no collection scans): the kill switch, each sink's state, backlog by sink, the oldest waiting job,
 * open alerts, failures over the last 15 minutes and the last reconcile run. Pure: no I/O.
 */
import { MINUTE_MS, type MinuteCounts } from "./alertSignals.js";
import { JOB_KINDS, SINK_OF_JOB, type JobKind, type SinkName } from "./model.js";

type Doc = Record<string, unknown>;

export const HEALTH_WINDOW_MS = 15 * 60_000;
export const SINK_NAMES: readonly SinkName[] = ["crm", "claims", "helpdesk", "notify", "stripe"];
/** Jobs still to run (dead ones are counted apart: they wait for a person). */
export const WAITING_JOB_STATUSES = ["pending", "retrying", "running", "paused"] as const;
/** Every other job status: a waiting job is one not in these (JOB_STATUSES is exactly the two lists). */
export const FINISHED_JOB_STATUSES = ["succeeded", "dead"] as const;

/** The job kinds of each sink (dead jobs are counted per sink, `kind in` these: what Health shows). */
export const KINDS_OF_SINK: Record<SinkName, JobKind[]> = Object.fromEntries(
  SINK_NAMES.map((s) => [s, JOB_KINDS.filter((k) => SINK_OF_JOB[k] === s)]),
) as Record<SinkName, JobKind[]>;

export interface HealthFacts {
  automation: Doc | null;
  sinkStates: Partial<Record<SinkName, Doc | null>>;
  waitingBySink: Record<SinkName, number>;
  deadBySink: Record<SinkName, number>;
  oldestWaiting: Doc | null;
  openAlerts: number;
  window: { ledgerTotal: number; ledgerFailed: number; jobsSucceeded: number; jobsDead: number };
  lastReconcile: Doc | null;
}

const asDate = (v: unknown): Date | null => (v instanceof Date ? v : null);
const iso = (v: unknown): string | null => asDate(v)?.toISOString() ?? null;
const rate = (failed: number, total: number): number | null => (total > 0 ? Math.round((failed / total) * 10_000) / 100 : null);

/**
 * ok, blocked (a 429 until a time) or paused: a paused flag, or the auth pause the runner writes
 * (`pausedForAuth: {since, reason, …}` after a 401/403, null once resumed).
 */
export function sinkHealth(sink: SinkName, state: Doc | null, now: Date): Doc {
  const blockedUntil = asDate(state?.blockedUntil);
  const authPause = state?.pausedForAuth && typeof state.pausedForAuth === "object" ? (state.pausedForAuth as Doc) : null;
  const paused = state?.paused === true || authPause !== null;
  const blocked = blockedUntil !== null && blockedUntil.getTime() > now.getTime();
  return {
    sink,
    state: paused ? "paused" : blocked ? "blocked" : "ok",
    blockedUntil: blocked ? iso(blockedUntil) : null,
    paused,
    reason: paused || blocked ? (state?.pausedReason ?? authPause?.reason ?? state?.reason ?? null) : null,
    updatedAt: iso(state?.updatedAt),
  };
}

export function shapeOpsStatus(f: HealthFacts, now: Date): Doc {
  const bySink = (counts: Record<SinkName, number>) => Object.fromEntries(SINK_NAMES.map((s) => [s, counts[s] ?? 0])) as Record<SinkName, number>;
  const waiting = bySink(f.waitingBySink);
  const dead = bySink(f.deadBySink);
  const oldestAt = asDate(f.oldestWaiting?.createdAt);
  const a = f.automation;
  const r = f.lastReconcile;
  return {
    operation: "opsStatus",
    at: now.toISOString(),
    automation: { paused: a?.paused === true, reason: a?.reason ?? null, by: a?.by ?? null, at: iso(a?.at) },
    sinks: SINK_NAMES.map((s) => ({ ...sinkHealth(s, f.sinkStates[s] ?? null, now), backlog: waiting[s], dead: dead[s] })),
    backlog: { total: Object.values(waiting).reduce((x, y) => x + y, 0), dead: Object.values(dead).reduce((x, y) => x + y, 0), bySink: waiting },
    oldestPending: f.oldestWaiting
      ? {
          jobId: f.oldestWaiting.jobId ?? null,
          kind: f.oldestWaiting.kind ?? null,
          status: f.oldestWaiting.status ?? null,
          createdAt: iso(oldestAt),
          ageSeconds: oldestAt ? Math.max(0, Math.round((now.getTime() - oldestAt.getTime()) / 1000)) : null,
        }
      : null,
    openAlerts: f.openAlerts,
    last15Minutes: {
      deliveries: { total: f.window.ledgerTotal, failed: f.window.ledgerFailed, failureRatePercent: rate(f.window.ledgerFailed, f.window.ledgerTotal) },
      jobs: {
        succeeded: f.window.jobsSucceeded,
        dead: f.window.jobsDead,
        failureRatePercent: rate(f.window.jobsDead, f.window.jobsSucceeded + f.window.jobsDead),
      },
    },
    lastReconcile: r
      ? { runId: r.runId ?? r.id ?? null, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt), checked: r.checked ?? null, drift: r.drift ?? null }
      : null,
  };
}

// ---- The 15-minute window ---------------------------------------------------------------------------------

/**
 * Health's window, minute-aligned so it can be read from the per-minute rolled-up counters
 * (`ops/counters/minutes/{minute}`): the 15 whole minutes before the current one, plus the current one so far.
 */
export function healthWindow(now: Date, windowMs: number = HEALTH_WINDOW_MS): { starts: Date[]; currentStart: Date } {
  const currentStart = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  const count = Math.round(windowMs / MINUTE_MS);
  return { starts: Array.from({ length: count }, (_, i) => new Date(currentStart - (count - i) * MINUTE_MS)), currentStart: new Date(currentStart) };
}

/** `end` null: open-ended (the current minute, and anything stamped a little after `now` by a skewed clock). */
export interface TimeRange {
  start: Date;
  end: Date | null;
}

/**
 * Which parts of the window are counted live: the runs of minutes not rolled up yet (normally the last one or two,
 * which the sweep rolls up 30 s after they end) and the current minute. More than two runs (a sweep that ran on and
 * off) cost more queries than counting the whole window once, which is what happens then (`rolled` all null).
 */
export function liveRanges(starts: Date[], rolled: Array<MinuteCounts | null>, currentStart: Date): { ranges: TimeRange[]; rolled: Array<MinuteCounts | null> } {
  const ranges: Array<{ start: Date; end: Date | null }> = [];
  starts.forEach((start, i) => {
    if (rolled[i]) return;
    const end = new Date(start.getTime() + MINUTE_MS);
    const last = ranges[ranges.length - 1];
    if (last && last.end?.getTime() === start.getTime()) last.end = end;
    else ranges.push({ start, end });
  });
  const last = ranges[ranges.length - 1];
  if (last && last.end?.getTime() === currentStart.getTime()) last.end = null;
  else ranges.push({ start: currentStart, end: null });
  const first = starts[0];
  if (ranges.length > 2 && first) return { ranges: [{ start: first, end: null }], rolled: starts.map(() => null) };
  return { ranges, rolled };
}

/** Live counts of the ranges plus the rolled-up minutes, as the window's four figures. */
export function windowFigures(rolled: Array<MinuteCounts | null>, live: MinuteCounts[]): HealthFacts["window"] {
  const all = [...rolled.filter((m): m is MinuteCounts => m !== null), ...live];
  const sum = (f: keyof MinuteCounts) => all.reduce((a, m) => a + (Number(m[f]) || 0), 0);
  return { ledgerTotal: sum("deliveries"), ledgerFailed: sum("deliveriesFailed"), jobsSucceeded: sum("jobsSucceeded"), jobsDead: sum("jobsDead") };
}
