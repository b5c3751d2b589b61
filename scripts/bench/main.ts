/**
 * `npm run bench`: build, then `tsx scripts/emulators.ts exec --bench "tsx scripts/bench/main.ts"` — the emulators
 * (functions with the opsync AND the bench codebase, Firestore, Auth, Cloud Tasks) plus the local HubSpot, Zendesk,
 * Slack and Stripe stand-ins. Run it inside /work/shared/tools/isolated.sh on a shared machine (fixed ports).
 *
 * Sections (each in its own file):
 * 1. ack.ts — ack latency, triggers OFF: the same signed mix to the ack floor (benchAckFloor: one create(), nothing
 *    verified), opsync's stripeWebhook (one create() of the ledger entry) and the Stripe extension replica
 *    (benchExtensionWebhook), back to back per concurrency level. Ratios against the issue's targets (ackReport.ts).
 * 2. visible.ts — triggers ON: delivery -> ledger appliedAt and customers/{uid}, at BENCH_VISIBLE_CONCURRENCY.
 * 3. syncLag.ts — triggers ON: delivery -> apply -> sync job -> Cloud Tasks -> runSyncJob -> local HubSpot.
 * 4. lifecycle.ts — triggers ON: HubSpot calls per customer lifecycle vs distinct state changes, and its sync lag.
 * 5. consolePaint.ts — the ops console's first screen in real Chromium (signed-in admin, navigation → Health
 *    numbers visible), p50/p95 against the issue's < 2 s; skipped with the reason when Chromium is missing.
 * 6. maintenance.ts — triggers OFF: backfill customers/s, reconcile at 1k / 10k customers, sweep events/s, opsStatus
 *    latency at 1k customers / 5k jobs vs 10k / 50k (knobs in that file; BENCH_MAINT_CUSTOMERS=0 skips it).
 * Not measured anywhere: cold starts (warm-ups first; workers.ts watches /proc for workers spawned mid-round).
 *
 * Env knobs:
 *   BENCH_EVENTS               deliveries per ack round (default 300)
 *   BENCH_CONCURRENCY          ack rounds' concurrency levels (default "1,8,32")
 *   BENCH_ACK_FLOOR_TRIGGER    1 adds a diagnostic ack round: the floor writing into a trigger-watched collection
 *   BENCH_VISIBLE_EVENTS       deliveries per visible-latency round (default 120; 0 skips the section)
 *   BENCH_VISIBLE_CONCURRENCY  visible-latency levels (default "1,8")
 *   BENCH_SYNC_EVENTS          contacts in the sync-lag section (default 30)
 *   BENCH_SYNC_ORDERS          disputed orders in the sync-lag section (default 10)
 *   BENCH_SYNC_CONCURRENCY     sync items in flight (default 4)
 *   BENCH_LIFECYCLE_CUSTOMERS  customers taken through a whole lifecycle (default 5; 0 skips the section)
 *   BENCH_CONSOLE_LOADS        console first-screen loads timed (default 7; 0 skips the section)
 * The sync section needs the local HubSpot stand-in (HUBSPOT_BASE_URL=http://127.0.0.1:4610, HELPDESK=hubspot) and is
 * skipped otherwise. Prints tables to stdout; writes no files. Exits 1 if any delivery was answered unexpectedly, the
 * ledger disagrees with the distinct events sent, a visible/sync wait timed out, or sync jobs stay open. Missing a
 * ratio target is printed, not a failure: the numbers depend on the machine.
 */
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { ensureLocalSecrets, localParams, readLocalWebhookSecret } from "../lib/localSecret";
import { ackLevel, ackTargets, hmacMicros, warmUp, type AckContext, type AckRound } from "./ack";
import { reportAck } from "./ackReport";
import { setStandInRateLimit } from "./extensionSetup";
import { PROJECT_ID } from "./http";
import { HubspotProbe, LOCAL_HUBSPOT } from "./hubspotProbe";
import { lifecycleSection, reportLifecycle, type LifecycleResult } from "./lifecycle";
import { f0, loadAverage } from "./stats";
import { settleJobs, SYNC_SETTLE_MS, syncSection, type SyncSection } from "./syncLag";
import { reportSync } from "./syncReport";
import { setBackgroundTriggers } from "./triggers";
import { consolePaintSection, reportConsolePaint, type ConsolePaint } from "./consolePaint";
import { maintenanceSection, reportMaintenance, type MaintenanceResult } from "./maintenance";
import { reportVisible, visibleRound, type VisibleRound } from "./visible";
import { WorkerWatch } from "./workers";

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function levelsEnv(name: string, fallback: string, min = 1): number[] {
  const raw = process.env[name] ?? fallback;
  const list = raw.split(",").map((s) => Number(s.trim()));
  if (!list.length || list.some((c) => !Number.isInteger(c) || c < min)) throw new Error(`${name} must be a comma-separated list of integers >= ${min}, got "${raw}"`);
  return list.filter((c) => c > 0);
}

/** Why the sync section cannot run here, or null. It polls the local HubSpot stand-in. */
function syncSkipReason(contacts: number, orders: number): string | null {
  const params = localParams();
  if (contacts + orders === 0) return "BENCH_SYNC_EVENTS=0 and BENCH_SYNC_ORDERS=0";
  if (params.get("HUBSPOT_BASE_URL") !== LOCAL_HUBSPOT) return `HUBSPOT_BASE_URL is ${params.get("HUBSPOT_BASE_URL") ?? "unset"}, not the local stand-in ${LOCAL_HUBSPOT}`;
  if ((params.get("HELPDESK") ?? "hubspot") !== "hubspot" && orders > 0) return `HELPDESK=${params.get("HELPDESK") ?? ""}: tickets would not go to HubSpot (set BENCH_SYNC_ORDERS=0)`;
  return null;
}

async function main(): Promise<number> {
  const deliveries = intEnv("BENCH_EVENTS", 300, 10);
  const levels = levelsEnv("BENCH_CONCURRENCY", "1,8,32");
  const visibleEvents = intEnv("BENCH_VISIBLE_EVENTS", 120, 0);
  const visibleLevels = levelsEnv("BENCH_VISIBLE_CONCURRENCY", "1,8");
  const syncContacts = intEnv("BENCH_SYNC_EVENTS", 30, 0);
  const syncOrders = intEnv("BENCH_SYNC_ORDERS", 10, 0);
  const syncConcurrency = intEnv("BENCH_SYNC_CONCURRENCY", 4, 1);
  const lifecycleCustomers = intEnv("BENCH_LIFECYCLE_CUSTOMERS", 5, 0);
  const maintenanceSizes = levelsEnv("BENCH_MAINT_CUSTOMERS", "1000,10000", 0);
  const consoleLoads = intEnv("BENCH_CONSOLE_LOADS", 7, 0);
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  if (!firestoreHost) throw new Error("FIRESTORE_EMULATOR_HOST is not set: run through `npm run bench`");
  const secret = readLocalWebhookSecret();
  if (!secret) throw new Error("no local webhook secret in functions/.secret.local: run through `npm run bench`");
  // Set by `emulators.ts exec --bench` when the bench codebase (floor, extension replica) is loaded.
  const benchFunctions = process.env.OPSYNC_BENCH_FUNCTIONS === "1";
  const syncSkip = syncSkipReason(syncContacts, syncOrders);
  const lifecycleSkip = lifecycleCustomers === 0 ? "BENCH_LIFECYCLE_CUSTOMERS=0" : syncSkipReason(lifecycleCustomers, 0);
  const hubspotToken = ensureLocalSecrets({}).get("HUBSPOT_TOKEN") ?? "";
  if ((!syncSkip || !lifecycleSkip) && !hubspotToken) throw new Error("no HUBSPOT_TOKEN in functions/.secret.local: run through `npm run bench`");

  const app = initializeApp({ projectId: PROJECT_ID }, "bench");
  const db = getFirestore(app);
  const out = (line = "") => process.stdout.write(`${line}\n`);
  const watch = new WorkerWatch();
  watch.start();
  let failed = false;
  let triggersOff = false;
  const targets = ackTargets(benchFunctions, process.env.BENCH_ACK_FLOOR_TRIGGER === "1");

  try {
    out(`\n[bench] firestore ${firestoreHost}; ${cpus().length} cores; load average at start ${loadAverage()}`);
    if (!benchFunctions) out("[bench] bench codebase not loaded (run through `npm run bench`): the ack section measures the webhook only");
    await setBackgroundTriggers(false);
    triggersOff = true;
    out("[bench] background triggers OFF for the ack rounds (emulator hub): ledger entries stay 'received', nothing is applied meanwhile");
    if (benchFunctions) {
      await setStandInRateLimit(null);
      out("[bench] local Stripe stand-in: read rate limit lifted for the run (25/s test mode would answer the extension replica 429)");
    }
    const ctx: AckContext = { db, secret, watch, deliveries, out };
    if ((await warmUp(ctx, targets)) > 0) failed = true;
    const rounds: AckRound[] = [];
    for (const [i, c] of levels.entries()) {
      const level = await ackLevel(ctx, targets, c, i);
      rounds.push(...level.rounds);
      if (level.warmBad) {
        out("[bench]   warm-up failures: see the functions emulator log above (worker start-up); they fail the run");
        failed = true;
      }
    }
    const hmacUs = hmacMicros(secret);

    const t0 = performance.now();
    await setBackgroundTriggers(true);
    triggersOff = false;
    out(`[bench] background triggers ON again in ${f0(performance.now() - t0)} ms`);
    const visible: VisibleRound[] = [];
    const visibleStart = new Date();
    if (visibleEvents > 0) {
      for (const c of visibleLevels) {
        const v = await visibleRound(db, secret, c, visibleEvents);
        visible.push(v);
        out(`[bench] visible c=${c}: ${v.events} applied, ${v.timeouts} timeouts, client p95 ${f0(v.client.p95)} ms`);
      }
    }
    if (visible.length) {
      // The visible rounds' applies wrote sync jobs; let them drain so they do not share the sync section's HubSpot budget.
      const drained = await settleJobs(db, visibleStart, SYNC_SETTLE_MS);
      out(`[bench] sync jobs from the visible rounds: ${drained.docs.length}, queue idle after ${f0(drained.waitedMs / 1000)} s${drained.open ? ` (${drained.open} still open)` : ""}`);
    }
    let sync: SyncSection | null = null;
    if (syncSkip) out(`[bench] sync lag skipped: ${syncSkip}`);
    else {
      sync = await syncSection(
        db,
        secret,
        watch,
        { contacts: syncContacts, orders: syncOrders, concurrency: syncConcurrency, hubspot: new HubspotProbe(LOCAL_HUBSPOT, hubspotToken) },
        out,
      );
    }
    let lifecycle: LifecycleResult | null = null;
    if (lifecycleSkip) out(`[bench] lifecycle skipped: ${lifecycleSkip}`);
    else lifecycle = await lifecycleSection(app, db, secret, { customers: lifecycleCustomers, hubspotBase: LOCAL_HUBSPOT, hubspotToken }, out);

    // Before the maintenance section: its synthetic jobs (up to 50k) are not the first screen a founder meets.
    let consolePaint: ConsolePaint | null = null;
    if (consoleLoads > 0) consolePaint = await consolePaintSection(app, db, consoleLoads, out);
    let maintenance: MaintenanceResult | null = null;
    if (maintenanceSizes.length) {
      const opts = { sizes: maintenanceSizes, sweepEvents: intEnv("BENCH_SWEEP_EVENTS", 1000, 0), jobsPerCustomer: intEnv("BENCH_STATUS_JOBS_PER_CUSTOMER", 5, 0), statusSamples: intEnv("BENCH_STATUS_SAMPLES", 15, 1), onlyStatus: process.env.BENCH_MAINT_ONLY_STATUS === "1" };
      maintenance = await maintenanceSection(db, opts, out);
    }

    out("");
    out("=".repeat(100));
    out(`opsync bench, load average at the end ${loadAverage()} (${cpus().length} cores; other sessions share this machine)`);
    if (reportAck(rounds, hmacUs, out)) failed = true;
    if (visible.length && reportVisible(visible, out)) failed = true;
    if (sync && reportSync(sync, out)) failed = true;
    if (lifecycle && reportLifecycle(lifecycle, out)) failed = true;
    if (consolePaint) reportConsolePaint(consolePaint, out);
    if (maintenance) reportMaintenance(maintenance, out);
    out("=".repeat(100));
  } finally {
    watch.stop();
    if (triggersOff) await setBackgroundTriggers(true).catch(() => undefined);
    // Back to Stripe's test-mode limit, which the stand-in enforces by default (docs/local-stripe.md).
    if (benchFunctions) await setStandInRateLimit(25).catch(() => undefined);
    await deleteApp(app);
  }
  return failed ? 1 : 0;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  })
  .finally(() => {
    // Keep-alive sockets must not hold the emulators open after the numbers are printed.
    setTimeout(() => process.exit(), 2000).unref();
  });
