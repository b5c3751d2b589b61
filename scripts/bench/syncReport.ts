/** The sync-lag section's tables, job summary and failure conditions. */
import { lagRows, POLL_MS, SYNC_SETTLE_MS, SYNC_WAIT_MS, type LagRows, type LagRun, type SyncSection } from "./syncLag";
import { f0, f1, table, type Out } from "./stats";

export function reportSync(sync: SyncSection, out: Out): boolean {
  const c = sync.concurrency;
  const a = lagRows(sync.contacts);
  const b = lagRows(sync.tickets);
  out("");
  out("SYNC LAG  Stripe event -> ledger -> onStripeEventRecorded (apply, writes the job) -> onSyncJobWritten -> Cloud Tasks emulator -> runSyncJob -> local HubSpot (ms, from the delivery's 200)");
  out(`  ${c} items in flight: each delivers, waits for its result (timeout ${SYNC_WAIT_MS / 1000} s), then the next starts. Polls every ${POLL_MS} ms.`);
  out("  contact = customer.created (metadata uid) until the contact with opsync_uid = uid is found by POST /crm/v3/objects/contacts/search");
  out("  ticket  = payment_intent.succeeded, then charge.dispute.created; from the dispute's 200 until orders/{id}.tickets has an entry");
  out("            and GET /crm/v3/objects/tickets/{ticketId} answers 200");
  out(
    table(
      ["path", "n", "timeouts", "seen p50", "p95", "max", "vendor p50", "p95", "max", "apply p50", "p95", "dispatch p50", "p95", "max", "attempt->vendor p50", "vendor->done p50"],
      [
        ["contact", sync.contacts.samples.length, a],
        ["ticket", sync.tickets.samples.length, b],
      ].map(([name, n, r]) => {
        const x = r as LagRows;
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
          f0(x.apply.p50),
          f0(x.apply.p95),
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
  out("  apply = ledger appliedAt - the 200 (the ledger trigger applies the event and writes the job in that commit).");
  out("  dispatch = job firstAttemptAt - createdAt (createdAt is set in the apply, after the 200). attempt->vendor =");
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
