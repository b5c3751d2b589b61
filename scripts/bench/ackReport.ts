/** The ack section's tables, ratios against the issue's targets, and its failure conditions. */
import type { AckRound } from "./ack";
import { f0, f1, f2, table, type Out } from "./stats";

export const TARGET_FLOOR_RATIO = 1.3;
export const TARGET_EXTENSION_P95_RATIO = 0.5;
export const TARGET_EXTENSION_THROUGHPUT = 2;

const met = (ok: boolean) => (ok ? "met" : "NOT met");

/** Prints the section; returns true if it failed (a bad answer, or the ledger disagrees with what was sent). */
export function reportAck(rounds: AckRound[], hmacUs: number, out: Out): boolean {
  const first = rounds[0];
  if (!first) return true;
  const wl = first.workload;
  out("");
  out(
    `ACK  ${wl.deliveries} deliveries per round = ${wl.lifecycleEvents} subscription-lifecycle events (${wl.customers.length} customers x ` +
      `checkout/sub.created/invoice.paid/sub.updated) + ${wl.marketplace} marketplace payment_intent.succeeded + ${wl.redeliveries} duplicates.`,
  );
  out("  Same signed mix (fresh ids) to each function in the same functions emulator, back to back per level. Background triggers OFF.");
  out("  floor = benchAckFloor: one create() of a small doc, verifies nothing. webhook = opsync stripeWebhook. extension = the");
  out("  Stripe extension's handleWebhookEvents I/O (constructEvent, customer query, subscriptions.retrieve, set) - scripts/bench/functions.");
  out(
    table(
      ["conc", "target", "p50", "p95", "p99", "max", "ev/s", "bad", "handler err", "new p50", "new p95", "dup p50", "spawned", "cpu%"],
      rounds.map((r) => [
        String(r.concurrency),
        r.target,
        f1(r.lat.p50),
        f1(r.lat.p95),
        f1(r.lat.p99),
        f0(r.lat.max),
        f1(r.perSec),
        String(r.bad),
        String(r.handlerErrors),
        f1(r.latNew.p50),
        f1(r.latNew.p95),
        f1(r.latDuplicate.p50),
        r.spawned === null ? "-" : String(r.spawned),
        f0(r.cpu),
      ]),
    ),
  );
  out("  CPU ms per delivery (process accounting, holds under load): the function's workers / Firestore emulator / firebase CLI");
  out("  (hub + functions emulator: proxies each request, receives trigger posts):");
  for (const r of rounds) {
    const c = r.cpuPerDelivery;
    if (c) out(`    c=${r.concurrency} ${r.target}: ${f2(c.fn)} / ${f2(c.firestore)} / ${f2(c.cli)}`);
  }
  for (const r of rounds) {
    out(`  c=${r.concurrency} ${r.target} p50 by type: ${r.p50ByKind.map(([k, v]) => `${k.replace("customer.subscription.", "sub.")} ${f1(v)}`).join(", ")}`);
    if (r.handlerErrorSample) out(`       handler errors answered 200 (the extension's behaviour): ${r.handlerErrors}, e.g. ${r.handlerErrorSample}`);
  }
  out(`  HMAC check (stripe-node verifyHeader, one ~2 KB delivery, this process): ${f1(hmacUs)} us - what the floor skips.`);

  const levels = [...new Set(rounds.map((r) => r.concurrency))];
  const ratioRows: string[][] = [];
  for (const c of levels) {
    const at = (t: string) => rounds.find((r) => r.concurrency === c && r.target === t);
    const w = at("webhook");
    const fl = at("floor");
    const ex = at("extension");
    const ft = at("floorTrigger");
    if (!w) continue;
    const floorP95 = fl ? w.lat.p95 / fl.lat.p95 : NaN;
    const extP95 = ex ? w.lat.p95 / ex.lat.p95 : NaN;
    const extTput = ex ? w.perSec / ex.perSec : NaN;
    ratioRows.push([
      String(c),
      fl ? `${f2(w.lat.p50 / fl.lat.p50)}x` : "-",
      fl ? `${f2(floorP95)}x ${met(floorP95 <= TARGET_FLOOR_RATIO)}` : "-",
      ex ? `${f2(w.lat.p50 / ex.lat.p50)}x` : "-",
      ex ? `${f2(extP95)}x ${met(extP95 <= TARGET_EXTENSION_P95_RATIO)}` : "-",
      ex ? `${f2(extTput)}x ${met(extTput >= TARGET_EXTENSION_THROUGHPUT)}` : "-",
      // Diagnostics, not targets: new events only (a duplicate costs a refused commit + a read; the floor has none),
      // and against the floor whose collection a trigger watches (as stripeEvents is).
      fl ? `${f2(w.latNew.p95 / fl.lat.p95)}x` : "-",
      ft ? `${f2(w.lat.p95 / ft.lat.p95)}x` : "-",
    ]);
  }
  out("");
  out(`RATIOS  targets: webhook p95 <= ${TARGET_FLOOR_RATIO}x floor; webhook p95 <= ${TARGET_EXTENSION_P95_RATIO}x extension; webhook ev/s >= ${TARGET_EXTENSION_THROUGHPUT}x extension`);
  out(
    table(
      ["conc", "webhook/floor p50", "webhook/floor p95", "webhook/ext p50", "webhook/ext p95", "webhook/ext ev/s", "new-only/floor p95", "webhook/floorTrigger p95"],
      ratioRows,
    ),
  );

  let failed = false;
  out("");
  out("  Firestore round trips on the ack path: 1 commit per new event, 1 commit (refused: ALREADY_EXISTS) + 1 batchGetDocuments per");
  out("  duplicate - counted at the SDK's RPC layer by test/integration/recordEventRoundTrips.test.ts. In this run:");
  for (const r of rounds) {
    if (!r.ledger) continue;
    const l = r.ledger;
    out(
      `    c=${r.concurrency}: ledger docs ${l.docs} / distinct events ${l.distinct} (one create each), duplicate flags wrong ${l.duplicateMismatch}, ` +
        `new events not answered 'received' ${l.notReceived}`,
    );
    if (l.docs !== l.distinct || l.duplicateMismatch || l.notReceived) {
      failed = true;
      out(`FAIL: c=${r.concurrency} ledger check`);
    }
  }
  const bad = rounds.filter((r) => r.bad);
  if (bad.length) {
    failed = true;
    out(`FAIL: deliveries not answered as expected: ${bad.map((r) => `${r.target} c=${r.concurrency}: ${r.bad}`).join(", ")}. First errors:`);
    for (const e of bad.flatMap((r) => r.errors).slice(0, 5)) out(`  ${e}`);
  }
  return failed;
}
