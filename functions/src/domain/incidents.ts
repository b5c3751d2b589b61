/**
 * Incidents: one open alert per root cause (sink + error kind + target scope), not one per failing job. A job that
 * goes dead, or keeps failing, joins the incident of its cause; the incident lists the customers and orders it
 * touches, says what opsync will do next and when, who owns it and how to fix it, and resolves itself when its jobs
 * succeed. This file decides, from the documents as read, what the next incident document is. Pure: no I/O.
 */
import type { JobKind, JobTarget, SinkName } from "./model.js";

/** An incident is first re-checked from its jobs this long after its last change (the runner settles it far sooner). */
export const RECHECK_AFTER_MS = 2 * 60_000;

type Doc = Record<string, unknown>;

/** Jobs an incident tracks by key (what resolves it); beyond this it only counts them (a document stays < 1 MiB). */
export const INCIDENT_TRACKED_JOBS_MAX = 1000;
/** Customers / orders listed by name on an incident; `affectedCount` keeps counting past it. */
export const INCIDENT_AFFECTED_MAX = 100;
/** Dead jobs kept for a retry when the vendor is back. */
export const INCIDENT_DEAD_JOBS_MAX = 500;

export type IncidentOwner = "support" | "admin" | "finance";

/** What went wrong, as a cause: `sink` scope for a vendor that fails everyone, a target scope for one record's data. */
export interface IncidentCause {
  sink: SinkName;
  /** `http_5xx`, `timeout`, `unreachable` (vendor-wide) · `http_<status>`, `rejected` (this record's data). */
  errorKind: string;
  /** `sink`, or `customer:<uid>`, `order:<id>`, `support:<id>`, `job:<jobId>`. */
  scope: string;
}

export interface FailureInfo {
  message: string;
  httpStatus: number | null;
  /** The failure is final (a permanent error, or attempts used up). */
  dead: boolean;
  permanent: boolean;
}

const SINK_LABEL: Record<SinkName, string> = { crm: "HubSpot CRM", helpdesk: "the helpdesk", claims: "Firebase Auth claims", notify: "Slack", stripe: "the Stripe API" };

export function causeOf(job: { jobId: string; target: JobTarget }, sink: SinkName, failure: FailureInfo): IncidentCause {
  const status = failure.httpStatus;
  if (!failure.permanent) {
    // Retried and still failing: the vendor, not the record (HubSpot down fails every customer alike).
    const errorKind = status === null ? "unreachable" : status === 408 || status === 504 ? "timeout" : status >= 500 ? "http_5xx" : `http_${status}`;
    return { sink, errorKind, scope: "sink" };
  }
  return { sink, errorKind: status === null ? "rejected" : `http_${status}`, scope: targetScope(job) };
}

function targetScope(job: { jobId: string; target: JobTarget }): string {
  const t = job.target;
  if (t.uid) return `customer:${t.uid}`;
  if (t.orderId) return `order:${t.orderId}`;
  if (t.supportRequestId) return `support:${t.supportRequestId}`;
  return `job:${job.jobId}`;
}

/** `incident.<sink>.<errorKind>[.<scope>]`: stable, so every job of one cause lands on one document. */
export function incidentId(cause: IncidentCause): string {
  const base = `incident.${cause.sink}.${cause.errorKind}`;
  return cause.scope === "sink" ? base : `${base}.${cause.scope.replace(/\//g, "_")}`;
}

/** What a job is about, as one string: a later success of the same kind and target settles it. */
export function jobKey(kind: JobKind, target: JobTarget): string {
  const parts = Object.entries(target)
    .filter(([, v]) => typeof v === "string" && v !== "")
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${kind}|${parts.join(",")}`;
}

/** Put in `openKeys` while a vendor-wide incident holds dead jobs: any success of that sink is news of recovery. */
export const recoveryKey = (sink: SinkName): string => `sink:${sink}`;

export function incidentTitle(cause: IncidentCause, httpStatus: number | null): string {
  const who = SINK_LABEL[cause.sink];
  if (cause.scope === "sink") {
    const how = cause.errorKind === "unreachable" ? "unreachable" : cause.errorKind === "timeout" ? "timing out" : `failing (HTTP ${httpStatus ?? "5xx"})`;
    return `${who} is ${how}`;
  }
  const [kind, id] = splitScope(cause.scope);
  // `rejected`: opsync itself could not build the call (a missing record, a missing setup), not the vendor's answer.
  if (cause.errorKind === "rejected") return `Cannot sync ${kind} ${id} to ${who}`;
  return `${who} refuses ${kind} ${id}${httpStatus ? ` (HTTP ${httpStatus})` : ""}`;
}

function splitScope(scope: string): [string, string] {
  const i = scope.indexOf(":");
  return i < 0 ? [scope, ""] : [scope.slice(0, i), scope.slice(i + 1)];
}

/** The fix a person applies, per cause. */
export function incidentFix(cause: IncidentCause, httpStatus: number | null): string {
  if (cause.scope === "sink") {
    return `Check ${SINK_LABEL[cause.sink]}'s status page and opsync's network access. Nothing to do in opsync when it recovers: its next successful call retries the dead jobs.`;
  }
  if (httpStatus === 409) {
    return `${SINK_LABEL[cause.sink]} holds a conflicting record (e.g. a contact with the same email but another opsync_uid): merge or fix it there, then retry the jobs (retryJob).`;
  }
  if (httpStatus === 400 || httpStatus === 422) {
    return `${SINK_LABEL[cause.sink]} rejected the data (a missing property, stage or scope: see the error). Fix the portal setup (npm run hubspot:setup) or the record, then retry the jobs.`;
  }
  return "Read the error, fix the record or the vendor's setup, then retry the jobs (retryJob); the incident resolves when they succeed.";
}

export const OWNER_OF_SCOPE = (cause: IncidentCause): IncidentOwner => (cause.scope === "sink" ? "admin" : "support");

export interface NextStep {
  /** `retrying` (jobs still run), `probe` (opsync retries one dead job at `at`), `waiting_for_person`. */
  action: "retrying" | "probe" | "waiting_for_person";
  at: Date | null;
  text: string;
}

export function nextStepOf(cause: IncidentCause, s: { retryingAt: Date | null; deadJobs: number; probeAt: Date | null }): NextStep {
  if (s.retryingAt && (cause.scope === "sink" || s.deadJobs === 0)) {
    return { action: "retrying", at: s.retryingAt, text: "opsync keeps retrying the failing jobs with backoff; the incident resolves itself when they succeed." };
  }
  if (cause.scope === "sink" && s.deadJobs > 0) {
    return {
      action: "probe",
      at: s.probeAt,
      text: `${s.deadJobs} job(s) gave up. opsync retries one of them at the time shown; the next successful ${SINK_LABEL[cause.sink]} call retries all of them, and the incident resolves when they succeed.`,
    };
  }
  return { action: "waiting_for_person", at: null, text: "opsync will not retry these jobs by itself: fix the cause, then retry them. A new change to the record runs its job again; the incident resolves when the jobs succeed." };
}

// ---- Joining -----------------------------------------------------------------------------------------------

export interface JoiningJob {
  jobId: string;
  kind: JobKind;
  target: JobTarget;
  /** When the job runs next (retrying), or null (dead). */
  nextAttemptAt: Date | null;
}

export interface JoinResult {
  doc: Doc;
  /** The incident opened now (a new one, or a resolved one reopened): announce it once. */
  opened: boolean;
  occurrence: number;
}

const asDate = (v: unknown): Date | null => (v instanceof Date ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/**
 * The incident after `job` joined it. `existing` is the document as read (null: none yet). A resolved incident
 * reopens as a new occurrence (its own Slack messages); an open one is updated in place.
 */
export function joinIncident(existing: Doc | null, cause: IncidentCause, job: JoiningJob, failure: FailureInfo, now: Date, probeDelayMs: number): JoinResult {
  const open = existing?.status === "open";
  const occurrence = open ? Number(existing?.occurrence) || 1 : (Number(existing?.occurrence) || 0) + 1;
  const prev = open ? existing : null;
  const key = jobKey(job.kind, job.target);
  const keys = strings(prev?.openKeys).filter((k) => k !== recoveryKey(cause.sink));
  const tracked = keys.includes(key) || keys.length < INCIDENT_TRACKED_JOBS_MAX;
  if (!keys.includes(key) && tracked) keys.push(key);
  const dead = strings(prev?.deadJobIds).filter((id) => id !== job.jobId);
  if (failure.dead && dead.length < INCIDENT_DEAD_JOBS_MAX) dead.push(job.jobId);
  const customers = strings(prev?.affected && (prev.affected as Doc).customers);
  const orders = strings(prev?.affected && (prev.affected as Doc).orders);
  const jobIds = strings(prev?.jobIds);
  const isNewJob = !jobIds.includes(job.jobId);
  if (isNewJob && jobIds.length < INCIDENT_TRACKED_JOBS_MAX) jobIds.push(job.jobId);
  const addTo = (list: string[], v: string | undefined) => {
    if (v && !list.includes(v) && list.length < INCIDENT_AFFECTED_MAX) list.push(v);
  };
  const beforeAffected = customers.length + orders.length;
  addTo(customers, job.target.uid);
  addTo(orders, job.target.orderId);
  const newlyAffected = customers.length + orders.length - beforeAffected;
  const retryingAt = job.nextAttemptAt ?? asDate(prev?.retryingAt);
  const probeAt = cause.scope === "sink" && dead.length ? (asDate(prev?.probeAt) ?? new Date(now.getTime() + probeDelayMs)) : null;
  const owner = OWNER_OF_SCOPE(cause);
  const doc: Doc = {
    alertId: incidentIdOf(existing, cause),
    type: "incident",
    status: "open",
    occurrence,
    cause,
    sink: cause.sink,
    errorKind: cause.errorKind,
    scope: cause.scope,
    title: incidentTitle(cause, failure.httpStatus),
    owner,
    fix: incidentFix(cause, failure.httpStatus),
    nextStep: nextStepOf(cause, { retryingAt: failure.dead ? null : retryingAt, deadJobs: dead.length, probeAt }),
    error: { message: failure.message, httpStatus: failure.httpStatus, at: now },
    jobIds,
    jobCount: (Number(prev?.jobCount) || 0) + (isNewJob ? 1 : 0),
    openKeys: cause.scope === "sink" && dead.length ? [...keys, recoveryKey(cause.sink)] : keys,
    untrackedJobs: (Number(prev?.untrackedJobs) || 0) + (tracked ? 0 : 1),
    deadJobIds: dead,
    affected: { customers, orders },
    affectedCount: (Number(prev?.affectedCount) || 0) + newlyAffected,
    retryingAt: failure.dead ? (asDate(prev?.retryingAt) ?? null) : retryingAt,
    probeAt,
    // When the sweep looks at its jobs again, should the runner not settle it (domain/incidentRecheck.ts).
    settleCheckAt: new Date(now.getTime() + RECHECK_AFTER_MS),
    acknowledged: prev?.acknowledged ?? null,
    createdAt: open ? (asDate(existing?.createdAt) ?? now) : now,
    updatedAt: now,
    resolvedAt: null,
    resolvedBy: null,
    resolution: null,
  };
  return { doc, opened: !open, occurrence };
}

function incidentIdOf(existing: Doc | null, cause: IncidentCause): string {
  return typeof existing?.alertId === "string" ? existing.alertId : incidentId(cause);
}

// ---- Settling ----------------------------------------------------------------------------------------------

export interface SettleResult {
  /** Fields to update; null when this success changes nothing on the incident. */
  update: Doc | null;
  resolved: boolean;
  /** Dead jobs to retry now: the vendor answered again (a vendor-wide incident). */
  retry: string[];
}

/** A job of kind/target succeeded (`jobId`, of `sink`): what it changes on one incident that listed its key. */
export function settleIncident(doc: Doc, s: { key: string; jobId: string; sink: SinkName }, now: Date, by = "auto"): SettleResult {
  if (doc.status !== "open") return { update: null, resolved: false, retry: [] };
  const recovery = recoveryKey(s.sink);
  const keys = strings(doc.openKeys);
  const vendorWide = doc.scope === "sink" && doc.sink === s.sink;
  const retry = vendorWide ? strings(doc.deadJobIds).filter((id) => id !== s.jobId) : [];
  const remaining = keys.filter((k) => k !== s.key && (retry.length === 0 || k !== recovery));
  const left = remaining.filter((k) => k !== recovery);
  if (left.length === 0) {
    return { update: resolvedFields(now, by, null), resolved: true, retry };
  }
  const deadLeft = strings(doc.deadJobIds).filter((id) => id !== s.jobId && !retry.includes(id));
  const update: Doc = { openKeys: remaining, deadJobIds: deadLeft, updatedAt: now };
  if (retry.length) {
    update.probeAt = null;
    update.nextStep = { action: "retrying", at: now, text: `${SINK_LABEL[s.sink]} answered again: opsync retried the ${retry.length} dead job(s); the incident resolves itself when they succeed.` };
  }
  return { update, resolved: false, retry };
}

export function resolvedFields(now: Date, by: string, resolution: { note: string; by: string } | null): Doc {
  return {
    status: "resolved",
    resolvedAt: now,
    resolvedBy: by,
    resolution,
    openKeys: [],
    probeAt: null,
    settleCheckAt: null,
    nextStep: { action: "waiting_for_person", at: null, text: "Resolved." },
    updatedAt: now,
  };
}

/** A resolved incident of `occurrence`: who resolved it and how, for the audit log and Slack. */
export function describeResolution(by: string): string {
  if (by === "auto") return "its jobs succeeded";
  if (by === "signal") return "the signal dropped below its threshold";
  if (by === "credential_change") return "the credential was replaced";
  return `resolved by ${by}`;
}
