/**
 * HubSpot calls per customer lifecycle (issue 9), through the real path: signed deliveries -> stripeWebhook ->
 * onStripeEventRecorded -> live sync jobs -> onSyncJobWritten -> Cloud Tasks emulator -> runSyncJob -> local HubSpot.
 *
 * Each customer signs up (an Auth user: onUserCreated plans the contact), then Stripe sends: customer.created,
 * checkout (subscription active + first invoice paid, as one burst), two renewals, past_due (subscription update +
 * failed invoice), active again (update + paid invoice), cancel. Every step re-sends one of its events (a duplicate
 * delivery). 7 distinct state changes; target: HubSpot calls ≤ 2× that. Customers run one after another, each step
 * after the previous one settled (a lifecycle spans months), so the stand-in's request count (GET /__requests) is
 * the customer's own. Lag: from the step's last 200 to the contact's `updatedAt` at HubSpot, split by the live
 * contact job's own times; the Cloud Tasks emulator's dispatch of an immediate task is measured apart (claims jobs).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { getAuth } from "firebase-admin/auth";
import { Timestamp, type Firestore } from "firebase-admin/firestore";
import type { App } from "firebase-admin/app";
import { SETTLE_MS } from "../../functions/src/domain/coalesce";
import { customer, invoice, price, stripeEvent, subscription, uniq } from "../../test/support/stripeFixtures";
import { postEvent, REQUEST_TIMEOUT_MS, TARGETS, webhookAck } from "./http";
import { f0, f2, latency, table, type Latency, type Out } from "./stats";

const WAIT_MS = 90_000;
const STEP_NAMES = ["signup", "checkout", "renewal 1", "renewal 2", "past_due", "active", "cancel"] as const;
const CONTACT_SETTLE_MS = SETTLE_MS["crm.contact.upsert"] ?? 0;
const millis = (v: unknown): number => (v instanceof Timestamp ? v.toMillis() : NaN);

interface StepSample {
  step: string;
  lastAckAt: number;
  /** The contact's updatedAt at HubSpot after the step settled (NaN: no write in this step). */
  visibleAt: number;
  appliedAt: number;
  job: { createdAt: number; firstAttemptAt: number; completedAt: number } | null;
}

export interface LifecycleResult {
  customers: number;
  stateChanges: number;
  calls: number[];
  rateLimited: number;
  samples: StepSample[];
  immediateDispatch: Latency;
  errors: string[];
}

async function hubspotCount(base: string): Promise<{ total: number; search: number; rateLimited: number }> {
  const res = await fetch(`${base}/__requests`, { signal: AbortSignal.timeout(5_000) });
  return (await res.json()) as { total: number; search: number; rateLimited: number };
}

/** Waits until every event is applied and nothing of this uid waits in the queue. */
async function settle(db: Firestore, uid: string, eventIds: string[]): Promise<boolean> {
  const end = Date.now() + WAIT_MS;
  while (Date.now() < end) {
    const ledger = await db.getAll(...eventIds.map((id) => db.doc(`stripeEvents/${id}`)));
    const applied = ledger.every((s) => s.exists && s.get("status") !== "received");
    const open = await db.collection("syncJobs").where("target.uid", "==", uid).where("status", "in", ["pending", "running", "retrying"]).count().get();
    if (applied && open.data().count === 0) return true;
    await sleep(200);
  }
  return false;
}

export async function lifecycleSection(
  app: App,
  db: Firestore,
  secret: string,
  opts: { customers: number; hubspotBase: string; hubspotToken: string },
  out: Out,
): Promise<LifecycleResult> {
  const result: LifecycleResult = { customers: opts.customers, stateChanges: STEP_NAMES.length, calls: [], rateLimited: 0, samples: [], immediateDispatch: latency([]), errors: [] };
  const auth = getAuth(app);
  const pro = price({ id: uniq("price"), lookupKey: "pro", entitlements: "pro", amount: 2900 });
  const claimsDispatch: number[] = [];
  for (let n = 0; n < opts.customers; n++) {
    const uid = uniq("life");
    const cus = uniq("cus");
    const sub = uniq("sub");
    const start = await hubspotCount(opts.hubspotBase);
    let day = Math.floor(Date.now() / 1000);
    const paid = (reason: "subscription_create" | "subscription_cycle") => {
      day += 30 * 86400;
      return stripeEvent("invoice.paid", invoice({ id: uniq("in"), customer: cus, subscription: sub, status: "paid", billingReason: reason, uid, paidAt: day }));
    };
    const subEvent = (type: "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted", status: "active" | "past_due" | "canceled") =>
      stripeEvent(type, subscription({ id: sub, customer: cus, status, price: pro, uid }));
    const steps: Array<{ name: string; events: Array<{ id: string }> }> = [
      { name: "signup", events: [stripeEvent("customer.created", customer({ id: cus, uid, email: `${uid}@example.com`, name: "Bench Lifecycle" }))] },
      { name: "checkout", events: [subEvent("customer.subscription.created", "active"), paid("subscription_create")] },
      { name: "renewal 1", events: [paid("subscription_cycle")] },
      { name: "renewal 2", events: [paid("subscription_cycle")] },
      {
        name: "past_due",
        events: [subEvent("customer.subscription.updated", "past_due"), stripeEvent("invoice.payment_failed", invoice({ id: uniq("in"), customer: cus, subscription: sub, status: "open", uid, attempt: 1 }))],
      },
      { name: "active", events: [subEvent("customer.subscription.updated", "active"), paid("subscription_cycle")] },
      { name: "cancel", events: [subEvent("customer.subscription.deleted", "canceled")] },
    ];
    await auth.createUser({ uid, email: `${uid}@example.com` });
    for (const step of steps) {
      // A burst: the step's events at once, plus a duplicate delivery of the first one.
      const posted = await Promise.all([...step.events, step.events[0] ?? step.events].map((e) => postEvent(TARGETS.webhook.url, secret, e, REQUEST_TIMEOUT_MS)));
      const bad = posted.filter((p) => !webhookAck(p.body));
      if (bad.length) result.errors.push(`${uid} ${step.name}: ${bad.length} deliveries not acknowledged (${bad[0]?.error ?? bad[0]?.httpStatus})`);
      const lastAckAt = Math.max(...posted.map((p) => p.doneAt));
      if (!(await settle(db, uid, step.events.map((e) => e.id)))) result.errors.push(`${uid} ${step.name}: not settled within ${WAIT_MS / 1000} s`);
      const [ledger, job] = await Promise.all([
        db.getAll(...step.events.map((e) => db.doc(`stripeEvents/${e.id}`))),
        db.doc(`syncJobs/live.crm.contact.upsert.${uid}`).get(),
      ]);
      const before = await hubspotCount(opts.hubspotBase);
      const contact = await fetch(`${opts.hubspotBase}/crm/v3/objects/contacts/${encodeURIComponent(uid)}?idProperty=opsync_uid`, {
        headers: { authorization: `Bearer ${opts.hubspotToken}` },
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await contact.json()) as { updatedAt?: string };
      const visibleAt = Date.parse(body.updatedAt ?? "");
      result.samples.push({
        step: step.name,
        lastAckAt,
        visibleAt: visibleAt >= lastAckAt ? visibleAt : NaN,
        appliedAt: Math.max(...ledger.map((s) => millis(s.get("appliedAt")))),
        job: job.exists ? { createdAt: millis(job.get("createdAt")), firstAttemptAt: millis(job.get("firstAttemptAt")), completedAt: millis(job.get("completedAt")) } : null,
      });
      // The bench's own read is not opsync's: start the next step's count after it.
      start.total += (await hubspotCount(opts.hubspotBase)).total - before.total;
    }
    const end = await hubspotCount(opts.hubspotBase);
    result.calls.push(end.total - end.search - (start.total - start.search));
    result.rateLimited += end.rateLimited - start.rateLimited;
    const claims = await db.collection("syncJobs").where("target.uid", "==", uid).where("kind", "==", "auth.claims.update").get();
    for (const d of claims.docs) claimsDispatch.push(millis(d.get("firstAttemptAt")) - millis(d.get("createdAt")));
    out(`[bench] lifecycle ${n + 1}/${opts.customers}: ${result.calls.at(-1)} HubSpot calls for ${STEP_NAMES.length} state changes`);
  }
  result.immediateDispatch = latency(claimsDispatch.filter((v) => Number.isFinite(v)));
  return result;
}

/** Prints the lifecycle table; true when a target is missed or something failed (the run then exits 1 only on failures). */
export function reportLifecycle(r: LifecycleResult, out: Out): boolean {
  const perCustomer = latency(r.calls);
  const ratio = perCustomer.max / r.stateChanges;
  out("");
  out(`HubSpot calls per customer lifecycle (${r.customers} customers, ${r.stateChanges} distinct state changes each; bursts + one duplicate per step)`);
  out(table(["calls p50", "max", "per state change (max)", "target ≤ 2×", "429s"], [[f0(perCustomer.p50), f0(perCustomer.max), f2(ratio), ratio <= 2 ? "met" : "not met", String(r.rateLimited)]]));
  const ok = r.samples.filter((s) => Number.isFinite(s.visibleAt) && s.job);
  const d = (f: (s: StepSample) => number) => latency(ok.map(f).filter((v) => Number.isFinite(v)));
  const total = d((s) => s.visibleAt - s.lastAckAt);
  const apply = d((s) => s.appliedAt - s.lastAckAt);
  const dispatch = d((s) => (s.job ? s.job.firstAttemptAt - (s.job.createdAt + CONTACT_SETTLE_MS) : NaN));
  const run = d((s) => (s.job ? s.job.completedAt - s.job.firstAttemptAt : NaN));
  const own = d((s) => (s.job ? s.visibleAt - s.lastAckAt - CONTACT_SETTLE_MS - (s.job.firstAttemptAt - (s.job.createdAt + CONTACT_SETTLE_MS)) : NaN));
  out("");
  out(`Sync lag, delivery's 200 -> contact updated at HubSpot (${total.n} steps that wrote the contact), ms`);
  out(
    table(
      ["part", "p50", "p95"],
      [
        ["total", f0(total.p50), f0(total.p95)],
        ["200 -> applied (ledger trigger)", f0(apply.p50), f0(apply.p95)],
        [`coalescing window (by design)`, f0(CONTACT_SETTLE_MS), f0(CONTACT_SETTLE_MS)],
        ["due -> claimed (Cloud Tasks emulator + onSyncJobWritten)", f0(dispatch.p50), f0(dispatch.p95)],
        ["claimed -> recorded (claim, HubSpot calls, completion)", f0(run.p50), f0(run.p95)],
        ["opsync's own share (total - window - due->claimed)", f0(own.p50), f0(own.p95)],
        ["apart: immediate task created -> claimed (claims jobs)", f0(r.immediateDispatch.p50), f0(r.immediateDispatch.p95)],
      ],
    ),
  );
  for (const e of r.errors.slice(0, 5)) out(`  error: ${e}`);
  return r.errors.length > 0;
}
