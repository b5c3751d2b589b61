/**
 * Maintenance section of `npm run bench` (issue 10): backfill customers/s, reconcile run time at two account sizes
 * (default 1k and 10k customers: linear means the per-customer time stays flat), the missed-event sweep's events/s,
 * and the admin `opsStatus` latency at the small and the large size (opsStatus.ts: flat means no scans).
 * Runs in the bench process against the emulators' Firestore and the local Stripe stand-in (:4640, seeded over
 * `POST /__seed`), calling the same services as the CLI. Background triggers are off meanwhile, so the sync queue does
 * not run the jobs the imports plan (they are written, as in production, and counted). CRM and claims reads go to the
 * in-memory fakes: the numbers are Stripe + Firestore cost, not HubSpot's rate budget.
 *
 * Env knobs: BENCH_MAINT_CUSTOMERS (default "1000,10000"; "0" skips the section), BENCH_SWEEP_EVENTS (default 1000),
 * BENCH_STATUS_JOBS_PER_CUSTOMER (default 5: 5k jobs at 1k customers, 50k at 10k), BENCH_STATUS_SAMPLES (default 15),
 * BENCH_MAINT_ONLY_STATUS=1 (only the opsStatus part: no Stripe seeding, backfill, reconcile or sweep; the sizes still
 * set the job counts).
 */
import { performance } from "node:perf_hooks";
import type { Firestore } from "firebase-admin/firestore";
import { runBackfill } from "../../functions/src/services/backfill";
import { sweepEvents } from "../../functions/src/services/eventSweep";
import { reconcile } from "../../functions/src/services/reconcile";
import { readCustomerPage } from "../../functions/src/store/reconcile";
import { MemoryClaims, MemoryCrm } from "../../test/fakes/memorySinks";
import { stripeReadClient, type StripeReadPort } from "../../functions/src/sinks/stripeApi";
import { customer, price, stripeEvent, subscription } from "../../test/support/stripeFixtures";
import { ensureLocalSecrets } from "../lib/localSecret";
import { LOCAL_STRIPE, setStandInRateLimit } from "./extensionSetup";
import { measureOpsStatus, seedJobs, type StatusSample } from "./opsStatus";
import { f1, f2, loadAverage, table, type Out } from "./stats";
import { setBackgroundTriggers } from "./triggers";

const PRO = price({ id: "price_bench_pro", lookupKey: "pro", entitlements: "reports,api", supportTier: "priority", amount: 4900 });
const SEED_CHUNK = 2000;

export interface MaintenanceOptions {
  sizes: number[];
  sweepEvents: number;
  jobsPerCustomer: number;
  statusSamples: number;
  /** Only time opsStatus (BENCH_MAINT_ONLY_STATUS=1). */
  onlyStatus: boolean;
}

interface SizeResult {
  customers: number;
  /** null: skipped (BENCH_MAINT_ONLY_STATUS=1). */
  backfill: { added: number; seconds: number; perSecond: number } | null;
  reconcile: { checked: number; seconds: number; msPerCustomer: number; drift: number } | null;
  status: StatusSample;
}

export interface MaintenanceResult {
  sizes: SizeResult[];
  sweep: { applied: number; listed: number; seconds: number; perSecond: number } | null;
  load: { start: string; end: string };
}

async function standIn(method: "POST" | "DELETE", body?: unknown): Promise<void> {
  const res = await fetch(`${LOCAL_STRIPE}/__seed`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  if (!res.ok) throw new Error(`Stripe stand-in ${method} /__seed answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
}

const json = (o: object, created: number) => ({ ...(JSON.parse(JSON.stringify(o)) as { id: string; object: string }), created });

/** Customers `from`..`to`-1, each with one active subscription and its uid in metadata, seeded in chunks. */
async function seedAccount(from: number, to: number, created: number): Promise<void> {
  for (let i = from; i < to; i += SEED_CHUNK / 2) {
    const objects = [];
    for (let j = i; j < Math.min(to, i + SEED_CHUNK / 2); j++) {
      objects.push(json(customer({ id: `cus_bench${j}`, uid: `u_bench${j}`, email: `bench${j}@example.com` }), created + j));
      objects.push(json(subscription({ id: `sub_bench${j}`, customer: `cus_bench${j}`, status: "active", price: PRO }), created + j));
    }
    await standIn("POST", { objects });
  }
}

async function sweepRound(db: Firestore, stripe: StripeReadPort, events: number, customers: number): Promise<MaintenanceResult["sweep"]> {
  const n = Math.min(events, customers);
  if (n === 0) return null;
  const created = Math.floor(Date.now() / 1000) - 2;
  // Never-delivered events: each moves one imported subscription to past_due (newer than its snapshot, so applied).
  const all = Array.from({ length: n }, (_, i) =>
    stripeEvent("customer.subscription.updated", subscription({ id: `sub_bench${i}`, customer: `cus_bench${i}`, status: "past_due", price: PRO }), { created }),
  );
  for (let i = 0; i < all.length; i += SEED_CHUNK) await standIn("POST", { events: all.slice(i, i + SEED_CHUNK) });
  const t0 = performance.now();
  const report = await sweepEvents({ db, stripe, graceDays: 3, acceptLivemode: false }, { since: new Date((created - 60) * 1000) });
  const seconds = (performance.now() - t0) / 1000;
  return { applied: report.applied, listed: report.listed, seconds, perSecond: report.applied / seconds };
}

/** BENCH_MAINT_ONLY_STATUS=1: sync jobs seeded up to each size, opsStatus timed; nothing else. */
async function statusOnly(db: Firestore, opts: MaintenanceOptions, out: Out): Promise<MaintenanceResult> {
  const load = { start: loadAverage(), end: "" };
  const sizes: SizeResult[] = [];
  // As in the whole section: the synthetic jobs must not wake the queue's triggers.
  await setBackgroundTriggers(false);
  try {
    for (const size of opts.sizes) {
      const jobs = await seedJobs(db, size * opts.jobsPerCustomer);
      const status = await measureOpsStatus(db, opts.statusSamples, { customers: size, jobs });
      out(`[bench] maintenance ${size}: opsStatus p50 ${f1(status.latency.p50)} ms at ${jobs} jobs (one count() p50 ${f1(status.oneCount.p50)} ms)`);
      sizes.push({ customers: size, backfill: null, reconcile: null, status });
    }
  } finally {
    await setBackgroundTriggers(true).catch(() => undefined);
  }
  load.end = loadAverage();
  return { sizes, sweep: null, load };
}

export async function maintenanceSection(db: Firestore, opts: MaintenanceOptions, out: Out): Promise<MaintenanceResult> {
  if (opts.onlyStatus) return statusOnly(db, opts, out);
  const key = ensureLocalSecrets({}).get("STRIPE_SECRET_KEY");
  if (!key) throw new Error("no STRIPE_SECRET_KEY in functions/.secret.local: run through `npm run bench`");
  const stripe = stripeReadClient({ secretKey: key, host: "127.0.0.1", port: Number(new URL(LOCAL_STRIPE).port), protocol: "http" });
  const load = { start: loadAverage(), end: "" };
  const sizes: SizeResult[] = [];
  let sweep: MaintenanceResult["sweep"] = null;
  await setBackgroundTriggers(false);
  // Stripe's live-mode read limit (the stand-in's default is test mode's 25/s); reads beyond it are retried.
  await setStandInRateLimit(100);
  try {
    await standIn("DELETE");
    const created = Math.floor(Date.now() / 1000) - 86_400;
    let seeded = 0;
    let jobs = 0;
    for (const size of opts.sizes) {
      await seedAccount(seeded, size, created);
      const t0 = performance.now();
      const backfill = await runBackfill({ db, stripe, graceDays: 3 });
      const backfillSeconds = (performance.now() - t0) / 1000;
      const added = size - seeded;
      seeded = size;
      out(`[bench] maintenance ${size}: backfill imported ${backfill.imported} (${backfill.unchanged} unchanged) in ${f1(backfillSeconds)} s`);
      const claims = new MemoryClaims();
      for (let i = 0; i < size; i++) claims.addUser(`u_bench${i}`);
      const t1 = performance.now();
      // Where a run's time goes: the first progress report of each phase marks the end of the one before.
      const phaseStarts: Array<[string, number]> = [["start", t1]];
      const onProgress = (p: { phase: string }) => {
        if (phaseStarts.at(-1)?.[0] !== p.phase) phaseStarts.push([p.phase, performance.now()]);
      };
      const run = await reconcile({ db, stripe, crm: new MemoryCrm(), claims, graceDays: 3 }, { onProgress });
      const reconcileSeconds = (performance.now() - t1) / 1000;
      phaseStarts.push(["end", performance.now()]);
      const phases = phaseStarts.slice(0, -1).map(([name, at], i) => `${name === "start" ? "before listing" : name} ${f1(((phaseStarts[i + 1]?.[1] ?? at) - at) / 1000)} s`);
      out(`[bench] maintenance ${size}: reconcile checked ${run.checked} in ${f1(reconcileSeconds)} s (${run.driftTotal} findings: CRM fake is empty); ${phases.join(", ")}`);
      // The customers phase's Firestore reads alone (the same pages, nothing compared): the emulator's share.
      const t2 = performance.now();
      let pages = 0;
      for (let after: string | null = null; ; pages++) {
        const page = await readCustomerPage(db, after, 100);
        if (page.length === 0) break;
        after = page[page.length - 1]?.customer.uid ?? null;
      }
      out(`[bench] maintenance ${size}: reading the ${pages} customer pages alone (query + batched billing/snapshot reads): ${f1((performance.now() - t2) / 1000)} s`);
      jobs = await seedJobs(db, size * opts.jobsPerCustomer);
      const status = await measureOpsStatus(db, opts.statusSamples, { customers: size, jobs });
      out(`[bench] maintenance ${size}: opsStatus p50 ${f1(status.latency.p50)} ms at ${jobs} jobs (one count() p50 ${f1(status.oneCount.p50)} ms)`);
      sizes.push({
        customers: size,
        backfill: { added, seconds: backfillSeconds, perSecond: added / backfillSeconds },
        reconcile: { checked: run.checked, seconds: reconcileSeconds, msPerCustomer: (reconcileSeconds * 1000) / Math.max(1, run.checked), drift: run.driftTotal },
        status,
      });
    }
    sweep = await sweepRound(db, stripe, opts.sweepEvents, seeded);
  } finally {
    await setStandInRateLimit(25).catch(() => undefined);
    await setBackgroundTriggers(true).catch(() => undefined);
  }
  load.end = loadAverage();
  return { sizes, sweep, load };
}

export function reportMaintenance(r: MaintenanceResult, out: Out): void {
  out("");
  out(`Maintenance (issue 10): backfill, reconcile, sweep, opsStatus — load average ${r.load.start} at start, ${r.load.end} at end`);
  out(
    table(
      ["customers", "backfill +cust", "backfill s", "cust/s", "reconcile checked", "reconcile s", "ms/customer", "jobs", "opsStatus p50 ms", "p95 ms", "1 count() p50 ms", "opsStatus / 1 count()"],
      r.sizes.map((s) => [
        String(s.customers), s.backfill ? String(s.backfill.added) : "-", s.backfill ? f1(s.backfill.seconds) : "-", s.backfill ? f1(s.backfill.perSecond) : "-",
        s.reconcile ? String(s.reconcile.checked) : "-", s.reconcile ? f1(s.reconcile.seconds) : "-", s.reconcile ? f2(s.reconcile.msPerCustomer) : "-",
        String(s.status.jobs), f1(s.status.latency.p50), f1(s.status.latency.p95), f1(s.status.oneCount.p50), f1(s.status.latency.p50 / s.status.oneCount.p50),
      ]),
    ),
  );
  const [small, large] = [r.sizes[0], r.sizes[r.sizes.length - 1]];
  if (small && large && small !== large) {
    if (small.reconcile && large.reconcile) {
      out(`  reconcile: ${f2(large.reconcile.seconds / small.reconcile.seconds)}x the time for ${f2(large.reconcile.checked / small.reconcile.checked)}x the customers (per customer ${f2(large.reconcile.msPerCustomer / small.reconcile.msPerCustomer)}x; linear = 1.00)`);
    }
    out(`  opsStatus: p50 ${f2(large.status.latency.p50 / small.status.latency.p50)}x, p95 ${f2(large.status.latency.p95 / small.status.latency.p95)}x at ${f2(large.status.jobs / small.status.jobs)}x the jobs (flat = 1.00); one count() matching nothing: p50 ${f2(large.status.oneCount.p50 / small.status.oneCount.p50)}x (the emulator walks the collection per query; production counts matching index entries only)`);
  }
  if (r.sweep) out(`  missed-event sweep: ${r.sweep.applied} applied of ${r.sweep.listed} listed in ${f1(r.sweep.seconds)} s = ${f1(r.sweep.perSecond)} events/s`);
}
