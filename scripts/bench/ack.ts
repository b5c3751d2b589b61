/**
 * Ack latency: the same signed mix to three functions in the same functions emulator, back to back per concurrency
 * level — the ack floor (one create(), nothing verified), opsync's stripeWebhook (verify, validate, normalize, one
 * create() of the ledger entry), and the Stripe extension's handler I/O (scripts/bench/functions). Background
 * triggers are off (main.ts), so the ledger trigger's apply work does not run underneath.
 */
import { performance } from "node:perf_hooks";
import type { Firestore } from "firebase-admin/firestore";
import Stripe from "stripe";
import { signedDelivery } from "../../test/support/stripeFixtures";
import { prepareExtension } from "./extensionSetup";
import { deliverAll, REQUEST_TIMEOUT_MS, TARGETS, WARMUP_TIMEOUT_MS, webhookAck, type Sample, type Target, type TargetName } from "./http";
import { cpuBusy, cpuTimes, f0, latency, type Latency, type Out } from "./stats";
import { emulatorPids, processCpuMs, spawnedSince, warmPool, type WorkerWatch } from "./workers";
import { buildWorkload, DELIVERY_KINDS, warmSlots, type Workload } from "./workload";

/** Order within a level: the floor first and the extension last, so the two opsync ratios use adjacent rounds. */
export const ACK_ORDER: readonly TargetName[] = ["floor", "webhook", "extension"];

export interface LedgerCheck {
  docs: number;
  distinct: number;
  /** 200s whose `duplicate` flag disagrees with whether the bench re-delivered the event. */
  duplicateMismatch: number;
  /** New events answered with a status other than `received` (the ack must not apply). */
  notReceived: number;
}

export interface AckRound {
  target: TargetName;
  concurrency: number;
  workload: Workload;
  lat: Latency;
  latNew: Latency;
  latDuplicate: Latency;
  p50ByKind: Array<[string, number]>;
  perSec: number;
  bad: number;
  handlerErrors: number;
  handlerErrorSample: string | null;
  errors: string[];
  spawned: number | null;
  cpu: number;
  /**
   * CPU ms per delivery (process accounting, load-independent): the function's worker processes, the Firestore
   * emulator, and the firebase CLI process (hub + functions emulator, which proxies every request). null without /proc.
   */
  cpuPerDelivery: { fn: number; firestore: number; cli: number } | null;
  ledger: LedgerCheck | null;
}

const sumCpu = (pids: number[]) => pids.reduce((ms, pid) => ms + processCpuMs(pid), 0);

async function countLedger(db: Firestore, prefix: string): Promise<number> {
  const snap = await db.collection("stripeEvents").where("eventId", ">=", prefix).where("eventId", "<", `${prefix}\uf8ff`).count().get();
  return snap.data().count;
}

function ledgerCheck(samples: Sample[], docs: number, distinct: number): LedgerCheck {
  let duplicateMismatch = 0;
  let notReceived = 0;
  for (const s of samples) {
    const ack = webhookAck(s.body);
    if (!ack) continue;
    if (ack.duplicate !== s.delivery.redelivery) duplicateMismatch += 1;
    if (!ack.duplicate && ack.status !== "received") notReceived += 1;
  }
  return { docs, distinct, duplicateMismatch, notReceived };
}

export interface AckContext {
  db: Firestore;
  secret: string;
  watch: WorkerWatch;
  deliveries: number;
  out: Out;
}

const prepareFor = (ctx: AckContext, target: Target) => async (w: Workload) => {
  if (target.name === "extension") await prepareExtension(ctx.db, w);
};

export async function ackRound(ctx: AckContext, target: Target, concurrency: number, index: number): Promise<AckRound> {
  const workload = buildWorkload(`${target.name}c${concurrency}r${index}`, ctx.deliveries, 42 + concurrency);
  await prepareFor(ctx, target)(workload);
  const before = ctx.watch.spawned();
  const pids = ctx.watch.available ? emulatorPids() : null;
  const proc0 = pids ? { fn: ctx.watch.cpuMs(target.fn), firestore: sumCpu(pids.firestore), cli: sumCpu(pids.cli) } : null;
  const cpu0 = cpuTimes();
  const { samples, wallMs } = await deliverAll(target, ctx.secret, workload.chains, concurrency, REQUEST_TIMEOUT_MS);
  const cpu = cpuBusy(cpu0, cpuTimes());
  const n = workload.chains.flat().length;
  const cpuPerDelivery =
    pids && proc0
      ? { fn: (ctx.watch.cpuMs(target.fn) - proc0.fn) / n, firestore: (sumCpu(pids.firestore) - proc0.firestore) / n, cli: (sumCpu(pids.cli) - proc0.cli) / n }
      : null;
  const spawned = ctx.watch.available ? spawnedSince(before, ctx.watch.spawned(), target.fn) : null;
  const ledger = target.name === "webhook" ? ledgerCheck(samples, await countLedger(ctx.db, workload.eventIdPrefix), workload.distinctEvents) : null;
  const handler = samples.filter((s) => s.verdict === "handlerError");
  const ms = (pick: (s: Sample) => boolean) => latency(samples.filter(pick).map((s) => s.ms));
  return {
    target: target.name,
    concurrency,
    workload,
    lat: ms(() => true),
    latNew: ms((s) => !s.delivery.redelivery),
    latDuplicate: ms((s) => s.delivery.redelivery),
    p50ByKind: DELIVERY_KINDS.map((kind): [string, number] => [kind, ms((s) => s.delivery.kind === kind && !s.delivery.redelivery).p50]),
    perSec: samples.length / (wallMs / 1000),
    bad: samples.filter((s) => s.verdict === "bad").length,
    handlerErrors: handler.length,
    handlerErrorSample: handler[0] ? `${handler[0].delivery.kind}: ${JSON.stringify(handler[0].body).slice(0, 160)}` : null,
    errors: samples.filter((s) => s.error).map((s) => `${target.name} ${s.delivery.kind} ${s.delivery.event.id}: ${s.error ?? ""}`),
    spawned,
    cpu,
    cpuPerDelivery,
    ledger,
  };
}

/** Not measured: cold starts. 10 mixed events at c=1 per target, before anything is timed. */
export async function warmUp(ctx: AckContext, targets: Target[]): Promise<number> {
  let bad = 0;
  for (const target of targets) {
    const warm = buildWorkload(`warm${target.name}`, 10, 1);
    await prepareFor(ctx, target)(warm);
    const t0 = performance.now();
    const { samples } = await deliverAll(target, ctx.secret, warm.chains, 1, WARMUP_TIMEOUT_MS);
    const failed = samples.filter((s) => s.verdict === "bad");
    bad += failed.length;
    ctx.out(`[bench] warm-up ${target.name}: ${samples.length} events at c=1 in ${f0(performance.now() - t0)} ms, ${failed.length} bad`);
    for (const s of failed.slice(0, 3)) ctx.out(`[bench]   ${s.delivery.kind}: ${s.error ?? ""}`);
  }
  return bad;
}

/** Every target's pool at this level, then one round per target back to back. Returns the rounds and warm-up failures. */
export async function ackLevel(ctx: AckContext, targets: Target[], c: number, index: number): Promise<{ rounds: AckRound[]; warmBad: number }> {
  let warmBad = 0;
  if (c > 1) {
    for (const target of targets) {
      const t0 = performance.now();
      const pool = await warmPool(target, ctx.secret, ctx.watch, c, prepareFor(ctx, target));
      warmBad += pool.bad;
      ctx.out(
        `[bench] pool warm-up ${target.name} c=${c}: ${pool.bursts} bursts up to ${warmSlots(c)} (${pool.events} events) in ${f0(performance.now() - t0)} ms, ` +
          `${pool.bad} bad, workers ${pool.workers ?? "?"}${pool.settled ? "" : " (still growing at the burst cap)"}`,
      );
    }
  }
  const rounds: AckRound[] = [];
  for (const target of targets) {
    const round = await ackRound(ctx, target, c, index);
    rounds.push(round);
    ctx.out(`[bench] ${target.name} c=${c}: ${round.workload.deliveries} deliveries, p95 ${f0(round.lat.p95)} ms, ${round.bad} bad, CPU ${f0(round.cpu)}%`);
  }
  return { rounds, warmBad };
}

/**
 * What the floor leaves out and the webhook does first: the HMAC over the raw body, timed in this process for a
 * typical delivery (stripe-node's verifier, as opsync calls it).
 */
export function hmacMicros(secret: string, n = 2000): number {
  const w = buildWorkload("hmac", 10, 1);
  const event = w.chains[0]?.[0]?.event;
  const verifier = Stripe.webhooks.signature;
  if (!event || !verifier) return NaN;
  const { body, signature } = signedDelivery(event, secret);
  const raw = Buffer.from(body);
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1) verifier.verifyHeader(raw, signature, secret, 300);
  return ((performance.now() - t0) * 1000) / n;
}

/** `floorTrigger` (diagnostic, BENCH_ACK_FLOOR_TRIGGER=1) runs last, after the three rounds the targets compare. */
export const ackTargets = (withBenchFunctions: boolean, floorTrigger = false): Target[] =>
  [...ACK_ORDER, ...(floorTrigger ? (["floorTrigger"] as const) : [])].filter((n) => withBenchFunctions || n === "webhook").map((n) => TARGETS[n]);
