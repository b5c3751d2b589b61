/**
 * Per-vendor shared budgets, pure. One budget per vendor ACCOUNT, not per sink: HubSpot's CRM objects and HubSpot
 * Tickets spend one portal budget, so a burst of tickets slows contact jobs and a 429 on either holds both.
 *
 * The budget is a GCRA token bucket (a "theoretical arrival time" per bucket) with reservations: a job that finds
 * no budget is given the first free slot and waits for it without spending an attempt, so waiting jobs wake one
 * slot apart instead of all at once. The vendor's own rate-limit headers hold the account before a 429 when its
 * remaining budget runs low (other apps share a HubSpot portal). Storage: store/budgets.ts; orchestration:
 * store/jobs.ts (the claim) and services/syncRunner.ts (signals, 429 holds).
 */
import type { JobKind, SinkName } from "./model.js";

export const VENDOR_ACCOUNTS = ["hubspot", "zendesk", "slack", "auth", "stripe"] as const;
export type VendorAccount = (typeof VENDOR_ACCOUNTS)[number];

export const HUBSPOT_TIERS = ["free", "starter", "professional", "enterprise"] as const;
export type HubspotTier = (typeof HUBSPOT_TIERS)[number];

/** HubSpot private apps: requests per rolling 10 s per portal (Professional/Enterprise 190, Free/Starter 100). */
export const HUBSPOT_REQUESTS_PER_10S: Record<HubspotTier, number> = { free: 100, starter: 100, professional: 190, enterprise: 190 };

export interface VendorLimit {
  requests: number;
  windowMs: number;
}

/** Which account a sink's calls spend: the helpdesk spends the HubSpot portal's budget unless it is Zendesk. */
export function accountOf(sink: SinkName, helpdesk: "hubspot" | "zendesk"): VendorAccount {
  switch (sink) {
    case "crm":
      return "hubspot";
    case "helpdesk":
      return helpdesk;
    case "notify":
      return "slack";
    case "claims":
      return "auth";
    case "stripe":
      return "stripe";
  }
}

/**
 * Vendor calls one run of a job usually makes (a deal: contact upsert, deal upsert, association; a HubSpot ticket:
 * read, upsert, association; claims: read the user, set its claims). Rare extra calls (race retries, links) are
 * covered by the headers: a budget running low holds the account.
 */
export const CALLS_PER_JOB: Record<JobKind, number> = {
  "crm.contact.upsert": 1,
  "crm.deal.upsert": 3,
  "helpdesk.ticket.create": 3,
  "auth.claims.update": 2,
  "notify.slack": 1,
  "stripe.object.revalidate": 1,
};

/** Share of the budget a bucket may spend at once after a quiet spell; the rest is paced evenly. */
export const BURST_SHARE = 0.2;
/** Takes per second one Firestore document should absorb (hot-document guideline): above, the bucket is sharded. */
export const TAKES_PER_SHARD_PER_SECOND = 5;

/**
 * GCRA shape of one shard. Each shard holds 1/shards of the limit; emission = time one request's token takes to
 * come back; tolerance = how far ahead of time a burst may run. With burst b = BURST_SHARE·L per window W, at most
 * b + (1 − BURST_SHARE)·L = L requests fit in any window, so the vendor's own limit is never exceeded by opsync.
 */
export interface BucketShape {
  shards: number;
  emissionMs: number;
  toleranceMs: number;
}

export function bucketShape(limit: VendorLimit): BucketShape {
  // A job costs about two requests: size shards on takes (jobs) per second, not requests.
  const takesPerSecond = (limit.requests / limit.windowMs) * 1000 / 2;
  const shards = Math.max(1, Math.ceil(takesPerSecond / TAKES_PER_SHARD_PER_SECOND));
  const perShard = limit.requests / shards;
  const emissionMs = limit.windowMs / (perShard * (1 - BURST_SHARE));
  return { shards, emissionMs, toleranceMs: perShard * BURST_SHARE * emissionMs };
}

export interface Reservation {
  /** When the job may start (now, or the first free slot). */
  startAt: number;
  /** The shard's new theoretical arrival time. */
  tat: number;
}

/** Reserves `cost` requests on a shard whose theoretical arrival time is `tat` (null: never used). */
export function reserve(tat: number | null, cost: number, nowMs: number, shape: BucketShape): Reservation {
  const from = Math.max(tat ?? nowMs, nowMs);
  return { startAt: Math.max(nowMs, from - shape.toleranceMs), tat: from + Math.max(1, cost) * shape.emissionMs };
}

/** Jobs that wait for a slot or a hold wake spread over this much after it (tasks have 1 s resolution anyway). */
export const SLOT_JITTER_MS = 1_000;

export function jittered(atMs: number, random: () => number, spreadMs: number = SLOT_JITTER_MS): Date {
  return new Date(atMs + Math.round(random() * spreadMs));
}

/** What a vendor's answer said about the account's budget (X-HubSpot-RateLimit-*, Zendesk's rate-limit headers). */
export interface RateSignal {
  remaining: number;
  max: number;
  /** Rolling window length (HubSpot's Interval-Milliseconds). */
  intervalMs: number;
  /** A fixed window's reset, when the vendor says it (Zendesk `ratelimit-reset`, seconds → ms). */
  resetMs: number | null;
}

/** Below this share of the vendor's budget left, opsync holds the account (other apps in the portal need some too). */
export const RESERVE_SHARE = 0.1;

/**
 * How long to hold the account after `signal`, or null when there is room. A fixed window waits for its reset; a
 * rolling window waits until, at the vendor's average rate, enough requests have left it to restore the reserve.
 */
export function holdForSignal(signal: RateSignal): number | null {
  if (signal.max <= 0) return null;
  const reserveLeft = Math.ceil(signal.max * RESERVE_SHARE);
  if (signal.remaining > reserveLeft) return null;
  if (signal.resetMs !== null) return Math.max(1_000, signal.resetMs);
  const perMs = signal.max / Math.max(1, signal.intervalMs);
  return Math.max(250, Math.ceil((reserveLeft - signal.remaining + 1) / perMs));
}

type HeaderGet = (name: string) => string | null | undefined;

const num = (v: string | null | undefined): number | null => {
  if (v === null || v === undefined || v.trim() === "") return null;
  const n = Number(v.trim());
  return Number.isFinite(n) && n >= 0 ? n : null;
};

/** HubSpot: X-HubSpot-RateLimit-Max / -Remaining / -Interval-Milliseconds (the portal's rolling window). */
export function hubspotRateSignal(get: HeaderGet): RateSignal | null {
  const max = num(get("x-hubspot-ratelimit-max"));
  const remaining = num(get("x-hubspot-ratelimit-remaining"));
  const intervalMs = num(get("x-hubspot-ratelimit-interval-milliseconds"));
  if (max === null || remaining === null || intervalMs === null) return null;
  return { max, remaining, intervalMs, resetMs: null };
}

/**
 * Zendesk: the account's per-minute limit (`X-Rate-Limit` / `X-Rate-Limit-Remaining`, and on list endpoints
 * `ratelimit-limit` / `ratelimit-remaining` / `ratelimit-reset`), plus List Tickets' own limit
 * (`Zendesk-RateLimit-tickets-index: total=100; remaining=99; resets=41`). The tighter one counts.
 */
export function zendeskRateSignal(get: HeaderGet): RateSignal | null {
  const signals: RateSignal[] = [];
  const max = num(get("ratelimit-limit")) ?? num(get("x-rate-limit"));
  const remaining = num(get("ratelimit-remaining")) ?? num(get("x-rate-limit-remaining"));
  const reset = num(get("ratelimit-reset"));
  if (max !== null && remaining !== null) signals.push({ max, remaining, intervalMs: 60_000, resetMs: reset === null ? null : reset * 1000 });
  const index = get("zendesk-ratelimit-tickets-index");
  if (index) {
    const part = (k: string) => num(index.match(new RegExp(`${k}=(\\d+)`))?.[1]);
    const total = part("total");
    const left = part("remaining");
    const resets = part("resets");
    if (total !== null && left !== null) signals.push({ max: total, remaining: left, intervalMs: 60_000, resetMs: resets === null ? null : resets * 1000 });
  }
  if (!signals.length) return null;
  return signals.reduce((a, b) => (b.remaining / b.max < a.remaining / a.max ? b : a));
}

/** The newest signal per account, filled by the adapters as answers arrive and read by the runner after a job. */
export class RateSignals {
  private readonly latest = new Map<VendorAccount, RateSignal>();

  record(account: VendorAccount, signal: RateSignal | null): void {
    if (signal) this.latest.set(account, signal);
  }

  /** A callback for one account's adapter. */
  recorder(account: VendorAccount): (signal: RateSignal | null) => void {
    return (signal) => this.record(account, signal);
  }

  /** The newest signal since the last take (then forgotten, so one low answer holds the account once). */
  take(account: VendorAccount): RateSignal | null {
    const s = this.latest.get(account) ?? null;
    this.latest.delete(account);
    return s;
  }
}
