/**
 * `npm run demo`: plays one subscriber's life and one marketplace order against the running stack (`npm start`)
 * by POSTing signed Stripe events to the webhook, waits for the sync queue to finish the work those events
 * caused, then shows what opsync recorded in Firestore and what the outside systems (HubSpot, Firebase Auth
 * custom claims, Slack) got. It checks all of it, so a non-zero exit means the stack did not behave as a real
 * Stripe account and a founder would expect.
 */
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { getAuth, type Auth } from "firebase-admin/auth";
import { Timestamp, getFirestore, type Firestore } from "firebase-admin/firestore";
import { setTimeout as sleep } from "node:timers/promises";
import { PROJECT_ID, WEBHOOK_URL } from "./emulators";
import { ensureLocalSecrets, localParams, readLocalWebhookSecret } from "./lib/localSecret";
import {
  charge,
  checkoutSession,
  customer,
  invoice,
  paymentIntent,
  price,
  refund,
  signedDelivery,
  stripeEvent,
  subscription,
  uniq,
} from "../test/support/stripeFixtures";

const HTTP_TIMEOUT_MS = 15_000;
const FIRESTORE_TIMEOUT_MS = 15_000;
const DEFAULT_FIRESTORE_HOST = "127.0.0.1:8080";
const DEFAULT_AUTH_HOST = "127.0.0.1:9099";
/** The HubSpot stand-in `npm start` runs when functions/.env.demo-opsync points at it (scripts/lib/localVendors.ts). */
const LOCAL_HUBSPOT_URL = "http://127.0.0.1:4610";
/** How long the sync queue gets to finish this run's jobs (retries back off up to 30 s). */
const QUEUE_TIMEOUT_MS = 90_000;
const QUEUE_POLL_MS = 500;
const QUEUE_PROGRESS_EVERY_MS = 3_000;

// ---------------------------------------------------------------------------------------------------------------
// Configuration

interface DemoConfig {
  webhookUrl: string;
  firestoreHost: string;
  authHost: string;
  secret: string;
  /** Set when the stack syncs to the local HubSpot stand-in; null when real vendors are configured. */
  hubspot: { url: string; token: string } | null;
  helpdesk: string;
}

const hostPort = (name: string, fallback: string): string => {
  const value = process.env[name]?.trim() || fallback;
  if (!/^[\w.-]+:\d+$/.test(value)) throw new Error(`${name} must look like host:port, got "${value}"`);
  return value;
};

function loadConfig(): DemoConfig {
  const webhookUrl = process.env.OPSYNC_WEBHOOK_URL?.trim() || WEBHOOK_URL;
  if (!URL.canParse(webhookUrl) || !/^https?:$/.test(new URL(webhookUrl).protocol)) {
    throw new Error(`OPSYNC_WEBHOOK_URL must be an http(s) URL, got "${webhookUrl}"`);
  }
  const firestoreHost = hostPort("FIRESTORE_EMULATOR_HOST", DEFAULT_FIRESTORE_HOST);
  const authHost = hostPort("FIREBASE_AUTH_EMULATOR_HOST", DEFAULT_AUTH_HOST);
  const secret = readLocalWebhookSecret();
  if (!secret) {
    throw new Error("No webhook signing secret in functions/.secret.local. Run `npm start` first (it creates one).");
  }
  // The same files the stack reads: functions/.env.demo-opsync, overridden by functions/.env.local.
  const params = localParams();
  let hubspot: DemoConfig["hubspot"] = null;
  if (params.get("HUBSPOT_BASE_URL") === LOCAL_HUBSPOT_URL) {
    const token = ensureLocalSecrets({}).get("HUBSPOT_TOKEN");
    if (!token) throw new Error("No HUBSPOT_TOKEN in functions/.secret.local. Run `npm start` first (it creates one).");
    hubspot = { url: LOCAL_HUBSPOT_URL, token };
  }
  return { webhookUrl, firestoreHost, authHost, secret, hubspot, helpdesk: params.get("HELPDESK") ?? "hubspot" };
}

/** Fails with a pointer to `npm start` rather than a socket error halfway through the story. */
async function requireStack(cfg: DemoConfig): Promise<void> {
  const notUp = `Run \`npm start\` in another terminal and wait for "opsync ready".`;
  try {
    const res = await fetch(cfg.webhookUrl, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    await res.body?.cancel();
    if (res.status !== 405) throw new Error(`GET ${cfg.webhookUrl} answered ${res.status}, expected 405. ${notUp}`);
  } catch (error) {
    if (error instanceof Error && error.message.includes(notUp)) throw error;
    throw new Error(`The opsync stack is not reachable at ${cfg.webhookUrl}. ${notUp}`);
  }
  const others: Array<[string, string]> = [
    ["Firestore emulator", `http://${cfg.firestoreHost}/`],
    ["Auth emulator", `http://${cfg.authHost}/`],
    ...(cfg.hubspot ? [["local HubSpot", `${cfg.hubspot.url}/`] as [string, string]] : []),
  ];
  for (const [what, url] of others) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
      await res.body?.cancel();
    } catch {
      throw new Error(`The ${what} is not reachable at ${url}. ${notUp}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading Firestore documents without trusting their shape

type Fields = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === "boolean" ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const date = (v: unknown): Date | null => (v instanceof Timestamp ? v.toDate() : null);
const record = (v: unknown): Fields => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Fields) : {});

interface CustomerView {
  exists: boolean;
  plan: string | null;
  subscriptionStatus: string | null;
  entitlements: string[];
  delinquent: boolean | null;
  cancelAtPeriodEnd: boolean | null;
  lastPaymentAt: Date | null;
  supportTier: string | null;
  stripeCustomerId: string | null;
  sync: Record<string, string>;
  crmContactId: string | null;
  crmDealIds: Record<string, string>;
  /** Helpdesk ticket ids by request id (failed renewals). */
  tickets: Record<string, string>;
  updatedAt: Date | null;
}

interface OrderView {
  exists: boolean;
  status: string | null;
  amount: number | null;
  amountRefunded: number | null;
  buyerUid: string | null;
  sellerUid: string | null;
  history: string[];
  rejected: number;
  crmDealId: string | null;
}

/** Firestore calls have no abort signal; a stuck emulator must still end the demo. */
function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${FIRESTORE_TIMEOUT_MS / 1000} s`)), FIRESTORE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function readCustomer(db: Firestore, uid: string): Promise<CustomerView> {
  const snap = await withTimeout(db.doc(`customers/${uid}`).get(), `reading customers/${uid}`);
  const d: Fields = snap.data() ?? {};
  const sync = Object.fromEntries(Object.entries(record(d.sync)).map(([sink, s]) => [sink, str(record(s).status) ?? "?"]));
  return {
    exists: snap.exists,
    plan: str(d.plan),
    subscriptionStatus: str(d.subscriptionStatus),
    entitlements: strings(d.entitlements),
    delinquent: bool(d.delinquent),
    cancelAtPeriodEnd: bool(d.cancelAtPeriodEnd),
    lastPaymentAt: date(d.lastPaymentAt),
    supportTier: str(d.supportTier),
    stripeCustomerId: str(d.stripeCustomerId),
    sync,
    crmContactId: str(d.crmContactId),
    crmDealIds: stringValues(d.crmDealIds),
    tickets: ticketIds(d.tickets),
    updatedAt: date(d.updatedAt),
  };
}

function stringValues(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(v)).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function ticketIds(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(v)).map(([requestId, t]) => [requestId, str(record(t).ticketId) ?? "?"]));
}

async function readOrder(db: Firestore, orderId: string): Promise<OrderView> {
  const snap = await withTimeout(db.doc(`orders/${orderId}`).get(), `reading orders/${orderId}`);
  const d: Fields = snap.data() ?? {};
  const history = Array.isArray(d.history)
    ? d.history.map((h: unknown) => `${str(record(h).from) ?? "new"}→${str(record(h).to) ?? "?"}`)
    : [];
  return {
    exists: snap.exists,
    status: str(d.status),
    amount: num(d.amount),
    amountRefunded: num(d.amountRefunded),
    buyerUid: str(d.buyerUid),
    sellerUid: str(d.sellerUid),
    history,
    rejected: Array.isArray(d.rejectedTransitions) ? d.rejectedTransitions.length : 0,
    crmDealId: str(d.crmDealId),
  };
}

/** Documents whose `field` is one of `values` (the collections also hold earlier runs). `in` takes at most 30 values. */
async function docsWhereIn(db: Firestore, collection: string, field: string, values: string[]): Promise<Array<{ id: string; data: Fields }>> {
  const out: Array<{ id: string; data: Fields }> = [];
  for (let i = 0; i < values.length; i += 30) {
    const chunk = values.slice(i, i + 30);
    const snap = await withTimeout(db.collection(collection).where(field, "in", chunk).get(), `querying ${collection}`);
    for (const doc of snap.docs) out.push({ id: doc.id, data: doc.data() });
  }
  return out;
}

/** Documents caused by this run's events. */
async function docsCausedBy(db: Firestore, collection: string, eventIds: string[]): Promise<Fields[]> {
  return (await docsWhereIn(db, collection, "cause.eventId", eventIds)).map((d) => d.data);
}

async function reviewItemsFor(db: Firestore, eventIds: string[]): Promise<number> {
  const refs = eventIds.map((id) => db.doc(`reviewQueue/${id}`));
  const snaps = await withTimeout(db.getAll(...refs), "reading reviewQueue");
  return snaps.filter((s) => s.exists).length;
}

// ---------------------------------------------------------------------------------------------------------------
// Delivering events

/** Any fixture event: FixtureEvent<T> is not a union over T, so steps hold what delivery needs. */
interface SentEvent {
  id: string;
  type: string;
}

interface Delivery {
  http: number;
  ledger: string;
  duplicate: boolean;
  error: string | null;
}

function parseDelivery(http: number, body: unknown): Delivery {
  const b = record(body);
  return {
    http,
    ledger: str(b.status) ?? "-",
    duplicate: b.duplicate === true,
    error: str(b.error),
  };
}

async function post(cfg: DemoConfig, event: SentEvent): Promise<Delivery> {
  // Signed at send time: Stripe signatures are only valid for five minutes.
  const { body, signature } = signedDelivery(event, cfg.secret);
  let res: Response;
  try {
    res = await fetch(cfg.webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body,
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
  } catch (error) {
    if (error instanceof Error && error.name === "TimeoutError") {
      // A failed step, not the end of the story: Stripe would mark the delivery "Timed out" and send it again.
      return { http: 0, ledger: "-", duplicate: false, error: `no answer within ${HTTP_TIMEOUT_MS / 1000} s (Stripe would retry it)` };
    }
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`delivering ${event.type} ${event.id} failed (${why}); is \`npm start\` still running?`);
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { error: text.slice(0, 200) };
  }
  return parseDelivery(res.status, parsed);
}

// ---------------------------------------------------------------------------------------------------------------
// The story

interface Step {
  label: string;
  event: SentEvent;
  /** What the record looks like after this step if opsync did its job. */
  customer?: Partial<CustomerView>;
  order?: Partial<OrderView>;
  /** A redelivery of the previous event: must be acknowledged and change nothing. */
  duplicate?: boolean;
}

interface Cast {
  uid: string;
  /** Per run: the CRM refuses a second contact with an email another uid's contact already has. */
  email: string;
  cus: string;
  sub: string;
  buyerUid: string;
  sellerUid: string;
  orderId: string;
}

const STARTER_ENTITLEMENTS = ["projects", "reports"];
const PRO_ENTITLEMENTS = ["api", "projects", "reports", "sso"];

function subscriberStory(c: Cast): Step[] {
  const starter = price({ id: uniq("price"), lookupKey: "starter", entitlements: STARTER_ENTITLEMENTS.join(","), amount: 2900 });
  const pro = price({ id: uniq("price"), lookupKey: "pro", entitlements: PRO_ENTITLEMENTS.join(","), supportTier: "priority", amount: 9900 });
  const sub = (status: "active" | "past_due" | "canceled", p: typeof pro, cancelAtPeriodEnd = false) =>
    subscription({ id: c.sub, customer: c.cus, status, price: p, cancelAtPeriodEnd });
  const firstInvoice = uniq("in");
  const renewal = uniq("in");
  const email = c.email;
  // Built in story order: each fixture takes the next `created`, and opsync orders state by it.
  const steps: Step[] = [];
  steps.push(
    {
      label: "Ada checks out (starter)",
      event: stripeEvent(
        "checkout.session.completed",
        checkoutSession({ id: uniq("cs"), mode: "subscription", customer: c.cus, clientReferenceId: c.uid, subscription: c.sub, email }),
      ),
      customer: { exists: true, stripeCustomerId: c.cus },
    },
    { label: "Stripe customer created", event: stripeEvent("customer.created", customer({ id: c.cus, email })) },
    {
      label: "subscription starts",
      event: stripeEvent("customer.subscription.created", sub("active", starter)),
      customer: { plan: "starter", subscriptionStatus: "active", entitlements: STARTER_ENTITLEMENTS },
    },
    {
      label: "first invoice paid",
      event: stripeEvent(
        "invoice.paid",
        invoice({ id: firstInvoice, customer: c.cus, subscription: c.sub, status: "paid", billingReason: "subscription_create" }),
      ),
      customer: { delinquent: false },
    },
    {
      label: "upgrades to pro",
      event: stripeEvent("customer.subscription.updated", sub("active", pro), {
        previous: { items: { data: [{ price: { id: starter.id, lookup_key: "starter" } }] } },
      }),
      customer: { plan: "pro", entitlements: PRO_ENTITLEMENTS, supportTier: "priority" },
    },
    {
      label: "renewal card declined",
      event: stripeEvent(
        "invoice.payment_failed",
        invoice({ id: renewal, customer: c.cus, subscription: c.sub, status: "open", amount: 9900, billingReason: "subscription_cycle" }),
      ),
      customer: { delinquent: true },
    },
    {
      label: "subscription past due",
      event: stripeEvent("customer.subscription.updated", sub("past_due", pro), { previous: { status: "active" } }),
      // Grace period: a past_due subscriber keeps access for a few days.
      customer: { subscriptionStatus: "past_due", entitlements: PRO_ENTITLEMENTS },
    },
  );
  const recovered = stripeEvent(
    "invoice.paid",
    invoice({ id: renewal, customer: c.cus, subscription: c.sub, status: "paid", amount: 9900, attempt: 2 }),
  );
  steps.push(
    { label: "retry succeeds", event: recovered, customer: { delinquent: false } },
    // Stripe redelivers when it did not see our 2xx in time; the ledger must absorb it.
    { label: "(Stripe redelivers it)", event: recovered, duplicate: true },
    {
      label: "subscription active again",
      event: stripeEvent("customer.subscription.updated", sub("active", pro), { previous: { status: "past_due" } }),
      customer: { subscriptionStatus: "active", entitlements: PRO_ENTITLEMENTS },
    },
    {
      label: "cancels at period end",
      event: stripeEvent("customer.subscription.updated", sub("active", pro, true), { previous: { cancel_at_period_end: false } }),
      customer: { subscriptionStatus: "active", cancelAtPeriodEnd: true, entitlements: PRO_ENTITLEMENTS },
    },
    {
      label: "period ends, subscription over",
      event: stripeEvent("customer.subscription.deleted", sub("canceled", pro, true)),
      customer: { subscriptionStatus: "canceled", entitlements: [], supportTier: "free" },
    },
  );
  return steps;
}

function marketplaceStory(c: Cast): Step[] {
  const pi = uniq("pi");
  const ch = uniq("ch");
  const amount = 5000;
  const metadata = { orderId: c.orderId, buyerUid: c.buyerUid, sellerUid: c.sellerUid };
  return [
    {
      label: "buyer pays for an order",
      event: stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", paymentIntent: pi, amount, metadata })),
      order: { status: "paid", amount, buyerUid: c.buyerUid, sellerUid: c.sellerUid },
    },
    {
      label: "payment confirmed",
      event: stripeEvent("payment_intent.succeeded", paymentIntent({ id: pi, status: "succeeded", amount, metadata })),
      order: { status: "paid" },
    },
    {
      // Charges and refunds carry no order metadata: opsync finds the order through the payment intent.
      label: "seller refunds in full",
      event: stripeEvent("charge.refunded", charge({ id: ch, paymentIntent: pi, amount, amountRefunded: amount })),
      order: { status: "refunded", amountRefunded: amount },
    },
    {
      label: "refund recorded",
      event: stripeEvent("refund.created", refund({ id: uniq("re"), charge: ch, paymentIntent: pi, amount })),
      order: { status: "refunded", amountRefunded: amount },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Running and checking

/** Compares only the fields a step names; arrays compare as sets because Firestore keeps entitlements sorted anyway. */
function mismatches<T extends object>(what: string, actual: T, expected: Partial<T>): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(expected)) {
    const got: unknown = (actual as Record<string, unknown>)[key];
    const same =
      Array.isArray(want) && Array.isArray(got)
        ? want.length === got.length && want.every((w) => got.includes(w))
        : JSON.stringify(got) === JSON.stringify(want);
    if (!same) out.push(`${what}.${key} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
  return out;
}

const show = (v: string | null): string => v ?? "–";

function customerBrief(c: CustomerView): string {
  const flags = [c.delinquent ? "delinquent" : "", c.cancelAtPeriodEnd && c.subscriptionStatus !== "canceled" ? "cancels at period end" : ""];
  return [show(c.plan), show(c.subscriptionStatus), `${c.entitlements.length} entitlements`, ...flags.filter(Boolean)].join(" · ");
}

function orderBrief(o: OrderView): string {
  return `order ${show(o.status)}${o.amountRefunded ? ` · refunded ${o.amountRefunded}` : ""}`;
}

interface RunState {
  cfg: DemoConfig;
  db: Firestore;
  auth: Auth;
  cast: Cast;
  eventIds: Set<string>;
  failures: string[];
  n: number;
}

async function duplicateFootprint(db: Firestore, eventId: string): Promise<number> {
  const [jobs, audits] = await Promise.all([docsCausedBy(db, "syncJobs", [eventId]), docsCausedBy(db, "auditLog", [eventId])]);
  return jobs.length + audits.length;
}

/** The ledger status once the apply ran (anything but `received`), or `received` after 30 s. */
async function settledLedger(db: Firestore, eventId: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = str((await db.collection("stripeEvents").doc(eventId).get()).get("status")) ?? "-";
    if (status !== "received" || Date.now() > deadline) return status;
    await sleep(100);
  }
}

/** Delivers one step and shows the record it is about (`view`): the subscriber, or the order. */
async function runStep(run: RunState, step: Step, view: "customer" | "order"): Promise<void> {
  const { db, cast } = run;
  run.n += 1;
  const before = step.duplicate
    ? { footprint: await duplicateFootprint(db, step.event.id), customer: await readCustomer(db, cast.uid) }
    : null;
  const posted = await post(run.cfg, step.event);
  run.eventIds.add(step.event.id);
  // The webhook answers once the ledger entry is written (`received`); the ledger trigger applies it just after.
  const d = posted.http === 200 && posted.ledger === "received" ? { ...posted, ledger: await settledLedger(db, step.event.id) } : posted;

  let brief = "";
  const problems: string[] = [];
  if (d.http === 0) problems.push(`webhook timed out: ${d.error ?? ""}`);
  else if (d.http !== 200) problems.push(`HTTP ${d.http}${d.error ? `: ${d.error}` : ""}`);
  else if (d.ledger !== "applied") problems.push(`ledger status ${d.ledger}, expected applied`);
  if (step.duplicate && d.http === 200) {
    if (!d.duplicate) problems.push("redelivery was not recognised as a duplicate");
    const after = { footprint: await duplicateFootprint(db, step.event.id), customer: await readCustomer(db, cast.uid) };
    if (before && (after.footprint !== before.footprint || after.customer.updatedAt?.getTime() !== before.customer.updatedAt?.getTime())) {
      problems.push("redelivery changed state");
    }
    brief = "acknowledged, nothing changed";
  } else if (view === "customer") {
    const c = await readCustomer(db, cast.uid);
    problems.push(...mismatches("customer", c, step.customer ?? {}));
    brief = customerBrief(c);
  } else {
    const o = await readOrder(db, cast.orderId);
    problems.push(...mismatches("order", o, step.order ?? {}));
    brief = orderBrief(o);
  }

  const ledger = `${d.ledger}${d.duplicate ? " (duplicate)" : ""}`;
  const mark = problems.length ? "✗" : "✓";
  console.log(
    ` ${mark} ${String(run.n).padStart(2)}. ${step.label.padEnd(30)} ${step.event.type.padEnd(32)} → ${d.http || "timeout"} → ${ledger.padEnd(20)} ${brief}`,
  );
  for (const p of problems) {
    console.log(`        ${p}`);
    run.failures.push(`step ${run.n} (${step.event.type}): ${p}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The sync queue: every job this run caused, followed until it is done

interface JobView {
  id: string;
  kind: string;
  status: string;
  attempts: number;
  error: string | null;
  result: Fields;
  /** For notifications: what they announce. */
  about: "ticket" | "alert" | null;
}

const FINISHED = new Set(["succeeded", "dead"]);
const STATUS_ORDER = ["succeeded", "running", "pending", "retrying", "paused", "dead"];

function jobView(id: string, d: Fields): JobView {
  return {
    id,
    kind: str(d.kind) ?? "?",
    status: str(d.status) ?? "?",
    attempts: num(d.attempts) ?? 0,
    error: str(record(d.lastError).message),
    result: record(d.result),
    about: str(record(d.target).ticketRequestId) ? "ticket" : str(record(d.target).alertId) ? "alert" : null,
  };
}

/**
 * This run's jobs: the ones its events caused and any other job about its people or its order (signing up in
 * Auth plans a CRM contact too), plus their follow-ups to any depth (the Slack notice for a new ticket, the
 * alert notice for a dead job), which point at the job that created them. A follow-up is written in the same
 * transaction that finishes its parent, so once every job found here is finished, none is missing.
 */
async function jobsOfRun(db: Firestore, eventIds: string[], cast: Cast): Promise<JobView[]> {
  const found = new Map<string, JobView>();
  const seeds = await Promise.all([
    docsWhereIn(db, "syncJobs", "cause.eventId", eventIds),
    docsWhereIn(db, "syncJobs", "target.uid", [cast.uid, cast.buyerUid]),
    docsWhereIn(db, "syncJobs", "target.orderId", [cast.orderId]),
  ]);
  let level = [...new Map(seeds.flat().map((d) => [d.id, d])).values()];
  while (level.length) {
    for (const { id, data } of level) found.set(id, jobView(id, data));
    const parents = level.map((d) => d.id);
    level = (await docsWhereIn(db, "syncJobs", "cause.jobId", parents)).filter((d) => !found.has(d.id));
  }
  return [...found.values()];
}

function statusCounts(jobs: JobView[]): string {
  const counts = new Map<string, number>();
  for (const j of jobs) counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
  const rank = (s: string) => (STATUS_ORDER.includes(s) ? STATUS_ORDER.indexOf(s) : STATUS_ORDER.length);
  return [...counts.entries()]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([status, n]) => `${n} ${status}`)
    .join(" · ");
}

const secondsSince = (t: number): string => `${((Date.now() - t) / 1000).toFixed(1)} s`;

async function waitForQueue(run: RunState): Promise<JobView[]> {
  const started = Date.now();
  console.log(`\nThe sync queue works through what those events asked for (waiting up to ${QUEUE_TIMEOUT_MS / 1000} s):`);
  let shown = "";
  let shownAt = 0;
  for (;;) {
    const jobs = await jobsOfRun(run.db, [...run.eventIds], run.cast);
    const open = jobs.filter((j) => !FINISHED.has(j.status));
    const line = `${jobs.length} jobs: ${statusCounts(jobs)}`;
    const timedOut = Date.now() - started >= QUEUE_TIMEOUT_MS;
    if (!open.length || timedOut) {
      console.log(`  ${secondsSince(started).padStart(6)}  ${line}${open.length ? "" : " — all done"}`);
      if (open.length) {
        run.failures.push(`${open.length} sync job(s) still unfinished after ${QUEUE_TIMEOUT_MS / 1000} s`);
        for (const j of open) {
          console.log(`          ${j.status.padEnd(8)} ${j.id} (attempt ${j.attempts}${j.error ? `, last error: ${j.error}` : ""})`);
        }
        if (open.some((j) => j.status === "paused")) console.log("          (jobs are paused: the automation kill switch is on)");
        if (open.some((j) => j.status === "running")) {
          console.log("          (a job left running by a worker that failed waits for its lease to expire and the sweeper,");
          console.log("           which does not run in the local emulators)");
        }
      }
      return jobs;
    }
    if (line !== shown && Date.now() - shownAt >= QUEUE_PROGRESS_EVERY_MS) {
      console.log(`  ${secondsSince(started).padStart(6)}  ${line}`);
      shown = line;
      shownAt = Date.now();
    }
    await sleep(QUEUE_POLL_MS);
  }
}

function reportDeadJobs(run: RunState, jobs: JobView[]): void {
  const dead = jobs.filter((j) => j.status === "dead");
  if (!dead.length) return;
  console.log(`  ✗ ${dead.length} job(s) gave up (see alerts/{jobId} in Firestore):`);
  for (const j of dead) {
    console.log(`      ${j.id}`);
    console.log(`        ${j.kind} after ${j.attempts} attempt(s): ${j.error ?? "no error recorded"}`);
    run.failures.push(`sync job ${j.id} is dead: ${j.error ?? "no error recorded"}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What opsync recorded

function countByKind(jobs: JobView[]): string[] {
  const counts = new Map<string, number>();
  for (const j of jobs) counts.set(j.kind, (counts.get(j.kind) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${v} × ${k}`);
}

async function summarize(run: RunState, jobs: JobView[]): Promise<void> {
  const { db, cast } = run;
  const ids = [...run.eventIds];
  const [c, o, audits, reviews] = await Promise.all([
    readCustomer(db, cast.uid),
    readOrder(db, cast.orderId),
    docsCausedBy(db, "auditLog", ids),
    reviewItemsFor(db, ids),
  ]);

  console.log(`\nWhat opsync recorded (this run's ${ids.length} events):`);
  console.log(`  customers/${cast.uid}`);
  console.log(`    plan ${show(c.plan)}, subscriptionStatus ${show(c.subscriptionStatus)}, entitlements [${c.entitlements.join(", ")}], support ${show(c.supportTier)}`);
  console.log(`    delinquent ${String(c.delinquent)}, lastPaymentAt ${c.lastPaymentAt?.toISOString() ?? "–"}`);
  console.log(`    sync ${Object.entries(c.sync).map(([sink, s]) => `${sink}: ${s}`).join(", ") || "–"}`);
  console.log(`  orders/${cast.orderId}`);
  console.log(`    status ${show(o.status)}, amount ${o.amount ?? "–"}, amountRefunded ${o.amountRefunded ?? "–"}`);
  console.log(`    history ${o.history.join(", ") || "–"}${o.rejected ? `, ${o.rejected} rejected transitions` : ""}`);
  console.log(`  syncJobs    ${jobs.length}: ${countByKind(jobs).join(", ")}`);
  console.log(`  auditLog    ${audits.length} entries`);
  console.log(`  reviewQueue ${reviews} items`);

  const expectFinal = (problems: string[]) => run.failures.push(...problems.map((p) => `final state: ${p}`));
  expectFinal(
    mismatches("customer", c, { subscriptionStatus: "canceled", entitlements: [], delinquent: false, plan: "pro", stripeCustomerId: cast.cus }),
  );
  if (!c.lastPaymentAt) expectFinal(["customer.lastPaymentAt is empty after two paid invoices"]);
  const unsynced = ["crm", "claims", "helpdesk"].filter((sink) => c.sync[sink] !== "synced");
  if (unsynced.length) expectFinal([`customer.sync is not "synced" for ${unsynced.join(", ")}: ${JSON.stringify(c.sync)}`]);
  expectFinal(mismatches("order", o, { status: "refunded", amountRefunded: 5000, history: ["new→paid", "paid→refunded"], rejected: 0 }));
  const tickets = jobs.filter((j) => j.kind === "helpdesk.ticket.create").length;
  if (tickets !== 1) expectFinal([`${tickets} helpdesk ticket jobs, expected 1 (the failed renewal)`]);
  if (!jobs.some((j) => j.kind === "auth.claims.update")) expectFinal(["no auth.claims.update job although entitlements changed"]);
  if (audits.length === 0) expectFinal(["no audit entries"]);
  if (reviews !== 0) expectFinal([`${reviews} events went to the review queue`]);
}

// ---------------------------------------------------------------------------------------------------------------
// What the outside systems got

/** One HubSpot object by id, or null if HubSpot does not have it. */
async function hubspotObject(
  hubspot: NonNullable<DemoConfig["hubspot"]>,
  type: "contacts" | "deals" | "tickets",
  id: string,
  properties: string[],
): Promise<Record<string, string> | null> {
  const url = `${hubspot.url}/crm/v3/objects/${type}/${encodeURIComponent(id)}?properties=${properties.join(",")}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${hubspot.token}` }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(`local HubSpot did not answer GET /crm/v3/objects/${type}/${id} (${error instanceof Error ? error.message : String(error)})`);
  }
  const text = await res.text();
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`local HubSpot answered ${res.status} to GET /crm/v3/objects/${type}/${id}: ${text.slice(0, 200)}`);
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`local HubSpot sent a non-JSON ${type} object: ${text.slice(0, 200)}`);
  }
  return stringValues(record(body).properties);
}

const row = (what: string, detail: string): void => console.log(`  ${what.padEnd(24)} ${detail}`);
const prop = (p: Record<string, string> | null, name: string): string => (p?.[name] ? p[name] : "–");

/** Reads one HubSpot object, prints it, and returns what is wrong with it (missing, or unlike `expected`). */
async function showHubspot(
  hubspot: NonNullable<DemoConfig["hubspot"]>,
  what: string,
  type: "contacts" | "deals" | "tickets",
  id: string | null,
  properties: string[],
  describe: (p: Record<string, string>) => string,
  expected: Record<string, string | null>,
): Promise<string[]> {
  if (!id) {
    row(what, "✗ opsync recorded no id for it");
    return [`${what}: opsync recorded no HubSpot id`];
  }
  let p: Record<string, string> | null;
  try {
    p = await hubspotObject(hubspot, type, id, properties);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    row(what, `✗ ${why}`);
    return [`${what}: ${why}`];
  }
  if (!p) {
    row(`${what} ${id}`, "✗ not found in HubSpot");
    return [`${what} ${id} is not in HubSpot`];
  }
  const wrong = Object.entries(expected)
    .filter(([name, want]) => (p[name] ?? "") !== (want ?? ""))
    .map(([name, want]) => `${name} is "${p[name] ?? ""}", expected "${want ?? ""}"`);
  row(`${what} ${id}`, `${wrong.length ? "✗" : "✓"} ${describe(p)}`);
  for (const w of wrong) console.log(`  ${"".padEnd(24)}   ${w}`);
  return wrong.map((w) => `${what} ${id}: ${w}`);
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

async function outsideSystems(run: RunState, jobs: JobView[]): Promise<void> {
  const { cfg, db, auth, cast } = run;
  const [c, o] = await Promise.all([readCustomer(db, cast.uid), readOrder(db, cast.orderId)]);
  const problems: string[] = [];
  const subscriptionDealId = c.crmDealIds[cast.sub] ?? null;
  const tickets = Object.entries(c.tickets);
  const ticketId = tickets.length === 1 ? (tickets[0]?.[1] ?? null) : null;
  if (tickets.length !== 1) problems.push(`customers/${cast.uid}.tickets has ${tickets.length} tickets, expected 1 (the failed renewal)`);

  console.log("\nWhat the outside systems got:");
  if (cfg.hubspot) {
    const h = cfg.hubspot;
    // The refund stage has a generated id (the local stack's setup stored it in ops/hubspot, as hubspot:setup does).
    const stored: unknown = (await db.doc("ops/hubspot").get()).get("stages.refunded");
    const refundedStage = typeof stored === "string" ? stored : "<ops/hubspot has no refund stage id>";
    problems.push(
      ...(await showHubspot(
        h,
        "HubSpot contact",
        "contacts",
        c.crmContactId,
        ["email", "opsync_uid", "opsync_plan", "opsync_subscription_status", "lifecyclestage"],
        (p) => `${prop(p, "email")} · plan ${prop(p, "opsync_plan")} · ${prop(p, "opsync_subscription_status")} · ${prop(p, "lifecyclestage")}`,
        { email: cast.email, opsync_uid: cast.uid, opsync_plan: c.plan, opsync_subscription_status: c.subscriptionStatus },
      )),
      ...(await showHubspot(
        h,
        "HubSpot deal",
        "deals",
        subscriptionDealId,
        ["dealname", "dealstage", "amount", "opsync_deal_key"],
        (p) => `${prop(p, "dealname")} · ${prop(p, "dealstage")} · amount ${prop(p, "amount")}`,
        // A canceled subscription is a lost deal.
        { opsync_deal_key: `subscription:${cast.sub}`, dealstage: "closedlost" },
      )),
      ...(await showHubspot(
        h,
        "HubSpot deal",
        "deals",
        o.crmDealId,
        ["dealname", "dealstage", "amount", "opsync_deal_key"],
        (p) => `${prop(p, "dealname")} · ${prop(p, "dealstage")} · amount ${prop(p, "amount")}`,
        // Refunded in full: the deal moves to opsync's refunded stage and is worth nothing.
        { opsync_deal_key: `order:${cast.orderId}`, dealstage: refundedStage, amount: "0" },
      )),
    );
    if (cfg.helpdesk === "hubspot") {
      problems.push(
        ...(await showHubspot(
          h,
          "HubSpot ticket",
          "tickets",
          ticketId,
          ["subject", "hs_ticket_priority"],
          (p) => `${prop(p, "subject")} · priority ${prop(p, "hs_ticket_priority")}`,
          {},
        )),
      );
    } else {
      row(`${cfg.helpdesk} ticket`, ticketId ? `${ticketId} (not read back: only the local HubSpot is)` : "✗ opsync recorded no ticket id");
      if (!ticketId) problems.push(`no ${cfg.helpdesk} ticket id recorded`);
    }
  } else {
    row("HubSpot", "real vendors are configured (functions/.env.local): the demo does not read them back");
    const missing = [
      c.crmContactId ? "" : `customers/${cast.uid}.crmContactId`,
      subscriptionDealId ? "" : `customers/${cast.uid}.crmDealIds.${cast.sub}`,
      o.crmDealId ? "" : `orders/${cast.orderId}.crmDealId`,
    ].filter(Boolean);
    row("CRM ids opsync stored", missing.length ? `✗ missing ${missing.join(", ")}` : `contact ${c.crmContactId}, deals ${subscriptionDealId}, ${o.crmDealId}`);
    problems.push(...missing.map((m) => `${m} is empty`));
  }

  // Custom claims: opsync's three must equal the customer record; any other claim is left alone.
  try {
    const user = await withTimeout(auth.getUser(cast.uid), `reading Auth user ${cast.uid}`);
    const claims: Fields = user.customClaims ?? {};
    const entitlements = strings(claims.entitlements);
    const matches =
      Array.isArray(claims.entitlements) &&
      sameSet(entitlements, c.entitlements) &&
      claims.plan === c.plan &&
      claims.supportTier === c.supportTier;
    row(
      "Auth custom claims",
      `${matches ? "✓" : "✗"} entitlements [${entitlements.join(", ")}] · plan ${String(claims.plan ?? "–")} · supportTier ${String(claims.supportTier ?? "–")}`,
    );
    if (!matches) {
      problems.push(
        `Auth claims ${JSON.stringify(claims)} do not match the customer (entitlements [${c.entitlements.join(", ")}], plan ${show(c.plan)}, supportTier ${show(c.supportTier)})`,
      );
    }
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    row("Auth custom claims", `✗ ${why}`);
    problems.push(`reading Auth user ${cast.uid}: ${why}`);
  }

  const notices = jobs.filter((j) => j.kind === "notify.slack");
  const posted = notices.filter((j) => j.status === "succeeded" && j.result.skipped !== true);
  const skipped = notices.filter((j) => j.status === "succeeded" && j.result.skipped === true).length;
  const what = (["ticket", "alert"] as const)
    .map((about) => [about, posted.filter((j) => j.about === about).length] as const)
    .filter(([, n]) => n > 0)
    .map(([about, n]) => `${n} ${about === "ticket" ? "new-ticket notice" : "dead-job alert"}${n > 1 ? "s" : ""}`);
  row(
    "Slack",
    `${posted.length} of ${notices.length} notification job(s) posted${what.length ? ` (${what.join(", ")})` : ""}` +
      (skipped ? `, ${skipped} skipped (no Slack webhook configured)` : ""),
  );
  // The failed renewal's ticket announces itself in Slack (with no webhook configured the job succeeds as skipped).
  if (!notices.some((j) => j.about === "ticket" && j.status === "succeeded")) {
    problems.push("the new ticket's Slack notification did not succeed");
  }

  run.failures.push(...problems.map((p) => `outside systems: ${p}`));
}

// ---------------------------------------------------------------------------------------------------------------

function newCast(): Cast {
  const uid = uniq("demo_user");
  const buyerUid = uniq("demo_buyer");
  return {
    uid,
    email: `ada.${uid.slice(-6)}@example.com`,
    cus: uniq("cus"),
    sub: uniq("sub"),
    buyerUid,
    sellerUid: uniq("demo_seller"),
    orderId: uniq("order"),
  };
}

/** Claims jobs need an Auth user to write to: sign-up comes before checkout in a real app too. */
async function createAuthUsers(run: RunState): Promise<void> {
  const { auth, cast } = run;
  await withTimeout(auth.createUser({ uid: cast.uid, email: cast.email, displayName: "Ada Lovelace" }), "creating the subscriber's Auth user");
  await withTimeout(
    auth.createUser({ uid: cast.buyerUid, email: `grace.${cast.buyerUid.slice(-6)}@example.com`, displayName: "Grace Hopper" }),
    "creating the buyer's Auth user",
  );
}

async function main(): Promise<number> {
  const cfg = loadConfig();
  await requireStack(cfg);
  // Both must be set before the Admin SDK first touches Firestore or Auth.
  process.env.FIRESTORE_EMULATOR_HOST = cfg.firestoreHost;
  process.env.FIREBASE_AUTH_EMULATOR_HOST = cfg.authHost;
  // Only emulators here: do not probe for a Google metadata server (it prints warnings when one half-answers).
  process.env.METADATA_SERVER_DETECTION ??= "none";
  const app: App = initializeApp({ projectId: PROJECT_ID }, "opsync-demo");
  const run: RunState = { cfg, db: getFirestore(app), auth: getAuth(app), cast: newCast(), eventIds: new Set(), failures: [], n: 0 };
  try {
    console.log(`opsync demo → ${cfg.webhookUrl}\n`);
    await createAuthUsers(run);
    console.log(`Subscriber ${run.cast.uid} <${run.cast.email}> (Stripe customer ${run.cast.cus}; signed up in Auth first)`);
    for (const step of subscriberStory(run.cast)) await runStep(run, step, "customer");
    console.log(`\nMarketplace order ${run.cast.orderId} (buyer ${run.cast.buyerUid}, seller ${run.cast.sellerUid})`);
    for (const step of marketplaceStory(run.cast)) await runStep(run, step, "order");
    const jobs = await waitForQueue(run);
    reportDeadJobs(run, jobs);
    await summarize(run, jobs);
    await outsideSystems(run, jobs);
  } finally {
    // Firestore keeps gRPC channels open; close them so the process can exit.
    await run.db.terminate().catch(() => undefined);
    await deleteApp(app).catch(() => undefined);
  }
  if (run.failures.length) {
    console.error(`\nDEMO FAILED: ${run.failures.length} problem(s):`);
    for (const f of run.failures) console.error(`  - ${f}`);
    return 1;
  }
  console.log("\nDemo passed: every event was accepted, the sync queue finished its work, and HubSpot, Auth and Slack got it.");
  return 0;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
