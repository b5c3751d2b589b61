/**
 * Sync lag (background triggers on): from a delivery's 200 to a visible result at the vendor, now through the ledger
 * trigger as well (issue 8: the ack only records the event):
 *
 *   delivery -> ledger create (200) -> onStripeEventRecorded applies it, writing the sync job -> onSyncJobWritten
 *            -> Cloud Tasks emulator -> runSyncJob: claim -> read records -> vendor call -> completeJob
 *
 * (a) customer.created with the uid in metadata, until the contact with opsync_uid = uid is found on the local
 * HubSpot; (b) an order paid then disputed, until orders/{id}.tickets has an entry and the ticket exists on the local
 * HubSpot. Closed loop, BENCH_SYNC_CONCURRENCY items in flight; each wait times out after 60 s.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Timestamp, type DocumentData, type Firestore } from "firebase-admin/firestore";
import { customer, dispute, paymentIntent, stripeEvent, uniq } from "../../test/support/stripeFixtures";
import { postEvent, REQUEST_TIMEOUT_MS, TARGETS, webhookAck } from "./http";
import type { HubspotProbe, VendorObject } from "./hubspotProbe";
import { Poller } from "./poller";
import { cpuBusy, cpuTimes, f0, f1, latency, type Latency, type Out } from "./stats";
import { spawnedSince, type WorkerWatch } from "./workers";
import { runChains } from "./workload";

export const SYNC_WAIT_MS = 60_000;
export const SYNC_SETTLE_MS = 180_000;
export const POLL_MS = 100;

const millis = (v: unknown): number => (v instanceof Timestamp ? v.toMillis() : NaN);

export interface JobTimes {
  jobId: string;
  /** The ledger entry's appliedAt: the apply (onStripeEventRecorded) wrote the job in that commit. */
  appliedAt: number;
  status: string;
  attempts: number;
  createdAt: number;
  firstAttemptAt: number;
  completedAt: number;
}

/** The job of `kind` that `eventId`'s apply wrote (its id from the event's ledger entry). */
async function jobOfEvent(db: Firestore, eventId: string, kind: string): Promise<JobTimes | null> {
  const ledger = await db.collection("stripeEvents").doc(eventId).get();
  const ids = (ledger.get("jobIds") as string[] | undefined) ?? [];
  const id = ids.find((j) => j.includes(`.${kind}.`));
  if (!id) return null;
  const snap = await db.collection("syncJobs").doc(id).get();
  if (!snap.exists) return null;
  return {
    jobId: id,
    appliedAt: millis(ledger.get("appliedAt")),
    status: String(snap.get("status")),
    attempts: Number(snap.get("attempts") ?? 0),
    createdAt: millis(snap.get("createdAt")),
    firstAttemptAt: millis(snap.get("firstAttemptAt")),
    completedAt: millis(snap.get("completedAt")),
  };
}

export interface LagSample {
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

export interface LagRun {
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
export async function settleJobs(db: Firestore, since: Date, maxMs: number): Promise<{ open: number; docs: DocumentData[]; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const snap = await db.collection("syncJobs").where("createdAt", ">=", since).get();
    const docs = snap.docs.map((d) => d.data());
    const open = docs.filter((d) => ["pending", "running", "retrying"].includes(String(d.status))).length;
    if (open === 0 || Date.now() - started > maxMs) return { open, docs, waitedMs: Date.now() - started };
    await sleep(500);
  }
}

export interface SyncSection {
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

export async function syncSection(
  db: Firestore,
  secret: string,
  watch: WorkerWatch,
  opts: { contacts: number; orders: number; concurrency: number; hubspot: HubspotProbe },
  out: Out,
): Promise<SyncSection> {
  const { hubspot } = opts;
  const contactsPoll = new Poller<VendorObject>((uids) => hubspot.contactsByUid(uids), POLL_MS, SYNC_WAIT_MS);
  const ordersPoll = new Poller<string>(async (orderIds) => {
    const snaps = await db.getAll(...orderIds.map((id) => db.collection("orders").doc(id)));
    const found = new Map<string, string>();
    for (const s of snaps) {
      const tickets = (s.get("tickets") ?? {}) as Record<string, { ticketId?: unknown }>;
      const first = Object.values(tickets).find((t) => typeof t.ticketId === "string");
      if (first && typeof first.ticketId === "string") found.set(s.id, first.ticketId);
    }
    return found;
  }, POLL_MS, SYNC_WAIT_MS);

  /** (a) customer.created with the uid in metadata -> crm.contact.upsert -> contact with opsync_uid = uid. */
  const contactItem = (uids: string[]) => async (i: number): Promise<LagSample | string> => {
    const uid = uids[i] ?? uniq("user");
    const event = stripeEvent("customer.created", customer({ id: uniq("cus"), uid, email: `${uid}@example.com`, name: "Bench Subscriber" }));
    const r = await postEvent(TARGETS.webhook.url, secret, event, REQUEST_TIMEOUT_MS);
    if (!webhookAck(r.body)) return `customer.created ${event.id}: ${r.error ?? "no ack"}`;
    const seen = await contactsPoll.wait(uid, r.doneAt);
    return { eventId: event.id, ackAt: r.doneAt, seenAt: seen?.seenAt ?? null, vendorAt: seen ? Date.parse(seen.value.createdAt) : null, job: null };
  };

  /** (b) an order paid, then disputed -> helpdesk.ticket.create -> orders/{id}.tickets entry + HubSpot ticket. */
  const ticketItem = async (): Promise<LagSample | string> => {
    const meta = { orderId: uniq("ord"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    const pi = uniq("pi");
    const paid = stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount: 5000, metadata: meta }));
    const p1 = await postEvent(TARGETS.webhook.url, secret, paid, REQUEST_TIMEOUT_MS);
    if (!webhookAck(p1.body)) return `payment_intent.succeeded ${paid.id}: ${p1.error ?? "no ack"}`;
    const disputed = stripeEvent("charge.dispute.created", dispute({ id: uniq("dp"), charge: uniq("ch"), paymentIntent: pi, amount: 5000, status: "needs_response" }));
    const p2 = await postEvent(TARGETS.webhook.url, secret, disputed, REQUEST_TIMEOUT_MS);
    if (!webhookAck(p2.body)) return `charge.dispute.created ${disputed.id}: ${p2.error ?? "no ack"}`;
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
export interface LagRows {
  seen: Latency;
  vendor: Latency;
  /** From the 200 to the ledger trigger's apply (which writes the job): the part issue 8 moved after the ack. */
  apply: Latency;
  dispatch: Latency;
  toVendorFromAttempt: Latency;
  writeBack: Latency;
  timeouts: number;
}

export function lagRows(run: LagRun): LagRows {
  const ok = run.samples.filter((s) => s.seenAt !== null);
  const jobs = run.samples.map((s) => s.job).filter((j): j is JobTimes => j !== null);
  const diff = (xs: Array<[number | null | undefined, number | null | undefined]>) =>
    latency(xs.map(([a, b]) => (a ?? NaN) - (b ?? NaN)).filter((v) => Number.isFinite(v)));
  return {
    seen: diff(ok.map((s) => [s.seenAt, s.ackAt])),
    vendor: diff(ok.map((s) => [s.vendorAt, s.ackAt])),
    apply: diff(run.samples.map((s) => [s.job?.appliedAt, s.ackAt])),
    dispatch: diff(jobs.map((j) => [j.firstAttemptAt, j.createdAt])),
    toVendorFromAttempt: diff(run.samples.map((s) => [s.vendorAt, s.job?.firstAttemptAt])),
    writeBack: diff(run.samples.map((s) => [s.job?.completedAt, s.vendorAt])),
    timeouts: run.samples.length - ok.length,
  };
}
