/** What the sync runner needs from its caller (composition root, tests). */
import type { Firestore } from "firebase-admin/firestore";
import type { RateSignals, VendorAccount, VendorLimit } from "../domain/budget.js";
import type { SinkName } from "../domain/model.js";
import type { NoticeSettings } from "../domain/notices.js";
import type { RetryPolicy } from "../domain/retry.js";
import type { Sinks } from "../sinks/ports.js";

export interface IncidentSettings {
  /** A job still retrying joins its cause's incident once this many attempts failed (dead jobs always join). */
  joinAfterAttempts: number;
  /** A vendor-wide incident retries one of its dead jobs this long after they died (then again each period). */
  probeDelayMs: number;
}

export interface Dispatcher {
  dispatch(jobId: string, delayMs: number): Promise<void>;
}

/** Where a test may make the worker "crash" (throw and record nothing), to prove no step loses or doubles work. */
export type RunStep = "before_claim" | "after_claim" | "after_vendor_call" | "before_complete" | "after_complete";

/** Per-vendor shared budgets (domain/budget.ts): which account each sink spends, each account's limit, live signals. */
export interface SyncBudgets {
  accountOf: (sink: SinkName) => VendorAccount;
  limits: Record<VendorAccount, VendorLimit>;
  /** Filled by the adapters from the vendors' rate-limit headers; read after each run. */
  signals: RateSignals;
}

export interface SyncDeps {
  db: Firestore;
  sinks: Sinks;
  policy: (sink: SinkName) => RetryPolicy;
  dispatcher: Dispatcher;
  now?: () => Date;
  random?: () => number;
  /** Default: domain/queuePolicy.leaseMsFor() (longer than the longest possible run). */
  leaseMs?: number;
  workerId?: string;
  /** ENTITLEMENT_GRACE_DAYS, for records re-derived by revalidation (default 3). */
  graceDays?: number;
  /** What personal data Slack notices may carry (NOTICE_PERSONAL_DATA); default: uid and a link only. */
  notices?: NoticeSettings;
  /** Fingerprint (hash) of each sink's current credential; a changed one lifts the sink's auth pause. */
  credentialOf?: (sink: SinkName) => string | null;
  /** Shared vendor budgets; absent: jobs are not metered (only 429s slow a sink). */
  budgets?: SyncBudgets;
  /** Incidents (INCIDENT_JOIN_AFTER_ATTEMPTS, INCIDENT_PROBE_MINUTES); defaults: join on the 3rd failed attempt, probe after 5 min. */
  incidents?: IncidentSettings;
  /** Test seam: called at each step; throwing there is a crash of the worker. */
  step?: (step: RunStep, jobId: string) => void;
}
