/**
 * The incidents' part of the every-minute sweep (sweepSyncJobs): the failure-rate alerts (deliveries, jobs) and the
 * backlog-age alert open and close with their signal, and vendor-wide incidents whose jobs all gave up get one of
 * them retried (a probe) when their time comes: its success retries the rest (syncRunner settles incidents). Last,
 * incidents quiet for a while are re-checked from their jobs: one left open by a crash between a job's success and
 * its settling is resolved here, with the same single Slack notice.
 */
import type { Firestore } from "firebase-admin/firestore";
import { incidentConfig, noticeSettings } from "../config/alerts.js";
import {
  BACKLOG_AGE_ID,
  FAILURE_RATE_IDS,
  backlogIncident,
  backlogSignal,
  failureRateIncident,
  rateSignal,
  sumCounts,
  windowMinutes,
  type AlertThresholds,
} from "../domain/alertSignals.js";
import { RECHECK_AFTER_MS } from "../domain/incidents.js";
import { RECHECK_EVERY_MS, recheckIncident } from "../domain/incidentRecheck.js";
import type { NoticeSettings } from "../domain/notices.js";
import { clearSignal, dueProbes, dueRechecks, markProbed, postponeRecheck, raiseSignal, resolveRechecked } from "../store/incidents.js";
import { retryDeadJob } from "../store/jobQueue.js";
import { oldestWaitingJob, readMinutes } from "../store/opsCounters.js";
import { getDb } from "./runtime.js";

export interface IncidentSweepOptions {
  now: Date;
  thresholds: AlertThresholds;
  notices: NoticeSettings;
  probeDelayMs: number;
}

export interface IncidentSweepResult {
  opened: string[];
  closed: string[];
  probed: string[];
  /** Incidents the re-check found settled and resolved (their jobs had succeeded). */
  rechecked: string[];
  rolledUpMinutes: number;
}

/** Incidents re-checked per sweep (each costs one read per listed job). */
const RECHECKS_PER_SWEEP = 10;

export async function sweepIncidents(db: Firestore, opts: IncidentSweepOptions): Promise<IncidentSweepResult> {
  const { now, thresholds: t, notices } = opts;
  const opened: string[] = [];
  const closed: string[] = [];
  const { minutes, rolledUp } = await readMinutes(db, windowMinutes(now, t.windowMinutes), now);
  const total = sumCounts(minutes);
  const oldest = await oldestWaitingJob(db);
  const signals = [
    { id: FAILURE_RATE_IDS.deliveries, s: rateSignal(total.deliveriesFailed, total.deliveries, t), incident: (s: ReturnType<typeof rateSignal>) => failureRateIncident("deliveries", s, t) },
    { id: FAILURE_RATE_IDS.jobs, s: rateSignal(total.jobsDead, total.jobsSucceeded + total.jobsDead, t), incident: (s: ReturnType<typeof rateSignal>) => failureRateIncident("jobs", s, t) },
  ];
  for (const { id, s, incident } of signals) {
    if (s.firing) {
      if (await raiseSignal(db, incident(s), now, notices)) opened.push(id);
    } else if (await clearSignal(db, id, { failed: s.failed, total: s.total, ratePercent: s.ratePercent }, now, notices)) {
      closed.push(id);
    }
  }
  const backlog = backlogSignal(oldest.createdAt, { jobId: oldest.jobId, kind: oldest.kind }, now, t);
  if (backlog.firing) {
    if (await raiseSignal(db, backlogIncident(backlog, t), now, notices)) opened.push(BACKLOG_AGE_ID);
  } else if (await clearSignal(db, BACKLOG_AGE_ID, { ageMinutes: backlog.ageMinutes }, now, notices)) {
    closed.push(BACKLOG_AGE_ID);
  }
  const probed: string[] = [];
  for (const probe of await dueProbes(db, now, 20)) {
    // One job is enough to learn whether the vendor is back; the first still dead is retried.
    let sent: string | null = null;
    for (const jobId of probe.deadJobIds.slice(0, 5)) {
      if (await retryDeadJob(db, jobId, { type: "system", id: "incidentProbe" }, now)) {
        sent = jobId;
        break;
      }
    }
    // Even with nothing left to retry the next probe moves on, so a sweep never spins on one incident.
    await markProbed(db, probe.id, sent, new Date(now.getTime() + opts.probeDelayMs), now);
    if (sent) probed.push(probe.id);
  }
  return { opened, closed, probed, rechecked: await recheckIncidents(db, now, notices), rolledUpMinutes: rolledUp };
}

async function recheckIncidents(db: Firestore, now: Date, notices: NoticeSettings): Promise<string[]> {
  const resolved: string[] = [];
  for (const c of await dueRechecks(db, now, RECHECKS_PER_SWEEP)) {
    const verdict = recheckIncident(c.id, c.doc, c.jobs);
    if (verdict.resolve && (await resolveRechecked(db, c.id, c.doc.updatedAt, now, notices))) {
      resolved.push(c.id);
      continue;
    }
    // Changed meanwhile: look again soon. Still failing: later. Not an open incident: never again.
    const next = verdict.resolve ? RECHECK_AFTER_MS : verdict.reason === "not_open" ? null : RECHECK_EVERY_MS;
    await postponeRecheck(db, c.id, next === null ? null : new Date(now.getTime() + next));
  }
  return resolved;
}

/** The deployed sweep: thresholds and notice settings from config/alerts.ts, the project's Firestore. */
export function sweepIncidentsNow(now: Date): Promise<IncidentSweepResult> {
  const cfg = incidentConfig();
  return sweepIncidents(getDb(), { now, thresholds: cfg.thresholds, notices: noticeSettings(), probeDelayMs: cfg.probeDelayMs });
}
