/**
 * Ingest and sync benchmark, run inside the emulators by `npm run bench`
 * (= build, then `tsx scripts/emulators.ts exec "tsx scripts/bench.ts"`).
 *
 * 1. Webhook: signed Stripe deliveries POSTed to the functions emulator, a realistic mix (subscription
 *    lifecycles per customer, marketplace payments, ~10% duplicate re-deliveries). A customer's (or order's)
 *    events are sent in order, one at a time; parallelism is across customers. Rounds at concurrency 1, 8, 32,
 *    fresh ids each round. Per round: ack latency p50/p95/p99, events/s, commits per event, transaction attempts,
 *    non-200s, and a ledger count read back from Firestore (one stripeEvents doc per distinct event).
 *    Background triggers are off meanwhile (emulator hub switch), so the sync queue does not run underneath.
 * 2. Bare transaction: the same chains against the same Firestore emulator straight from firebase-admin, each
 *    delivery replaced by a transaction of the ingest's shape (getAll of 4 incl. the ledger; getAll of 2; 9 writes)
 *    with no logic, using payloads copied from documents the webhook just wrote. Duplicates map to the read-only
 *    shape (getAll of 4 + empty commit), as in the webhook. Gives the ratio webhook / bare.
 * 3. Sync lag (triggers on again): (a) customer.created with the uid in metadata, until the contact with
 *    opsync_uid = uid is found on the local HubSpot; (b) an order paid then disputed, until orders/{id}.tickets has
 *    an entry and the ticket exists on the local HubSpot. Closed loop, BENCH_SYNC_CONCURRENCY items in flight;
 *    each wait times out after 60 s. Also the job's dispatch delay (firstAttemptAt - createdAt) and a summary
 *    of every job the section wrote.
 *
 * Not measured: cold starts. The functions emulator runs one Node worker process per in-flight request and
 * spawns workers on demand; a warm-up (10 mixed events, then before each round at c > 1 simultaneous bursts
 * growing to c+c/4+1 events until the pool stops growing) makes sure the pool is spawned and warm when the clock runs.
 * Worker spawns during a round and machine CPU use are read from /proc and printed with the numbers.
 *
 * Env: BENCH_EVENTS (deliveries per round, default 300), BENCH_CONCURRENCY (default "1,8,32"), BENCH_SYNC_EVENTS
 * (contacts, default 30), BENCH_SYNC_ORDERS (disputed orders, default 10), BENCH_SYNC_CONCURRENCY (default 4).
 * The sync section needs the local HubSpot stand-in (HUBSPOT_BASE_URL=http://127.0.0.1:4610, HELPDESK=hubspot)
 * and is skipped otherwise. Prints tables to stdout; writes no files. Exits 1 if any delivery was not answered 200,
 * the ledger count does not match the distinct events sent, a sync wait timed out, or sync jobs stay open.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { getFirestore, Timestamp, type DocumentData, type Firestore } from "firebase-admin/firestore";
import {
  checkoutSession,
  customer,
  dispute,
  invoice,
  paymentIntent,
  price,
  signedDelivery,
  stripeEvent,
  subscription,
  uniq,
  type FixtureEvent,
} from "../test/support/stripeFixtures";
import { ensureLocalSecrets, localParams, readLocalWebhookSecret } from "./lib/localSecret";

const PROJECT_ID = "demo-opsync";
const DEFAULT_URL = `http://127.0.0.1:5001/${PROJECT_ID}/us-central1/stripeWebhook`;
const REQUEST_TIMEOUT_MS = 30_000;
const WARMUP_TIMEOUT_MS = 45_000;

// ---------------------------------------------------------------------------------------------------------------
// Configuration

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function concurrencies(): number[] {
  const raw = process.env.BENCH_CONCURRENCY ?? "1,8,32";
  const list = raw.split(",").map((s) => Number(s.trim()));
  if (!list.length || list.some((c) => !Number.isInteger(c) || c < 1)) {
    throw new Error(`BENCH_CONCURRENCY must be a comma-separated list of positive integers, got "${raw}"`);
  }
  return list;
}

// ---------------------------------------------------------------------------------------------------------------
// Workload: chains of deliveries; a chain is one customer's (or one order's) events, sent strictly in order.

/** Small deterministic PRNG so the workload's structure is the same run to run (ids are random). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type DeliveryKind =
  | "checkout.session.completed"
  | "customer.subscription.created"
  | "invoice.paid"
  | "customer.subscription.updated"
  | "payment_intent.succeeded";

/** One of the fixture events this bench sends (FixtureEvent<T> is invariant in T, hence the mapped union). */
type BenchEvent = { [K in DeliveryKind]: FixtureEvent<K> }[DeliveryKind];

interface Delivery {
  event: BenchEvent;
  kind: DeliveryKind;
  /** A re-delivery of an event already sent earlier in the same chain. */
  redelivery: boolean;
}

interface CustomerIds {
  uid: string;
  cus: string;
  sub: string;
}

interface Workload {
  chains: Delivery[][];
  deliveries: number;
  customers: number;
  lifecycleEvents: number;
  marketplace: number;
  redeliveries: number;
  /** Distinct event ids; each should end up as exactly one stripeEvents ledger doc. */
  distinctEvents: number;
  eventIdPrefix: string;
  /** One customer whose four events all went through; its documents become the bare-transaction payloads. */
  sample: CustomerIds & { lastEventId: string };
}

const BASIC = price({ id: "price_basic", lookupKey: "basic", entitlements: "reports", amount: 900 });
const PRO = price({ id: "price_pro", lookupKey: "pro", entitlements: "reports,export", supportTier: "priority", amount: 2900 });

function customerChain(tag: string, index: number, created: number): { chain: Delivery[]; ids: CustomerIds } {
  const ids: CustomerIds = { uid: uniq("user"), cus: uniq("cus"), sub: uniq("sub") };
  const evt = (k: number) => ({ id: uniq(`evt_${tag}`), created: created + k });
  // Half the subscriptions carry the uid in metadata (subscription_data.metadata); the rest resolve via the mapping.
  const uidMeta = index % 2 === 0 ? { uid: ids.uid } : {};
  const variant = index % 3;
  const periodEnd = Math.floor(Date.now() / 1000) + 30 * 86400;
  const chain: Delivery[] = [
    {
      kind: "checkout.session.completed",
      redelivery: false,
      event: stripeEvent(
        "checkout.session.completed",
        checkoutSession({
          id: uniq("cs"),
          mode: "subscription",
          customer: ids.cus,
          clientReferenceId: ids.uid,
          subscription: ids.sub,
          amount: 900,
          email: `${ids.uid}@example.com`,
        }),
        evt(0),
      ),
    },
    {
      kind: "customer.subscription.created",
      redelivery: false,
      event: stripeEvent(
        "customer.subscription.created",
        subscription({ id: ids.sub, customer: ids.cus, status: "active", price: BASIC, periodEnd, ...uidMeta }),
        evt(1),
      ),
    },
    {
      kind: "invoice.paid",
      redelivery: false,
      event: stripeEvent(
        "invoice.paid",
        invoice({ id: uniq("in"), customer: ids.cus, subscription: ids.sub, status: "paid", amount: 900, billingReason: "subscription_create", ...uidMeta }),
        evt(2),
      ),
    },
    {
      kind: "customer.subscription.updated",
      redelivery: false,
      event:
        variant === 0
          ? // Upgrade: plan and entitlements change (CRM deal + claims jobs).
            stripeEvent(
              "customer.subscription.updated",
              subscription({ id: ids.sub, customer: ids.cus, status: "active", price: PRO, periodEnd, ...uidMeta }),
              { ...evt(3), previous: { items: { data: [{ price: { id: "price_basic" } }] } } },
            )
          : variant === 1
            ? // Cancel at period end.
              stripeEvent(
                "customer.subscription.updated",
                subscription({ id: ids.sub, customer: ids.cus, status: "active", price: BASIC, periodEnd, cancelAtPeriodEnd: true, ...uidMeta }),
                { ...evt(3), previous: { cancel_at_period_end: false } },
              )
            : // Renewal: the period moves on.
              stripeEvent(
                "customer.subscription.updated",
                subscription({ id: ids.sub, customer: ids.cus, status: "active", price: BASIC, periodEnd: periodEnd + 30 * 86400, ...uidMeta }),
                { ...evt(3), previous: { current_period_end: periodEnd } },
              ),
    },
  ];
  return { chain, ids };
}

function marketplaceChain(tag: string, created: number, amount: number): Delivery[] {
  const orderId = uniq("ord");
  return [
    {
      kind: "payment_intent.succeeded",
      redelivery: false,
      event: stripeEvent(
        "payment_intent.succeeded",
        paymentIntent({
          id: uniq("pi"),
          status: "succeeded",
          amount,
          metadata: { orderId, buyerUid: uniq("user"), sellerUid: uniq("seller") },
        }),
        { id: uniq(`evt_${tag}`), created },
      ),
    },
  ];
}

function buildWorkload(tag: string, deliveries: number, seed: number): Workload {
  const rand = prng(seed);
  const customers = Math.max(1, Math.round(deliveries / 6));
  const redeliveries = Math.round(deliveries / 10);
  const marketplace = Math.max(0, deliveries - 4 * customers - redeliveries);
  // Every chain's events are a few seconds apart, an hour ago: `created` orders them, the signature time is now.
  const created = Math.floor(Date.now() / 1000) - 3600;

  const chains: Delivery[][] = [];
  let sample: Workload["sample"] | null = null;
  for (let i = 0; i < customers; i += 1) {
    const { chain, ids } = customerChain(tag, i, created);
    chains.push(chain);
    const last = chain[chain.length - 1];
    if (!sample && last) sample = { ...ids, lastEventId: last.event.id };
  }
  for (let i = 0; i < marketplace; i += 1) chains.push(marketplaceChain(tag, created, 1000 + Math.floor(rand() * 20_000)));

  // Re-deliveries: a copy of an event already sent, later in the same chain (Stripe retrying a lost ack).
  const originals: Array<{ chain: Delivery[]; index: number }> = [];
  for (const chain of chains) chain.forEach((_, index) => originals.push({ chain, index }));
  for (let i = originals.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rand() * (i + 1));
    const a = originals[i];
    const b = originals[j];
    if (a && b) {
      originals[i] = b;
      originals[j] = a;
    }
  }
  const picked = originals.slice(0, Math.min(redeliveries, originals.length));
  for (const { chain, index } of picked) {
    const original = chain[index];
    if (!original) continue;
    const at = index + 1 + Math.floor(rand() * (chain.length - index));
    chain.splice(at, 0, { ...original, redelivery: true });
  }

  // Interleave customers and orders.
  for (let i = chains.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rand() * (i + 1));
    const a = chains[i];
    const b = chains[j];
    if (a && b) {
      chains[i] = b;
      chains[j] = a;
    }
  }
  if (!sample) throw new Error("workload has no customer chain");
  const total = chains.reduce((n, c) => n + c.length, 0);
  return {
    chains,
    deliveries: total,
    customers,
    lifecycleEvents: 4 * customers,
    marketplace,
    redeliveries: picked.length,
    distinctEvents: total - picked.length,
    eventIdPrefix: `evt_${tag}_`,
    sample,
  };
}

/**
 * Slots for the pool warm-up before a round at concurrency c: a few more than c, because the emulator marks a
 * worker idle only after the response is piped, so a chain's next request can briefly find every worker busy.
 */
const warmSlots = (c: number): number => c + Math.ceil(c / 4) + 1;

/** One single-event chain per slot: sent at once, they make the functions emulator spawn that many workers. */
function poolBurst(tag: string, slots: number): Delivery[][] {
  const created = Math.floor(Date.now() / 1000) - 3600;
  return Array.from({ length: slots }, () => marketplaceChain(tag, created, 5000));
}

/** Runs chains with at most `concurrency` in flight; each chain's items strictly in order. Returns wall ms. */
async function runChains<T>(chains: T[][], concurrency: number, step: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const chain = chains[next];
      next += 1;
      if (!chain) return;
      for (const item of chain) await step(item);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, chains.length) }, worker));
  return performance.now() - started;
}

// ---------------------------------------------------------------------------------------------------------------
// Webhook deliveries

interface WebhookAck {
  received: true;
  eventId: string;
  status: string;
  duplicate: boolean;
  attempts: number;
}

function isAck(value: unknown): value is WebhookAck {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return (
    v.received === true &&
    typeof v.eventId === "string" &&
    typeof v.status === "string" &&
    typeof v.duplicate === "boolean" &&
    typeof v.attempts === "number"
  );
}

interface Sample {
  ms: number;
  httpStatus: number;
  delivery: Delivery;
  ack: WebhookAck | null;
  error: string | null;
}

interface Posted {
  ms: number;
  httpStatus: number;
  ack: WebhookAck | null;
  error: string | null;
  /** Wall clock (Date.now()) when the whole response had arrived: compared with Firestore and vendor timestamps. */
  doneAt: number;
}

/** One signed delivery of any event. Signed at send time (Stripe signs each attempt), outside the timed span. */
async function postEvent(url: string, secret: string, event: object, timeoutMs: number): Promise<Posted> {
  const { body, signature } = signedDelivery(event, secret);
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    const doneAt = Date.now();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // reported below
    }
    const ack = res.status === 200 && isAck(parsed) ? parsed : null;
    const error = ack ? null : `HTTP ${res.status}: ${text.slice(0, 300)}`;
    return { ms, httpStatus: res.status, ack, error, doneAt };
  } catch (err) {
    const ms = performance.now() - started;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { ms, httpStatus: 0, ack: null, error: message, doneAt: Date.now() };
  }
}

async function post(url: string, secret: string, delivery: Delivery, timeoutMs: number): Promise<Sample> {
  const { ms, httpStatus, ack, error } = await postEvent(url, secret, delivery.event, timeoutMs);
  return { ms, httpStatus, delivery, ack, error };
}

/**
 * The platform floor: GET is answered 405 by the handler before any signature check or Firestore call, so its
 * latency is the HTTP hop through the functions emulator to a worker and back.
 */
async function probeFloor(url: string, n: number): Promise<{ lat: Latency; bad: number }> {
  const times: number[] = [];
  let bad = 0;
  for (let i = 0; i < n; i += 1) {
    const started = performance.now();
    try {
      const res = await fetch(url, { method: "GET", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await res.text();
      if (res.status !== 405) bad += 1;
    } catch {
      bad += 1;
    }
    times.push(performance.now() - started);
  }
  return { lat: latency(times), bad };
}

async function deliverAll(url: string, secret: string, chains: Delivery[][], concurrency: number, timeoutMs: number) {
  const samples: Sample[] = [];
  const wallMs = await runChains(chains, concurrency, async (d) => {
    samples.push(await post(url, secret, d, timeoutMs));
  });
  return { samples, wallMs };
}

// ---------------------------------------------------------------------------------------------------------------
// Functions emulator worker processes (Linux /proc): one Node process per in-flight invocation, spawned on demand.
// Watching them shows cold starts that land inside a measured round. Only one emulator suite can hold the ports,
// so every functionsEmulatorRuntime process on the machine during the run belongs to it.

class WorkerWatch {
  private readonly seen = new Map<number, string>();
  private timer: NodeJS.Timeout | null = null;
  readonly available = existsSync("/proc/self/cmdline");

  start(): void {
    if (!this.available) return;
    this.scan();
    this.timer = setInterval(() => this.scan(), 200);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private scan(): void {
    let entries: string[];
    try {
      entries = readdirSync("/proc");
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (this.seen.has(pid)) continue;
      try {
        if (!readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("functionsEmulatorRuntime")) continue;
        const target = readFileSync(`/proc/${entry}/environ`, "utf8")
          .split("\0")
          .find((kv) => kv.startsWith("FUNCTION_TARGET="));
        this.seen.set(pid, target?.slice("FUNCTION_TARGET=".length) ?? "?");
      } catch {
        // exited between readdir and read
      }
    }
  }

  /** Worker processes ever seen, by function. */
  spawned(): Record<string, number> {
    this.scan();
    const counts: Record<string, number> = {};
    for (const target of this.seen.values()) counts[target] = (counts[target] ?? 0) + 1;
    return counts;
  }

  alive(target: string): number {
    let n = 0;
    for (const [pid, t] of this.seen) if (t === target && existsSync(`/proc/${pid}`)) n += 1;
    return n;
  }
}

/** Machine-wide CPU jiffies (all cores) from /proc/stat; null where there is no /proc. */
function cpuTimes(): { busy: number; total: number } | null {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Percent of all cores busy between two cpuTimes() readings (whole machine, not just this benchmark). */
function cpuBusy(before: ReturnType<typeof cpuTimes>, after: ReturnType<typeof cpuTimes>): number {
  if (!before || !after || after.total === before.total) return NaN;
  return (100 * (after.busy - before.busy)) / (after.total - before.total);
}

const WEBHOOK_TARGET = "stripeWebhook";
const TRIGGER_TARGET = "onStripeCustomerMapped";

function spawnedSince(before: Record<string, number>, after: Record<string, number>, target: string): number {
  return (after[target] ?? 0) - (before[target] ?? 0);
}

/**
 * Warm-up before a round at concurrency c > 1: simultaneous bursts that grow by WARM_STEP until warmSlots(c), then
 * repeat at warmSlots(c) until two bursts in a row spawn no new webhook worker, so every worker has also served
 * requests (a worker's first request pays for lazy module loading and its Firestore channel). Growing in steps
 * matters on 2 cores: ~40 workers started at once do not come up within the emulator's 30 s start timeout, and
 * the emulator then leaves those requests unanswered. Without /proc: the ramp plus three bursts.
 */
const WARM_STEP = 6;
const WARM_MAX_BURSTS = 16;

async function warmPool(
  url: string,
  secret: string,
  watch: WorkerWatch,
  c: number,
): Promise<{ bursts: number; events: number; bad: number; workers: number | null; settled: boolean }> {
  const slots = warmSlots(c);
  const workersNow = () => watch.spawned()[WEBHOOK_TARGET] ?? 0;
  const needStable = watch.available ? 2 : 3;
  let size = Math.min(slots, (watch.available ? workersNow() : 1) + WARM_STEP);
  let bursts = 0;
  let events = 0;
  let bad = 0;
  let stable = 0;
  while (bursts < WARM_MAX_BURSTS && stable < needStable) {
    const before = workersNow();
    const { samples } = await deliverAll(url, secret, poolBurst(`pw${c}`, size), size, WARMUP_TIMEOUT_MS);
    bursts += 1;
    events += samples.length;
    bad += samples.filter((s) => s.httpStatus !== 200).length;
    if (size < slots) {
      size = Math.min(slots, Math.max(size, watch.available ? workersNow() : size) + WARM_STEP);
      continue;
    }
    stable = watch.available && workersNow() > before ? 0 : stable + 1;
  }
  return { bursts, events, bad, workers: watch.available ? workersNow() : null, settled: stable >= needStable };
}

/** Waits until no onStripeCustomerMapped worker is running (background work from the previous round). */
async function settle(watch: WorkerWatch, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  await sleep(1000);
  while (watch.available && watch.alive(TRIGGER_TARGET) > 0 && Date.now() < deadline) await sleep(250);
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics

interface Latency {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

function latency(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN;
  return { p50: rank(50), p95: rank(95), p99: rank(99), mean, max: sorted[sorted.length - 1] ?? NaN };
}

interface WebhookRound {
  concurrency: number;
  workload: Workload;
  lat: Latency;
  latApplied: Latency;
  latDuplicate: Latency;
  perSec: number;
  non200: number;
  commits: number;
  meanAttempts: number;
  maxAttempts: number;
  retried: number;
  statuses: Record<string, number>;
  duplicateMismatch: number;
  ledgerDocs: number;
  errors: string[];
  /** p50 by event type (re-deliveries separately). */
  p50ByKind: Array<[string, number]>;
  /** Worker processes spawned while the round ran (cold starts inside the measurement). */
  spawnedWebhook: number | null;
  spawnedTrigger: number | null;
  cpu: number;
}

async function countLedger(db: Firestore, prefix: string): Promise<number> {
  const snap = await db
    .collection("stripeEvents")
    .where("eventId", ">=", prefix)
    .where("eventId", "<", `${prefix}\uf8ff`)
    .count()
    .get();
  return snap.data().count;
}

function summarizeWebhook(
  concurrency: number,
  workload: Workload,
  samples: Sample[],
  wallMs: number,
  ledgerDocs: number,
  spawned: { webhook: number | null; trigger: number | null },
  cpu: number,
): WebhookRound {
  const ok = samples.filter((s) => s.ack);
  const acks = ok.map((s) => s.ack).filter((a): a is WebhookAck => a !== null);
  const fresh = acks.filter((a) => !a.duplicate);
  const statuses: Record<string, number> = {};
  for (const a of acks) {
    const key = a.duplicate ? "duplicate" : a.status;
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const errors = samples.filter((s) => s.error).map((s) => `${s.delivery.kind} ${s.delivery.event.id}: ${s.error}`);
  return {
    concurrency,
    workload,
    lat: latency(samples.map((s) => s.ms)),
    latApplied: latency(ok.filter((s) => !s.ack?.duplicate).map((s) => s.ms)),
    latDuplicate: latency(ok.filter((s) => s.ack?.duplicate).map((s) => s.ms)),
    perSec: samples.length / (wallMs / 1000),
    non200: samples.filter((s) => s.httpStatus !== 200).length,
    commits: fresh.length,
    meanAttempts: acks.length ? acks.reduce((n, a) => n + a.attempts, 0) / acks.length : NaN,
    maxAttempts: acks.reduce((m, a) => Math.max(m, a.attempts), 0),
    retried: acks.filter((a) => a.attempts > 1).length,
    statuses,
    duplicateMismatch: ok.filter((s) => s.ack?.duplicate !== s.delivery.redelivery).length,
    ledgerDocs,
    errors,
    p50ByKind: (["checkout.session.completed", "customer.subscription.created", "invoice.paid", "customer.subscription.updated", "payment_intent.succeeded"] as const)
      .map((kind): [string, number] => [kind, latency(samples.filter((s) => s.delivery.kind === kind && !s.delivery.redelivery).map((s) => s.ms)).p50])
      .concat([["re-delivery", latency(samples.filter((s) => s.delivery.redelivery).map((s) => s.ms)).p50]]),
    spawnedWebhook: spawned.webhook,
    spawnedTrigger: spawned.trigger,
    cpu,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Bare transaction baseline

interface Templates {
  ledger: DocumentData;
  customer: DocumentData;
  billing: DocumentData;
  mapping: DocumentData;
  object: DocumentData;
  job: DocumentData;
  audits: [DocumentData, DocumentData];
}

/** Payloads copied from documents the webhook wrote for one customer, so the bare writes have the same size. */
async function loadTemplates(db: Firestore, s: Workload["sample"]): Promise<Templates> {
  const need = async (path: string): Promise<DocumentData> => {
    const snap = await db.doc(path).get();
    const data = snap.data();
    if (!data) throw new Error(`bare baseline: ${path} was not written by the webhook round`);
    return data;
  };
  const byCause = async (collection: string, limit: number): Promise<DocumentData[]> => {
    const snap = await db.collection(collection).where("cause.eventId", "==", s.lastEventId).limit(limit).get();
    return snap.docs.map((d) => d.data());
  };
  const [ledger, customer, billing, mapping, object, jobs, audits] = await Promise.all([
    need(`stripeEvents/${s.lastEventId}`),
    need(`customers/${s.uid}`),
    need(`customers/${s.uid}/private/billing`),
    need(`stripeCustomers/${s.cus}`),
    need(`stripeObjects/${s.sub}`),
    byCause("syncJobs", 1),
    byCause("auditLog", 2),
  ]);
  const job = jobs[0];
  const a0 = audits[0];
  const a1 = audits[1] ?? audits[0];
  if (!job || !a0 || !a1) throw new Error(`bare baseline: no syncJobs/auditLog docs caused by ${s.lastEventId}`);
  return { ledger, customer, billing, mapping, object, job, audits: [a0, a1] };
}

const approxBytes = (d: DocumentData): number => JSON.stringify(d).length;

/** Same collection names with a prefix: no function trigger fires on them (stripeCustomers would). */
const BARE = (collection: string) => `bench_${collection}`;

interface BareChainIds {
  uid: string;
  cus: string;
  objectA: string;
  objectB: string;
}

interface BareOp {
  ids: BareChainIds;
  readOnly: boolean;
}

/**
 * `separateLedgerRead` is the shape before the ledger read was merged into the first batched read: get(ledger),
 * then getAll(object, link, mapping); a duplicate was get + empty commit. Only for the A/B below.
 */
async function bareTransaction(db: Firestore, op: BareOp, t: Templates, separateLedgerRead = false): Promise<number> {
  let attempts = 0;
  const eventId = uniq("evt_bare");
  const ledgerRef = db.collection(BARE("stripeEvents")).doc(eventId);
  await db.runTransaction(async (tx) => {
    attempts += 1;
    const now = new Date();
    const objectA = db.collection(BARE("stripeObjects")).doc(op.ids.objectA);
    const objectB = db.collection(BARE("stripeObjects")).doc(op.ids.objectB);
    const mapping = db.collection(BARE("stripeCustomers")).doc(op.ids.cus);
    if (separateLedgerRead) {
      await tx.get(ledgerRef);
      if (op.readOnly) return;
      await tx.getAll(objectA, objectB, mapping);
    } else {
      // The ingest's first read: the ledger entry together with the object, its link and the mapping.
      await tx.getAll(ledgerRef, objectA, objectB, mapping);
      if (op.readOnly) return; // a duplicate: that one read, then an empty commit
    }
    const customer = db.collection(BARE("customers")).doc(op.ids.uid);
    const billing = db.doc(`${BARE("customers")}/${op.ids.uid}/private/billing`);
    await tx.getAll(customer, billing);
    tx.create(ledgerRef, { ...t.ledger, eventId, receivedAt: now, processedAt: now });
    tx.set(customer, { ...t.customer, uid: op.ids.uid, updatedAt: now }, { merge: true });
    tx.set(billing, { ...t.billing, uid: op.ids.uid, updatedAt: now });
    tx.set(mapping, { ...t.mapping, stripeCustomerId: op.ids.cus, uid: op.ids.uid });
    tx.set(objectA, { ...t.object, updatedAt: now }, { merge: true });
    tx.set(objectB, { ...t.object, updatedAt: now }, { merge: true });
    tx.set(db.collection(BARE("syncJobs")).doc(`${eventId}_job`), { ...t.job, createdAt: now, updatedAt: now });
    tx.set(db.collection(BARE("auditLog")).doc(), { ...t.audits[0], at: now });
    tx.set(db.collection(BARE("auditLog")).doc(), { ...t.audits[1], at: now });
  });
  return attempts;
}

/** The webhook round's chains, one bare op per delivery; each chain keeps its own documents, like a customer. */
function bareChains(workload: Workload): BareOp[][] {
  return workload.chains.map((chain) => {
    const ids: BareChainIds = { uid: uniq("user"), cus: uniq("cus"), objectA: uniq("sub"), objectB: uniq("pi") };
    return chain.map((d) => ({ ids, readOnly: d.redelivery }));
  });
}

/**
 * The merged ledger read, A/B in one process at concurrency 1: the round's ops alternate between the current shape
 * (getAll of 4, getAll of 2, commit) and the previous one (get, getAll of 3, getAll of 2, commit), so drift and
 * other load on the machine hit both alike. Applied ops and duplicates are reported separately.
 */
async function bareShapeAB(db: Firestore, chains: BareOp[][], t: Templates) {
  const times = { merged: { applied: [] as number[], duplicate: [] as number[] }, separate: { applied: [] as number[], duplicate: [] as number[] } };
  let i = 0;
  await runChains(chains, 1, async (op) => {
    const separate = i % 2 === 1;
    i += 1;
    const started = performance.now();
    await bareTransaction(db, op, t, separate);
    (separate ? times.separate : times.merged)[op.readOnly ? "duplicate" : "applied"].push(performance.now() - started);
  });
  return {
    merged: { applied: latency(times.merged.applied), duplicate: latency(times.merged.duplicate) },
    separate: { applied: latency(times.separate.applied), duplicate: latency(times.separate.duplicate) },
  };
}

interface BareRound {
  concurrency: number;
  lat: Latency;
  perSec: number;
  errors: number;
  meanAttempts: number;
  maxAttempts: number;
  firstError: string | null;
  cpu: number;
}

async function runBare(db: Firestore, chains: BareOp[][], concurrency: number, t: Templates): Promise<BareRound> {
  const times: number[] = [];
  const attempts: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const cpu0 = cpuTimes();
  const wallMs = await runChains(chains, concurrency, async (op) => {
    const started = performance.now();
    try {
      attempts.push(await bareTransaction(db, op, t));
    } catch (err) {
      errors += 1;
      firstError ??= err instanceof Error ? err.message : String(err);
    }
    times.push(performance.now() - started);
  });
  return {
    concurrency,
    lat: latency(times),
    perSec: times.length / (wallMs / 1000),
    errors,
    meanAttempts: attempts.length ? attempts.reduce((a, b) => a + b, 0) / attempts.length : NaN,
    maxAttempts: Math.max(0, ...attempts),
    firstError,
    cpu: cpuBusy(cpu0, cpuTimes()),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Sync lag: Stripe event -> sync job -> onSyncJobWritten -> Cloud Tasks emulator -> runSyncJob -> local HubSpot.

/**
 * Background triggers (every Firestore and Auth trigger: onSyncJobWritten, onStripeCustomerMapped,
 * onCustomerUpdated, ...) are switched off through the emulator hub during the webhook and bare rounds. Otherwise
 * every job those rounds write would be dispatched and run against the local vendors while later rounds are
 * timed, and the webhook numbers would not be comparable with runs from before the sync queue existed. HTTP and
 * task-queue functions are not affected. Jobs written while the triggers are off stay `pending`: no sweeper runs
 * on the emulators (no Pub/Sub emulator for the schedule), so they are never dispatched.
 */
async function setBackgroundTriggers(enabled: boolean): Promise<void> {
  const hub = process.env.FIREBASE_EMULATOR_HUB ?? "127.0.0.1:4400";
  const res = await fetch(`http://${hub}/functions/${enabled ? "enable" : "disable"}BackgroundTriggers`, {
    method: "PUT",
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`emulator hub: ${enabled ? "enabling" : "disabling"} background triggers answered ${res.status}: ${text.slice(0, 200)}`);
}

const SYNC_WAIT_MS = 60_000;
const SYNC_SETTLE_MS = 180_000;
const POLL_MS = 100;
/** HubSpot's search takes at most 5 filterGroups (ORed) per request. */
const SEARCH_GROUPS = 5;
const LOCAL_HUBSPOT = "http://127.0.0.1:4610";

interface VendorObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
}

function isVendorObject(value: unknown): value is VendorObject {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === "string" && typeof v.createdAt === "string" && typeof v.properties === "object" && v.properties !== null;
}

/** The bench's own calls to the local HubSpot. They count against the portal's rate limit (190 / 10 s) like the sink's. */
class HubspotProbe {
  requests = 0;
  rateLimited = 0;
  failures = 0;
  minRemaining = Infinity;

  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    this.requests += 1;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const remaining = res.headers.get("x-hubspot-ratelimit-remaining");
    if (remaining !== null && Number.isFinite(Number(remaining))) this.minRemaining = Math.min(this.minRemaining, Number(remaining));
    if (res.status === 429) this.rateLimited += 1;
    else if (res.status >= 400 && res.status !== 404) this.failures += 1;
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: the status says enough
    }
    return { status: res.status, json };
  }

  /** Contacts whose opsync_uid is one of `uids`: one search per 5 uids. */
  async contactsByUid(uids: string[]): Promise<Map<string, VendorObject>> {
    const found = new Map<string, VendorObject>();
    for (let i = 0; i < uids.length; i += SEARCH_GROUPS) {
      const chunk = uids.slice(i, i + SEARCH_GROUPS);
      const { status, json } = await this.call("POST", "/crm/v3/objects/contacts/search", {
        filterGroups: chunk.map((uid) => ({ filters: [{ propertyName: "opsync_uid", operator: "EQ", value: uid }] })),
        properties: ["opsync_uid"],
        limit: 100,
      });
      if (status !== 200) continue;
      const results = json && typeof json === "object" ? (json as { results?: unknown }).results : null;
      for (const r of Array.isArray(results) ? results : []) {
        if (!isVendorObject(r)) continue;
        const uid = r.properties.opsync_uid;
        if (uid) found.set(uid, r);
      }
    }
    return found;
  }

  async ticket(id: string): Promise<VendorObject | null> {
    const { status, json } = await this.call("GET", `/crm/v3/objects/tickets/${encodeURIComponent(id)}`);
    return status === 200 && isVendorObject(json) ? json : null;
  }
}

/**
 * Waits for many keys with one poll loop: every POLL_MS a single batched `check` of all keys still pending, so
 * the bench's own load (and its share of the vendor's rate limit) does not grow with the number of waits.
 */
class Poller<T> {
  private readonly pending = new Map<string, { since: number; resolve: (r: { value: T; seenAt: number } | null) => void }>();
  private running = false;
  errors = 0;
  firstError: string | null = null;

  constructor(private readonly check: (keys: string[]) => Promise<Map<string, T>>) {}

  /** The value and the wall-clock time it was first seen, or null once SYNC_WAIT_MS have passed since `since`. */
  wait(key: string, since: number): Promise<{ value: T; seenAt: number } | null> {
    const done = new Promise<{ value: T; seenAt: number } | null>((resolve) => this.pending.set(key, { since, resolve }));
    if (!this.running) void this.loop();
    return done;
  }

  private async loop(): Promise<void> {
    this.running = true;
    while (this.pending.size) {
      const started = Date.now();
      let found = new Map<string, T>();
      try {
        found = await this.check([...this.pending.keys()]);
      } catch (err) {
        this.errors += 1;
        this.firstError ??= err instanceof Error ? err.message : String(err);
      }
      const seenAt = Date.now();
      for (const [key, p] of [...this.pending]) {
        const value = found.get(key);
        if (value !== undefined) p.resolve({ value, seenAt });
        else if (seenAt - p.since > SYNC_WAIT_MS) p.resolve(null);
        else continue;
        this.pending.delete(key);
      }
      await sleep(Math.max(0, POLL_MS - (Date.now() - started)));
    }
    this.running = false;
  }
}

const millis = (v: unknown): number => (v instanceof Timestamp ? v.toMillis() : NaN);

interface JobTimes {
  jobId: string;
  status: string;
  attempts: number;
  createdAt: number;
  firstAttemptAt: number;
  completedAt: number;
}

/** The job of `kind` that `eventId` wrote (its id from the event's ledger entry). */
async function jobOfEvent(db: Firestore, eventId: string, kind: string): Promise<JobTimes | null> {
  const ledger = await db.collection("stripeEvents").doc(eventId).get();
  const ids = (ledger.get("jobIds") as string[] | undefined) ?? [];
  const id = ids.find((j) => j.includes(`.${kind}.`));
  if (!id) return null;
  const snap = await db.collection("syncJobs").doc(id).get();
  if (!snap.exists) return null;
  return {
    jobId: id,
    status: String(snap.get("status")),
    attempts: Number(snap.get("attempts") ?? 0),
    createdAt: millis(snap.get("createdAt")),
    firstAttemptAt: millis(snap.get("firstAttemptAt")),
    completedAt: millis(snap.get("completedAt")),
  };
}

interface LagSample {
  /** The event whose job is measured (customer.created, or the dispute). */
  eventId: string;
  /** Its delivery was answered 200 (wall clock). */
  ackAt: number;
  /** First seen by the bench's poll (null: not within SYNC_WAIT_MS). */
  seenAt: number | null;
  /** The vendor object's own createdAt: when it became visible at the vendor (same machine, same clock). */
  vendorAt: number | null;
  job: JobTimes | null;
}

interface LagRun {
  samples: LagSample[];
  errors: string[];
  wallMs: number;
  cpu: number;
  spawned: Record<string, number>;
}

/** `n` items, at most `concurrency` in flight; an item delivers its events, then waits for the result. */
async function runLag(n: number, concurrency: number, watch: WorkerWatch, item: (i: number) => Promise<LagSample | string>): Promise<LagRun> {
  const samples: LagSample[] = [];
  const errors: string[] = [];
  const before = watch.spawned();
  const cpu0 = cpuTimes();
  const wallMs = await runChains(
    Array.from({ length: n }, (_, i) => [i]),
    concurrency,
    async (i) => {
      const r = await item(i);
      if (typeof r === "string") errors.push(r);
      else samples.push(r);
    },
  );
  const cpu = cpuBusy(cpu0, cpuTimes());
  const after = watch.spawned();
  const spawned: Record<string, number> = {};
  for (const t of Object.keys(after)) if (spawnedSince(before, after, t)) spawned[t] = spawnedSince(before, after, t);
  return { samples, errors, wallMs, cpu, spawned };
}

/** Jobs created since `since` (this section's), by state; waits until none is pending, running or retrying. */
async function settleJobs(db: Firestore, since: Date, maxMs: number): Promise<{ open: number; docs: DocumentData[]; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const snap = await db.collection("syncJobs").where("createdAt", ">=", since).get();
    const docs = snap.docs.map((d) => d.data());
    const open = docs.filter((d) => ["pending", "running", "retrying"].includes(String(d.status))).length;
    if (open === 0 || Date.now() - started > maxMs) return { open, docs, waitedMs: Date.now() - started };
    await sleep(500);
  }
}

interface SyncSection {
  contacts: LagRun;
  tickets: LagRun;
  concurrency: number;
  warm: { contacts: LagRun; tickets: LagRun };
  jobs: DocumentData[];
  openAfterSettle: number;
  settleMs: number;
  alerts: DocumentData[];
  probe: HubspotProbe;
  pollErrors: string[];
}

async function syncSection(
  db: Firestore,
  url: string,
  secret: string,
  watch: WorkerWatch,
  opts: { contacts: number; orders: number; concurrency: number; hubspot: HubspotProbe },
  out: (line?: string) => void,
): Promise<SyncSection> {
  const { hubspot } = opts;
  const contactsPoll = new Poller<VendorObject>((uids) => hubspot.contactsByUid(uids));
  const ordersPoll = new Poller<string>(async (orderIds) => {
    const snaps = await db.getAll(...orderIds.map((id) => db.collection("orders").doc(id)));
    const found = new Map<string, string>();
    for (const s of snaps) {
      const tickets = (s.get("tickets") ?? {}) as Record<string, { ticketId?: unknown }>;
      const first = Object.values(tickets).find((t) => typeof t.ticketId === "string");
      if (first && typeof first.ticketId === "string") found.set(s.id, first.ticketId);
    }
    return found;
  });

  /** (a) customer.created with the uid in metadata -> crm.contact.upsert -> contact with opsync_uid = uid. */
  const contactItem = (uids: string[]) => async (i: number): Promise<LagSample | string> => {
    const uid = uids[i] ?? uniq("user");
    const event = stripeEvent("customer.created", customer({ id: uniq("cus"), uid, email: `${uid}@example.com`, name: "Bench Subscriber" }));
    const r = await postEvent(url, secret, event, REQUEST_TIMEOUT_MS);
    if (!r.ack) return `customer.created ${event.id}: ${r.error ?? "no ack"}`;
    const seen = await contactsPoll.wait(uid, r.doneAt);
    return { eventId: event.id, ackAt: r.doneAt, seenAt: seen?.seenAt ?? null, vendorAt: seen ? Date.parse(seen.value.createdAt) : null, job: null };
  };

  /** (b) an order paid, then disputed -> helpdesk.ticket.create -> orders/{id}.tickets entry + HubSpot ticket. */
  const ticketItem = async (): Promise<LagSample | string> => {
    const meta = { orderId: uniq("ord"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    const pi = uniq("pi");
    const paid = stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: 5000, metadata: meta }));
    const p1 = await postEvent(url, secret, paid, REQUEST_TIMEOUT_MS);
    if (!p1.ack) return `payment_intent.succeeded ${paid.id}: ${p1.error ?? "no ack"}`;
    const disputed = stripeEvent("charge.dispute.created", dispute({ id: uniq("dp"), charge: uniq("ch"), paymentIntent: pi, amount: 5000, status: "needs_response" }));
    const p2 = await postEvent(url, secret, disputed, REQUEST_TIMEOUT_MS);
    if (!p2.ack) return `charge.dispute.created ${disputed.id}: ${p2.error ?? "no ack"}`;
    const entry = await ordersPoll.wait(meta.orderId, p2.doneAt);
    let vendor: VendorObject | null = null;
    let seenAt: number | null = null;
    // The ticket id is written back after HubSpot answered, so the ticket should already be there.
    while (entry && !vendor && Date.now() - p2.doneAt <= SYNC_WAIT_MS) {
      vendor = await hubspot.ticket(entry.value);
      if (vendor) seenAt = Date.now();
      else await sleep(POLL_MS);
    }
    return { eventId: disputed.id, ackAt: p2.doneAt, seenAt, vendorAt: vendor ? Date.parse(vendor.createdAt) : null, job: null };
  };

  const c = opts.concurrency;
  const sectionStart = new Date();
  // No Auth users for these uids: creating one fires onUserCreated, which writes the customer and a contact job
  // itself, so the contact would exist before the event. customer.created changes no entitlements and writes no
  // claims job (the job summary below lists every kind written), so no claims job can go dead for a missing user.
  const uids = Array.from({ length: opts.contacts + 2 * c }, () => uniq("user"));

  // Warm-up at the same concurrency (not measured): spawns the trigger and task workers, opens their channels.
  const warmUids = uids.slice(opts.contacts);
  const warmOrders = opts.orders ? Math.min(c, opts.orders) : 0;
  const warmContacts = await runLag(warmUids.length, c, watch, contactItem(warmUids));
  const warmTickets = await runLag(warmOrders, c, watch, ticketItem);
  const warmSettle = await settleJobs(db, sectionStart, SYNC_SETTLE_MS);
  out(
    `[bench] sync warm-up: ${warmUids.length} contacts + ${warmOrders} disputes at c=${c}, ` +
      `${warmContacts.errors.length + warmTickets.errors.length} errors, ` +
      `${[...warmContacts.samples, ...warmTickets.samples].filter((s) => s.seenAt === null).length} timeouts; ` +
      `queue idle after ${f1(warmSettle.waitedMs / 1000)} s${warmSettle.open ? ` (${warmSettle.open} still open)` : ""}, workers ${JSON.stringify(watch.spawned())}`,
  );

  const since = new Date();
  const alertsBefore = new Set((await db.collection("alerts").get()).docs.map((d) => d.id));
  const contacts = await runLag(opts.contacts, c, watch, contactItem(uids.slice(0, opts.contacts)));
  out(`[bench] sync lag contacts: ${opts.contacts} at c=${c} in ${f0(contacts.wallMs)} ms, ${contacts.errors.length} errors, spawned ${JSON.stringify(contacts.spawned)}`);
  await settleJobs(db, since, SYNC_SETTLE_MS);
  const tickets = await runLag(opts.orders, c, watch, ticketItem);
  out(`[bench] sync lag tickets: ${opts.orders} at c=${c} in ${f0(tickets.wallMs)} ms, ${tickets.errors.length} errors, spawned ${JSON.stringify(tickets.spawned)}`);
  const settled = await settleJobs(db, since, SYNC_SETTLE_MS);

  for (const s of contacts.samples) s.job = await jobOfEvent(db, s.eventId, "crm.contact.upsert");
  for (const s of tickets.samples) s.job = await jobOfEvent(db, s.eventId, "helpdesk.ticket.create");
  const alerts = (await db.collection("alerts").get()).docs.filter((d) => !alertsBefore.has(d.id)).map((d) => d.data());
  const pollErrors = [contactsPoll, ordersPoll].filter((p) => p.errors).map((p) => `${p.errors} poll errors, first: ${p.firstError ?? "?"}`);
  return {
    contacts,
    tickets,
    concurrency: c,
    warm: { contacts: warmContacts, tickets: warmTickets },
    jobs: settled.docs,
    openAfterSettle: settled.open,
    settleMs: settled.waitedMs,
    alerts,
    probe: hubspot,
    pollErrors,
  };
}

/** Lag table rows: from the delivery's 200 to (seen by the poll | visible at the vendor), and the job's own times. */
function lagRows(run: LagRun): { seen: Latency; vendor: Latency; dispatch: Latency; toVendorFromAttempt: Latency; writeBack: Latency; timeouts: number } {
  const ok = run.samples.filter((s) => s.seenAt !== null);
  const jobs = run.samples.map((s) => s.job).filter((j): j is JobTimes => j !== null);
  const diff = (xs: Array<[number | null | undefined, number | null | undefined]>) =>
    latency(xs.map(([a, b]) => (a ?? NaN) - (b ?? NaN)).filter((v) => Number.isFinite(v)));
  return {
    seen: diff(ok.map((s) => [s.seenAt, s.ackAt])),
    vendor: diff(ok.map((s) => [s.vendorAt, s.ackAt])),
    dispatch: diff(jobs.map((j) => [j.firstAttemptAt, j.createdAt])),
    toVendorFromAttempt: diff(run.samples.map((s) => [s.vendorAt, s.job?.firstAttemptAt])),
    writeBack: diff(run.samples.map((s) => [s.job?.completedAt, s.vendorAt])),
    timeouts: run.samples.length - ok.length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Output

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "-");
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => "  " + cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** Prints the sync-lag tables; returns true if the section failed (timeouts, non-200s, jobs still open). */
function reportSync(sync: SyncSection, out: (line?: string) => void): boolean {
  const c = sync.concurrency;
  const a = lagRows(sync.contacts);
  const b = lagRows(sync.tickets);
  out("");
  out("SYNC LAG  Stripe event -> job -> onSyncJobWritten -> Cloud Tasks emulator -> runSyncJob -> local HubSpot (ms, from the delivery's 200)");
  out(`  ${c} items in flight: each delivers, waits for its result (timeout ${SYNC_WAIT_MS / 1000} s), then the next starts. Polls every ${POLL_MS} ms.`);
  out("  contact = customer.created (metadata uid) until the contact with opsync_uid = uid is found by POST /crm/v3/objects/contacts/search");
  out("  ticket  = payment_intent.succeeded, then charge.dispute.created; from the dispute's 200 until orders/{id}.tickets has an entry");
  out("            and GET /crm/v3/objects/tickets/{ticketId} answers 200");
  out(
    table(
      ["path", "n", "timeouts", "seen p50", "p95", "max", "vendor p50", "p95", "max", "dispatch p50", "p95", "max", "attempt->vendor p50", "vendor->done p50"],
      [
        ["contact", sync.contacts.samples.length, a],
        ["ticket", sync.tickets.samples.length, b],
      ].map(([name, n, r]) => {
        const x = r as ReturnType<typeof lagRows>;
        return [
          String(name),
          String(n),
          String(x.timeouts),
          f0(x.seen.p50),
          f0(x.seen.p95),
          f0(x.seen.max),
          f0(x.vendor.p50),
          f0(x.vendor.p95),
          f0(x.vendor.max),
          f0(x.dispatch.p50),
          f0(x.dispatch.p95),
          f0(x.dispatch.max),
          f0(x.toVendorFromAttempt.p50),
          f0(x.writeBack.p50),
        ];
      }),
    ),
  );
  out("  seen = the bench's poll found it (includes up to one poll interval). vendor = the stand-in's own createdAt of the object.");
  out("  dispatch = job firstAttemptAt - createdAt (createdAt is inside the ingest transaction, before the 200). attempt->vendor =");
  out("  from the claim to the object's createdAt (runner reads + vendor calls). vendor->done = to the job's completedAt (write-back).");
  const slow = (run: LagRun) => run.samples.filter((s) => s.job && s.job.firstAttemptAt - s.job.createdAt > 1000).length;
  out(
    `  target "first attempt within 1 s": contact dispatch p95 ${f0(a.dispatch.p95)} ms (${slow(sync.contacts)}/${sync.contacts.samples.length} over 1 s), ` +
      `ticket dispatch p95 ${f0(b.dispatch.p95)} ms (${slow(sync.tickets)}/${sync.tickets.samples.length} over 1 s)`,
  );
  for (const [name, run] of [["contact", sync.contacts], ["ticket", sync.tickets]] as const) {
    const attempts = run.samples.map((s) => s.job?.attempts ?? 0);
    out(
      `  ${name}: ${run.samples.length} in ${f1(run.wallMs / 1000)} s, cpu ${f0(run.cpu)}%, workers spawned ${JSON.stringify(run.spawned)}, ` +
        `measured job attempts max ${Math.max(0, ...attempts)}`,
    );
  }

  // Every job the measured part wrote (follow-up notifications included), by kind and final state.
  const byKind = new Map<string, { n: number; states: Record<string, number>; retried: number; errors: Record<string, number> }>();
  for (const j of sync.jobs) {
    const k = String(j.kind);
    const e = byKind.get(k) ?? { n: 0, states: {}, retried: 0, errors: {} };
    e.n += 1;
    e.states[String(j.status)] = (e.states[String(j.status)] ?? 0) + 1;
    if (Number(j.attempts ?? 0) > 1) e.retried += 1;
    const err = j.lastError as { httpStatus?: number | null; message?: string } | null | undefined;
    if (err) {
      const key = err.httpStatus ? `HTTP ${err.httpStatus}` : (err.message ?? "?").slice(0, 60);
      e.errors[key] = (e.errors[key] ?? 0) + 1;
    }
    byKind.set(k, e);
  }
  out(`  jobs written by the measured part: ${sync.jobs.length}; queue idle ${f1(sync.settleMs / 1000)} s after the last ticket${sync.openAfterSettle ? ` (${sync.openAfterSettle} STILL OPEN)` : ""}`);
  for (const [k, e] of [...byKind].sort()) {
    const states = Object.entries(e.states).map(([s, n]) => `${s} ${n}`).join(", ");
    const errors = Object.entries(e.errors).map(([s, n]) => `${s} x${n}`).join(", ");
    out(`    ${k}: ${e.n} (${states}), ${e.retried} needed >1 attempt${errors ? `; last errors: ${errors}` : ""}`);
  }
  for (const j of sync.jobs.filter((d) => d.status === "dead")) {
    const err = j.lastError as { message?: string; httpStatus?: number | null } | null | undefined;
    out(`    dead: ${String(j.jobId)} after ${String(j.attempts)} attempts (${String(j.deadReason)}): ${err?.httpStatus ?? ""} ${(err?.message ?? "").slice(0, 160)}`);
  }
  out(`  alerts opened: ${sync.alerts.length}${sync.alerts.length ? ` (${sync.alerts.slice(0, 3).map((al) => `${String(al.kind)}: ${String(al.reason)}`).join("; ")})` : ""}`);
  out(
    `  bench's own HubSpot calls: ${sync.probe.requests}, ${sync.probe.rateLimited} answered 429, ${sync.probe.failures} other errors, ` +
      `lowest x-hubspot-ratelimit-remaining ${Number.isFinite(sync.probe.minRemaining) ? sync.probe.minRemaining : "-"} of 190`,
  );
  for (const e of sync.pollErrors) out(`  ${e}`);

  const timeouts = a.timeouts + b.timeouts;
  const errors = [...sync.contacts.errors, ...sync.tickets.errors, ...sync.warm.contacts.errors, ...sync.warm.tickets.errors];
  const warmTimeouts = [...sync.warm.contacts.samples, ...sync.warm.tickets.samples].filter((s) => s.seenAt === null).length;
  let failed = false;
  if (timeouts || warmTimeouts) {
    failed = true;
    out(`FAIL: ${timeouts} sync waits (+${warmTimeouts} in the warm-up) timed out after ${SYNC_WAIT_MS / 1000} s`);
  }
  if (errors.length) {
    failed = true;
    out(`FAIL: ${errors.length} sync-section deliveries not answered 200: ${errors.slice(0, 3).join(" | ")}`);
  }
  if (sync.openAfterSettle) {
    failed = true;
    out(`FAIL: ${sync.openAfterSettle} jobs still pending/running/retrying ${SYNC_SETTLE_MS / 1000} s after the last ticket`);
  }
  return failed;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const deliveries = intEnv("BENCH_EVENTS", 300, 10);
  const levels = concurrencies();
  const url = process.env.OPSYNC_WEBHOOK_URL ?? DEFAULT_URL;
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  if (!firestoreHost) throw new Error("FIRESTORE_EMULATOR_HOST is not set: run through `npm run bench`");
  const secret = readLocalWebhookSecret();
  if (!secret) throw new Error("no local webhook secret in functions/.secret.local: run through `npm run bench`");
  const syncContacts = intEnv("BENCH_SYNC_EVENTS", 30, 0);
  const syncOrders = intEnv("BENCH_SYNC_ORDERS", 10, 0);
  const syncConcurrency = intEnv("BENCH_SYNC_CONCURRENCY", 4, 1);
  const params = localParams();
  // The sync section polls the local HubSpot stand-in; a developer pointed at the real HubSpot skips it.
  const syncSkip =
    syncContacts + syncOrders === 0
      ? "BENCH_SYNC_EVENTS=0 and BENCH_SYNC_ORDERS=0"
      : params.get("HUBSPOT_BASE_URL") !== LOCAL_HUBSPOT
        ? `HUBSPOT_BASE_URL is ${params.get("HUBSPOT_BASE_URL") ?? "unset"}, not the local stand-in ${LOCAL_HUBSPOT}`
        : (params.get("HELPDESK") ?? "hubspot") !== "hubspot" && syncOrders > 0
          ? `HELPDESK=${params.get("HELPDESK") ?? ""}: tickets would not go to HubSpot (set BENCH_SYNC_ORDERS=0)`
          : null;
  const hubspotToken = ensureLocalSecrets({}).get("HUBSPOT_TOKEN") ?? "";
  if (!syncSkip && !hubspotToken) throw new Error("no HUBSPOT_TOKEN in functions/.secret.local: run through `npm run bench`");

  const app = initializeApp({ projectId: PROJECT_ID }, "bench");
  const db = getFirestore(app);
  const out = (line = "") => process.stdout.write(`${line}\n`);
  let failed = false;
  const watch = new WorkerWatch();
  watch.start();

  let triggersOff = false;

  try {
    out(`\n[bench] webhook ${url}  firestore ${firestoreHost}`);
    await setBackgroundTriggers(false);
    triggersOff = true;
    out("[bench] background triggers off for the webhook and bare rounds (emulator hub); their jobs stay pending");
    // Warm-up: the first request spawns a functions worker and loads the code; the first mapping wakes the
    // onStripeCustomerMapped worker. Not measured.
    const warm = buildWorkload("warm", 10, 1);
    const w0 = performance.now();
    const warmRun = await deliverAll(url, secret, warm.chains, 1, WARMUP_TIMEOUT_MS);
    const warmBad = warmRun.samples.filter((s) => s.httpStatus !== 200);
    out(`[bench] warm-up: ${warmRun.samples.length} events at c=1 in ${f0(performance.now() - w0)} ms, ${warmBad.length} non-200`);
    for (const s of warmBad.slice(0, 3)) out(`[bench]   ${s.delivery.kind}: ${s.error}`);
    if (warmBad.length) failed = true;

    const floor = await probeFloor(url, 50);
    out(`[bench] HTTP floor (GET -> 405, 50 sequential): p50 ${f1(floor.lat.p50)} ms, p95 ${f1(floor.lat.p95)} ms, ${floor.bad} unexpected`);

    const webhook: WebhookRound[] = [];
    for (const [i, c] of levels.entries()) {
      if (c > 1) {
        const p0 = performance.now();
        const pool = await warmPool(url, secret, watch, c);
        out(
          `[bench] pool warm-up c=${c}: ${pool.bursts} bursts up to ${warmSlots(c)} (${pool.events} events) in ${f0(performance.now() - p0)} ms, ` +
            `${pool.bad} non-200, webhook workers ${pool.workers ?? "?"}${pool.settled ? "" : " (still growing at the burst cap)"}`,
        );
        if (pool.bad) {
          out("[bench]   warm-up non-200s: see the functions emulator log above (worker start-up); they fail the run");
          failed = true;
        }
      }
      await settle(watch, 20_000); // background trigger runs from earlier deliveries
      const workload = buildWorkload(`c${c}r${i}`, deliveries, 42 + c);
      const before = watch.spawned();
      const cpu0 = cpuTimes();
      const { samples, wallMs } = await deliverAll(url, secret, workload.chains, c, REQUEST_TIMEOUT_MS);
      const cpu = cpuBusy(cpu0, cpuTimes());
      const after = watch.spawned();
      const ledgerDocs = await countLedger(db, workload.eventIdPrefix);
      const round = summarizeWebhook(c, workload, samples, wallMs, ledgerDocs, {
        webhook: watch.available ? spawnedSince(before, after, WEBHOOK_TARGET) : null,
        trigger: watch.available ? spawnedSince(before, after, TRIGGER_TARGET) : null,
      }, cpu);
      webhook.push(round);
      out(
        `[bench] webhook c=${c}: ${samples.length} deliveries in ${f0(wallMs)} ms, ${round.non200} non-200, ` +
          `CPU ${f0(cpu)}% of all cores, workers ever ${JSON.stringify(after)}`,
      );
    }
    await settle(watch, 20_000);

    // Bare transactions: payloads from the first round's sample customer.
    const first = webhook[0];
    if (!first) throw new Error("no webhook round ran");
    const templates = await loadTemplates(db, first.workload.sample);
    const bare: BareRound[] = [];
    for (const round of webhook) {
      const c = round.concurrency;
      const chains = bareChains(round.workload);
      await runBare(db, bareChains(buildWorkload(`barewarm${c}`, Math.max(10, 2 * c), 7)), c, templates); // warm the gRPC channel
      const b = await runBare(db, chains, c, templates);
      bare.push(b);
      out(`[bench] bare c=${c}: ${chains.flat().length} transactions, ${b.errors} errors, CPU ${f0(b.cpu)}% of all cores`);
    }
    const ab = await bareShapeAB(db, [...bareChains(first.workload), ...bareChains(first.workload)], templates);

    // Sync lag: background triggers back on (this reloads the functions emulator's triggers and workers).
    let sync: SyncSection | null = null;
    if (syncSkip) {
      out(`[bench] sync lag skipped: ${syncSkip}`);
    } else {
      const parked = (await db.collection("syncJobs").where("status", "==", "pending").count().get()).data().count;
      out(`[bench] ${parked} sync jobs written by the rounds above stay pending (never dispatched)`);
      const t0 = performance.now();
      await setBackgroundTriggers(true);
      triggersOff = false;
      out(`[bench] background triggers on again in ${f0(performance.now() - t0)} ms`);
      sync = await syncSection(
        db,
        url,
        secret,
        watch,
        { contacts: syncContacts, orders: syncOrders, concurrency: syncConcurrency, hubspot: new HubspotProbe(LOCAL_HUBSPOT, hubspotToken) },
        out,
      );
    }

    // -------- report --------
    const wl = first.workload;
    out("");
    out("=".repeat(100));
    out(
      `opsync ingest bench: ${wl.deliveries} deliveries per round = ${wl.lifecycleEvents} subscription-lifecycle events ` +
        `(${wl.customers} customers x checkout/sub.created/invoice.paid/sub.updated)`,
    );
    out(`  + ${wl.marketplace} marketplace payment_intent.succeeded (orderId/buyerUid/sellerUid) + ${wl.redeliveries} duplicate re-deliveries.`);
    out("  Per-customer order kept (a chain is sent sequentially); concurrency = chains in flight. Fresh ids per round.");
    out("  Not measured: emulator cold starts (warm-up: 10 events at c=1; before each round at c>1, simultaneous bursts");
    out("  growing to c+c/4+1 events, repeated until the functions emulator's worker pool stops growing).");
    out(`  HTTP floor (GET -> 405 from the same function, no signature check, no Firestore), c=1: p50 ${f1(floor.lat.p50)} ms, p95 ${f1(floor.lat.p95)} ms.`);
    out("");
    out("WEBHOOK  POST -> functions emulator -> ingest transaction -> Firestore emulator (ms = ack latency)");
    out(
      table(
        ["conc", "p50", "p95", "p99", "max", "ev/s", "non200", "commits", "commits/ev", "attempts mean/max", "retried", "ledger/distinct", "applied p50", "dup p50", "spawned wh/trg", "cpu%"],
        webhook.map((r) => [
          String(r.concurrency),
          f1(r.lat.p50),
          f1(r.lat.p95),
          f1(r.lat.p99),
          f0(r.lat.max),
          f1(r.perSec),
          String(r.non200),
          String(r.commits),
          f2(r.commits / r.workload.deliveries),
          `${f2(r.meanAttempts)}/${r.maxAttempts}`,
          String(r.retried),
          `${r.ledgerDocs}/${r.workload.distinctEvents}`,
          f1(r.latApplied.p50),
          f1(r.latDuplicate.p50),
          `${r.spawnedWebhook ?? "-"}/${r.spawnedTrigger ?? "-"}`,
          f0(r.cpu),
        ]),
      ),
    );
    for (const r of webhook) {
      const st = Object.entries(r.statuses)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
      out(`  c=${r.concurrency} statuses: ${st}${r.duplicateMismatch ? `; ${r.duplicateMismatch} duplicate flags unexpected` : ""}`);
      out(`       p50 by type: ${r.p50ByKind.map(([k, v]) => `${k.replace("customer.subscription.", "sub.")} ${f1(v)}`).join(", ")}`);
    }
    out("  commits = 200s with duplicate:false (one write commit each; a duplicate reads its ledger doc and sends an empty commit).");
    out("  ledger = stripeEvents docs read back for the round's event ids. spawned = functions-emulator worker processes");
    out("  started during the round (stripeWebhook / onStripeCustomerMapped), i.e. cold starts inside the measurement.");
    out(`  cpu% = whole machine (${cpus().length} cores, other processes included) busy during the round, /proc/stat.`);
    out("");
    out("BARE TRANSACTION  firebase-admin (bench process) -> Firestore emulator; getAll(4) + getAll(2) + 9 writes, no logic");
    out(
      `  payload bytes (JSON, copied from webhook-written docs): ledger ${approxBytes(templates.ledger)}, customer ${approxBytes(templates.customer)}, ` +
        `billing ${approxBytes(templates.billing)}, mapping ${approxBytes(templates.mapping)}, object ${approxBytes(templates.object)}, ` +
        `job ${approxBytes(templates.job)}, audit ${approxBytes(templates.audits[0])}+${approxBytes(templates.audits[1])}`,
    );
    out(
      table(
        ["conc", "p50", "p95", "p99", "max", "tx/s", "errors", "attempts mean/max", "cpu%", "webhook/bare p50", "webhook/bare p95"],
        bare.map((b, i) => {
          const w = webhook[i];
          return [
            String(b.concurrency),
            f1(b.lat.p50),
            f1(b.lat.p95),
            f1(b.lat.p99),
            f0(b.lat.max),
            f1(b.perSec),
            String(b.errors),
            `${f2(b.meanAttempts)}/${b.maxAttempts}`,
            f0(b.cpu),
            w ? `${f2(w.lat.p50 / b.lat.p50)}x` : "-",
            w ? `${f2(w.lat.p95 / b.lat.p95)}x` : "-",
          ];
        }),
      ),
    );
    for (const b of bare) if (b.firstError) out(`  c=${b.concurrency} first bare error: ${b.firstError}`);
    out(
      `  merged ledger read, A/B at c=1 (alternating ops, ${2 * wl.deliveries} transactions): applied p50 ${f1(ab.merged.applied.p50)} ms (getAll 4 + getAll 2) ` +
        `vs ${f1(ab.separate.applied.p50)} ms (get + getAll 3 + getAll 2); duplicate p50 ${f1(ab.merged.duplicate.p50)} (getAll 4) vs ${f1(ab.separate.duplicate.p50)} ms (get)`,
    );
    if (sync && reportSync(sync, out)) failed = true;

    const non200 = webhook.reduce((n, r) => n + r.non200, 0);
    const ledgerOff = webhook.filter((r) => r.ledgerDocs !== r.workload.distinctEvents);
    if (non200) {
      failed = true;
      out("");
      out(`FAIL: ${non200} deliveries not answered 200. First errors:`);
      for (const e of webhook.flatMap((r) => r.errors).slice(0, 5)) out(`  ${e}`);
    }
    if (ledgerOff.length) {
      failed = true;
      out(`FAIL: ledger docs != distinct events at c=${ledgerOff.map((r) => r.concurrency).join(",")}`);
    }
    out("=".repeat(100));
  } finally {
    watch.stop();
    if (triggersOff) await setBackgroundTriggers(true).catch(() => undefined);
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
