/**
 * Three-way reconciliation: Stripe (customers and subscriptions, listed in pages) ↔ Firestore (canonical records and
 * snapshots; expected = the derivation of what Stripe holds now) ↔ the CRM (contacts and subscription deals, read 100
 * at a time by opsync's keys) ↔ Auth custom claims (read 100 at a time). Findings by kind and customer go to
 * `ops/reconcile/runs/{runId}`; a run with drift opens `alerts/reconcile_<runId>`. With `fix`, repairs go through the
 * normal paths: Stripe objects applied as API snapshots (re-derived), outbox jobs with ids from the run, audit entries
 * with actor `reconcile`, unattributable Stripe customers to the review queue.
 * Cost: 2 list calls per 100 Stripe objects, per 100 customers one Firestore page (+1 batched read), one contact
 * read, one claims read and ⌈deals/100⌉ deal reads.
 */
import type { Firestore } from "firebase-admin/firestore";
import { claimsDrift, contactDrift, countByKind, dealDrift, fixesFor, objectDrift, recordDrift, type Finding } from "../domain/drift.js";
import { decideUid, groupByCustomer } from "../domain/importMapping.js";
import { apiSubjects, planApiImport } from "../domain/importPlan.js";
import type { CustomerDoc, JobSpec } from "../domain/model.js";
import type { Subject } from "../domain/normalize.js";
import { contactState, subscriptionDeal } from "../domain/syncPlan.js";
import { READ_BATCH, type ClaimsReadPort, type CrmReadPort, type DealStage } from "../sinks/ports.js";
import type { StripeJson, StripeReadPort } from "../sinks/stripeApi.js";
import { readMappings, writeReconcileRun } from "../store/opsState.js";
import { openDriftAlert, planRepairJobs, readCustomerPage, type StoredCustomer } from "../store/reconcile.js";
import { applyStripeObjects, holdForReview, openReviewItems } from "../store/stripeImport.js";
import { reconcileOrders } from "./reconcileOrders.js";
import { listAll, type RetryOptions } from "./stripeRetry.js";

export interface ReconcileDeps {
  db: Firestore;
  stripe: StripeReadPort;
  crm: CrmReadPort;
  claims: ClaimsReadPort;
  graceDays: number;
  now?: () => Date;
  retry?: RetryOptions;
}

export interface ReconcileOptions {
  /** Repair what was found (jobs, re-derivation, review items); otherwise only report. */
  fix?: boolean;
  onProgress?: (p: { phase: "listing" | "customers" | "unknown" | "orders"; done: number; drift: number }) => void;
  /** How many findings the run document keeps (the counts are always complete). Default 500. */
  maxFindings?: number;
  /** How far back invoices and payment intents are compared with the snapshots (default 30 days, as backfill imports). */
  paymentDays?: number;
}

export interface ReconcileReport {
  runId: string;
  status: "done" | "failed";
  fix: boolean;
  startedAt: string;
  finishedAt: string | null;
  /** Customers compared (Firestore records, plus Stripe customers with no record). */
  checked: number;
  /** Marketplace orders compared with their CRM deals. */
  checkedOrders: number;
  drift: Partial<Record<Finding["kind"], number>>;
  driftTotal: number;
  /** Findings repaired (a job planned, the record re-derived, or a review item opened). */
  fixed: number;
  jobs: number;
  /** Stripe customers nobody can attribute that already wait in the review queue (not drift: a person has them). */
  awaitingReview: number;
  findings: Finding[];
  findingsTruncated: boolean;
  alertId: string | null;
  listed: { customers: number; subscriptions: number; invoices: number; paymentIntents: number };
}

const DAY_S = 86_400;
type Related = Record<"subscription" | "invoice" | "payment_intent", Map<string, StripeJson[]>>;

const PAGE = READ_BATCH;

interface Expected {
  stored: StoredCustomer;
  customer: CustomerDoc;
  billing: StoredCustomer["billing"];
  subjects: Subject[];
  findings: Finding[];
}

export async function reconcile(deps: ReconcileDeps, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const now = () => deps.now?.() ?? new Date();
  const started = now();
  const runId = `reconcile_${started.getTime()}`;
  const fix = opts.fix === true;
  const findings: Finding[] = [];
  const counters = { checked: 0, fixed: 0, jobs: 0, awaitingReview: 0, customers: 0, subscriptions: 0, invoices: 0, paymentIntents: 0, orders: 0 };
  await writeReconcileRun(deps.db, runId, { runId, status: "running", fix, startedAt: started, finishedAt: null, checked: 0, drift: {}, fixed: 0 });
  const progress = (phase: "listing" | "customers" | "unknown" | "orders") => opts.onProgress?.({ phase, done: counters.checked, drift: findings.length });
  try {
    progress("listing");
    const customers = new Map((await listAll(deps.stripe, "customers", {}, deps.retry)).filter((c) => typeof c.id === "string" && c.deleted !== true).map((c) => [String(c.id), c]));
    const fetchedAt = Math.floor(now().getTime() / 1000);
    const subscriptions = await listAll(deps.stripe, "subscriptions", { status: "all" }, deps.retry);
    // Invoices and payment intents of the window, every status: one list pass each, never one query per customer.
    const since = fetchedAt - (opts.paymentDays ?? 30) * DAY_S;
    const invoices = await listAll(deps.stripe, "invoices", { createdGte: since }, deps.retry);
    const paymentIntents = await listAll(deps.stripe, "payment_intents", { createdGte: since }, deps.retry);
    Object.assign(counters, { customers: customers.size, subscriptions: subscriptions.length, invoices: invoices.length, paymentIntents: paymentIntents.length });
    const subsOf = groupByCustomer(subscriptions);
    const related: Related = { subscription: subsOf, invoice: groupByCustomer(invoices), payment_intent: groupByCustomer(paymentIntents) };
    const seen = new Set<string>();
    const stageIds = new Map<DealStage, string | null>();
    const stageId = async (stage: DealStage) => {
      if (!stageIds.has(stage)) stageIds.set(stage, await deps.crm.dealStageId(stage));
      return stageIds.get(stage) ?? null;
    };
    for (let after: string | null = null; ; ) {
      const page = await readCustomerPage(deps.db, after, PAGE);
      if (page.length === 0) break;
      after = page[page.length - 1]?.customer.uid ?? null;
      const expected = page.map((stored) => expectRecord(stored, customers, related, fetchedAt, now(), deps.graceDays, seen));
      await compareVendors(deps, expected, stageId);
      for (const e of expected) {
        findings.push(...e.findings);
        if (fix && e.findings.length) await repair(deps, runId, e, fetchedAt, now(), counters);
      }
      counters.checked += page.length;
      progress("customers");
    }
    progress("unknown");
    await unknownCustomers(deps, runId, [...customers.values()].filter((c) => !seen.has(String(c.id))), subsOf, fetchedAt, now(), fix, findings, counters);
    progress("orders");
    await reconcileOrders(deps, { runId, fix, now, stageId }, findings, counters);
    const finished = now();
    const drift = countByKind(findings);
    const cap = opts.maxFindings ?? 500;
    const report: ReconcileReport = {
      runId, status: "done", fix, startedAt: started.toISOString(), finishedAt: finished.toISOString(), checked: counters.checked, checkedOrders: counters.orders, drift,
      driftTotal: findings.length, fixed: counters.fixed, jobs: counters.jobs, awaitingReview: counters.awaitingReview,
      findings: findings.slice(0, cap), findingsTruncated: findings.length > cap, alertId: null,
      listed: { customers: counters.customers, subscriptions: counters.subscriptions, invoices: counters.invoices, paymentIntents: counters.paymentIntents },
    };
    if (findings.length) {
      const text = `:mag: opsync reconciliation ${runId} found ${findings.length} difference(s) (${Object.entries(drift).map(([k, n]) => `${k} ${n}`).join(", ")})${fix ? `; ${counters.fixed} repaired` : "; run `opsync reconcile --fix` to repair"}. See ops/reconcile/runs/${runId}.`;
      report.alertId = await openDriftAlert(deps.db, { runId, drift: drift as Record<string, number>, total: findings.length, fixed: counters.fixed, fix, now: finished, text });
    }
    await writeReconcileRun(deps.db, runId, { ...report, startedAt: started, finishedAt: finished, error: null });
    return report;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await writeReconcileRun(deps.db, runId, {
      runId, status: "failed", fix, startedAt: started, finishedAt: now(), checked: counters.checked, drift: countByKind(findings), fixed: counters.fixed, error: message,
    });
    throw new Error(`reconcile failed: ${message}`);
  }
}

/** The record Stripe implies now for one stored customer, and how the stored record differs from it. */
function expectRecord(
  stored: StoredCustomer,
  customers: Map<string, StripeJson>,
  related: Related,
  fetchedAt: number,
  now: Date,
  graceDays: number,
  seen: Set<string>,
): Expected {
  const record = stored.customer;
  const cus = record.stripeCustomerId;
  if (!cus && !stored.snapshots) return { stored, customer: record, billing: stored.billing, subjects: [], findings: [] };
  const raw = cus ? customers.get(cus) : undefined;
  if (cus) seen.add(cus);
  // A deleted customer's subscriptions are still listed (canceled): they belong to the derivation too.
  const subs = cus ? apiSubjects("subscription", related.subscription.get(cus) ?? [], fetchedAt).subjects : [];
  const customerSubject = !cus ? null : raw ? (apiSubjects("customer", [raw], fetchedAt).subjects[0] ?? null) : deletedCustomer(stored, cus, fetchedAt);
  // Invoices and payment intents newer than the snapshots may have no event behind them (a missed delivery).
  const payments = cus ? [...apiSubjects("invoice", related.invoice.get(cus) ?? [], fetchedAt).subjects, ...apiSubjects("payment_intent", related.payment_intent.get(cus) ?? [], fetchedAt).subjects] : [];
  const subjects = [...(customerSubject ? [customerSubject] : []), ...subs, ...payments];
  const derived = planApiImport({
    uid: record.uid, stripeCustomerId: cus, subjects, fetchedAt, cause: "reconcile", now, graceDays, mappingUid: record.uid,
    customer: record, billing: stored.billing, snapshots: stored.snapshots, rederive: true,
  });
  const customer = derived.customer ?? record;
  const findings = recordDrift(customer, record).map((f): Finding => (f.field === "stripeCustomerDeleted" && f.expected === true ? { ...f, kind: "stripe_customer_deleted" } : f));
  findings.push(...objectDrift({ uid: record.uid, stripeCustomerId: cus }, payments, stored.snapshots));
  return { stored, customer, billing: derived.billing, subjects, findings };
}

/** Stripe no longer lists the customer (deleted, or gone): what its snapshot knew, marked deleted. */
function deletedCustomer(stored: StoredCustomer, cus: string, fetchedAt: number): Subject | null {
  const known = stored.snapshots?.objects[cus]?.subject;
  if (known?.kind === "customer") return { ...known, deleted: true };
  return apiSubjects("customer", [{ id: cus, object: "customer", deleted: true }], fetchedAt).subjects[0] ?? null;
}

/** CRM contacts, subscription deals and claims of one page of customers, in batched reads. */
async function compareVendors(deps: ReconcileDeps, page: Expected[], stageId: (s: DealStage) => Promise<string | null>): Promise<void> {
  const uids = page.map((e) => e.customer.uid);
  const [contacts, claims] = await Promise.all([deps.crm.readContacts(uids), deps.claims.readClaims(uids)]);
  const deals = page.flatMap((e) => Object.keys(e.billing?.subscriptions ?? {}).map((sub) => ({ e, deal: subscriptionDeal(e.customer, e.billing, sub) })));
  const found = new Map<string, { stageId: string | null }>();
  for (let i = 0; i < deals.length; i += READ_BATCH) {
    for (const [key, d] of await deps.crm.readDeals(deals.slice(i, i + READ_BATCH).map((d) => d.deal.key))) found.set(key, d);
  }
  for (const e of page) {
    e.findings.push(...contactDrift(contactState(e.customer, e.billing), contacts.get(e.customer.uid)));
    e.findings.push(...claimsDrift(e.customer, claims.get(e.customer.uid)));
  }
  for (const { e, deal } of deals) {
    e.findings.push(...dealDrift({ uid: e.customer.uid, stripeCustomerId: e.customer.stripeCustomerId }, deal.key, await stageId(deal.stage), found.get(deal.key)));
  }
}

/** Repairs one customer: re-derive the record from Stripe's objects, then plan the jobs the other findings call for. */
async function repair(deps: ReconcileDeps, runId: string, e: Expected, fetchedAt: number, now: Date, counters: { fixed: number; jobs: number }): Promise<void> {
  const uid = e.customer.uid;
  const actions = new Set(e.findings.map((f) => fixesFor(f.kind)));
  let recordJobs: string[] = [];
  const cus = e.customer.stripeCustomerId;
  if (actions.has("record") && cus) {
    const result = await applyStripeObjects(deps.db, {
      uid, stripeCustomerId: cus, subjects: e.subjects, fetchedAt, cause: runId, actor: "reconcile", graceDays: deps.graceDays, now, noSync: false, rederive: true,
    });
    if (result.outcome !== "conflict") recordJobs = result.jobIds;
  }
  const jobs: JobSpec[] = [];
  if (actions.has("contact")) jobs.push({ kind: "crm.contact.upsert", target: { uid }, idempotencyKey: `contact:${uid}`, reason: "reconcile" });
  if (actions.has("claims")) jobs.push({ kind: "auth.claims.update", target: { uid }, idempotencyKey: `claims:${uid}`, reason: "reconcile" });
  const dealKeys = new Set(e.findings.filter((f) => fixesFor(f.kind) === "deal").map((f) => f.field ?? ""));
  for (const key of dealKeys) {
    const subscriptionId = key.replace(/^subscription:/, "");
    jobs.push({ kind: "crm.deal.upsert", target: { uid, subscriptionId }, idempotencyKey: key, reason: "reconcile" });
  }
  const created = await planRepairJobs(deps.db, { runId, uid, jobs, findings: e.findings, now });
  counters.jobs += recordJobs.length + created.length;
  counters.fixed += e.findings.filter((f) => fixesFor(f.kind) !== "none").length;
}

/** Stripe customers no record names: imported when a uid is known (mapping, metadata), else held for review. */
async function unknownCustomers(
  deps: ReconcileDeps,
  runId: string,
  unknown: StripeJson[],
  subsOf: Map<string, StripeJson[]>,
  fetchedAt: number,
  now: Date,
  fix: boolean,
  findings: Finding[],
  counters: { checked: number; fixed: number; jobs: number; awaitingReview: number },
): Promise<void> {
  for (let i = 0; i < unknown.length; i += READ_BATCH) {
    const chunk = unknown.slice(i, i + READ_BATCH);
    const ids = chunk.map((c) => String(c.id));
    const [mapped, held] = await Promise.all([readMappings(deps.db, ids), openReviewItems(deps.db, ids)]);
    for (const raw of chunk) {
      const cus = String(raw.id);
      counters.checked += 1;
      const customer = apiSubjects("customer", [raw], fetchedAt).subjects;
      const metadata = customer[0]?.metadataUid ?? null;
      const decision = decideUid(cus, { mapped: mapped.get(cus) ?? null, file: null, metadata, checkout: [] });
      if (decision.kind !== "uid" && held.has(cus)) {
        counters.awaitingReview += 1;
        continue;
      }
      const uid = decision.kind === "uid" ? decision.uid : null;
      findings.push({ kind: "stripe_customer_unknown", uid, stripeCustomerId: cus, field: mapped.has(cus) ? "record" : "mapping", expected: uid ? `customers/${uid}` : "a uid", found: null });
      if (!fix) continue;
      counters.fixed += 1;
      if (decision.kind === "uid") {
        const subjects = [...customer, ...apiSubjects("subscription", subsOf.get(cus) ?? [], fetchedAt).subjects];
        const result = await applyStripeObjects(deps.db, { uid: decision.uid, stripeCustomerId: cus, subjects, fetchedAt, cause: runId, actor: "reconcile", graceDays: deps.graceDays, now, noSync: false, rederive: true });
        if (result.outcome !== "conflict") counters.jobs += result.jobIds.length;
        continue;
      }
      const known = { email: typeof raw.email === "string" ? raw.email : null, name: typeof raw.name === "string" ? raw.name : null, subscriptions: (subsOf.get(cus) ?? []).length, created: raw.created ?? null };
      const detail = decision.kind === "conflict" ? decision.detail : `No Firebase uid for Stripe customer ${cus} (found by reconciliation): set metadata.firebaseUid or map it with resolveReview`;
      await holdForReview(deps.db, { stripeCustomerId: cus, reason: decision.kind === "conflict" ? "uid_conflict" : "unmapped_customer", detail, known, now });
    }
  }
}
