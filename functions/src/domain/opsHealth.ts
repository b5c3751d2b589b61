/**
 * The Health answer of `opsStatus`, from facts the store reads with aggregation queries and single-document
 * reads only (no collection scans): the kill switch, each sink's state, backlog by sink, the oldest waiting job,
 * open alerts, failures over the last 15 minutes and the last reconcile run. Pure: no I/O.
 */
import { JOB_KINDS, SINK_OF_JOB, type JobKind, type SinkName } from "./model.js";

type Doc = Record<string, unknown>;

export const HEALTH_WINDOW_MS = 15 * 60_000;
export const SINK_NAMES: readonly SinkName[] = ["crm", "claims", "helpdesk", "notify", "stripe"];
/** Jobs still to run (dead ones are counted apart: they wait for a person). */
export const WAITING_JOB_STATUSES = ["pending", "retrying", "running", "paused"] as const;

export interface HealthFacts {
  automation: Doc | null;
  sinkStates: Partial<Record<SinkName, Doc | null>>;
  waitingByKind: Record<JobKind, number>;
  deadByKind: Record<JobKind, number>;
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
  const bySink = (counts: Record<JobKind, number>) => {
    const out = Object.fromEntries(SINK_NAMES.map((s) => [s, 0])) as Record<SinkName, number>;
    for (const kind of JOB_KINDS) out[SINK_OF_JOB[kind]] += counts[kind];
    return out;
  };
  const waiting = bySink(f.waitingByKind);
  const dead = bySink(f.deadByKind);
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
