/**
 * The two signal alerts: failure rate (deliveries or sync jobs failing over a window) and backlog age (the oldest
 * waiting job). Decided from per-minute rolled-up counters and one `limit(1)` read, never a scan; opened and closed
 * by the every-minute sweep. Pure: no I/O.
 */

/** An incident about opsync as a whole (no jobs of its own): opened and closed by its signal. */
export interface SignalIncident {
  id: string;
  type: "failure_rate" | "backlog_age";
  title: string;
  owner: string;
  fix: string;
  nextStep: string;
  signal: Record<string, unknown>;
}

export interface AlertThresholds {
  /** ALERT_FAILURE_RATE_PERCENT: more than this share failing opens the alert. */
  failureRatePercent: number;
  /** ALERT_FAILURE_WINDOW_MINUTES: the window the rate is computed over. */
  windowMinutes: number;
  /** ALERT_FAILURE_MIN_VOLUME: fewer deliveries (or finished jobs) than this in the window decide nothing. */
  minVolume: number;
  /** ALERT_BACKLOG_AGE_MINUTES: a waiting job older than this opens the backlog alert. */
  backlogAgeMinutes: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = { failureRatePercent: 5, windowMinutes: 15, minVolume: 20, backlogAgeMinutes: 30 };

/** One rolled-up minute (`ops/counters/minutes/{minute}`). */
export interface MinuteCounts {
  deliveries: number;
  deliveriesFailed: number;
  jobsSucceeded: number;
  jobsDead: number;
}

export const ZERO_COUNTS: MinuteCounts = { deliveries: 0, deliveriesFailed: 0, jobsSucceeded: 0, jobsDead: 0 };

export function sumCounts(minutes: MinuteCounts[]): MinuteCounts {
  return minutes.reduce(
    (a, m) => ({ deliveries: a.deliveries + m.deliveries, deliveriesFailed: a.deliveriesFailed + m.deliveriesFailed, jobsSucceeded: a.jobsSucceeded + m.jobsSucceeded, jobsDead: a.jobsDead + m.jobsDead }),
    ZERO_COUNTS,
  );
}

export const MINUTE_MS = 60_000;
/** A minute is rolled up this long after it ended (an entry recorded `failed` by the apply lands by then). */
export const ROLLUP_LAG_MS = 30_000;

/** `2026-12-05T03:10Z`: the id of the minute starting at `start`. */
export const minuteId = (start: Date): string => `${start.toISOString().slice(0, 16)}Z`;

/** The starts of the last `count` minutes that ended at least ROLLUP_LAG_MS before `now`, oldest first. */
export function windowMinutes(now: Date, count: number): Date[] {
  const lastStart = Math.floor((now.getTime() - ROLLUP_LAG_MS) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  return Array.from({ length: count }, (_, i) => new Date(lastStart - (count - 1 - i) * MINUTE_MS));
}

export interface RateSignal {
  failed: number;
  total: number;
  ratePercent: number | null;
  firing: boolean;
}

export function rateSignal(failed: number, total: number, t: AlertThresholds): RateSignal {
  const ratePercent = total > 0 ? Math.round((failed / total) * 10_000) / 100 : null;
  return { failed, total, ratePercent, firing: total >= t.minVolume && failed * 100 > t.failureRatePercent * total };
}

export const FAILURE_RATE_IDS = { deliveries: "failure_rate_deliveries", jobs: "failure_rate_jobs" } as const;
export const BACKLOG_AGE_ID = "backlog_age";

export function failureRateIncident(what: "deliveries" | "jobs", s: RateSignal, t: AlertThresholds): SignalIncident {
  const noun = what === "deliveries" ? "Stripe deliveries" : "sync jobs";
  return {
    id: FAILURE_RATE_IDS[what],
    type: "failure_rate",
    title: `${s.ratePercent ?? 0} % of ${noun} failed over ${t.windowMinutes} minutes (${s.failed} of ${s.total}; threshold ${t.failureRatePercent} %)`,
    owner: "admin",
    fix:
      what === "deliveries"
        ? "Open the failed ledger entries (stripeEvents, status failed): their reason names the field or API version. Fix the endpoint's API version or the mapping, then replay them."
        : "Look at the open incidents of each sink (the jobs' causes) and the sinks on Health; fix the vendor or its setup. Dead jobs retry when their incident's vendor is back.",
    nextStep: `opsync re-checks every minute; the alert closes itself when the rate is at or below ${t.failureRatePercent} %.`,
    signal: { what, failed: s.failed, total: s.total, ratePercent: s.ratePercent, thresholdPercent: t.failureRatePercent, windowMinutes: t.windowMinutes, minVolume: t.minVolume },
  };
}

export interface BacklogSignal {
  jobId: string | null;
  kind: string | null;
  ageMinutes: number | null;
  firing: boolean;
}

export function backlogSignal(oldestCreatedAt: Date | null, oldest: { jobId: string | null; kind: string | null }, now: Date, t: AlertThresholds): BacklogSignal {
  const ageMinutes = oldestCreatedAt ? Math.floor((now.getTime() - oldestCreatedAt.getTime()) / MINUTE_MS) : null;
  return { ...oldest, ageMinutes, firing: ageMinutes !== null && ageMinutes > t.backlogAgeMinutes };
}

export function backlogIncident(s: BacklogSignal, t: AlertThresholds): SignalIncident {
  return {
    id: BACKLOG_AGE_ID,
    type: "backlog_age",
    title: `The oldest waiting sync job is ${s.ageMinutes ?? 0} minutes old (threshold ${t.backlogAgeMinutes})`,
    owner: "admin",
    fix: "On Health: is automation paused, a sink paused for its credentials or blocked by a 429? Resume it or fix the credential; otherwise check runSyncJob's logs (the queue may be failing to dispatch).",
    nextStep: "opsync keeps dispatching; the alert closes itself when no waiting job is older than the threshold.",
    signal: { jobId: s.jobId, kind: s.kind, ageMinutes: s.ageMinutes, thresholdMinutes: t.backlogAgeMinutes },
  };
}
