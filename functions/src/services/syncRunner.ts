/**
 * Runs one sync job: claim it with a lease, read the canonical records as they are now, call the sink, then
 * record success (ids written back, follow-up notifications planned) or failure (retry with backoff, or dead
 * with an alert). Whatever dispatches jobs (Cloud Tasks, the sweeper, tests) calls `runSyncJob`.
 */
import { randomUUID } from "node:crypto";
import type { Firestore, Transaction } from "firebase-admin/firestore";
import { PermanentError } from "../domain/errors.js";
import { DEFAULT_NOTICE_SETTINGS, ticketNoticeText, type NoticeSettings } from "../domain/notices.js";
import { SINK_OF_JOB, type BillingDoc, type CustomerDoc, type JobSpec, type OrderDoc, type SinkName } from "../domain/model.js";
import { decideFailure, type RetryPolicy } from "../domain/retry.js";
import { isOrderParty } from "../domain/supportRequests.js";
import { contactState, orderDeal, subscriptionDeal, ticketFor } from "../domain/syncPlan.js";
import type { Sinks } from "../sinks/ports.js";
import { revalidateObject } from "./revalidate.js";
import { fromFirestore } from "../store/db.js";
import { claimJob, completeJob, failJob, type ClaimResult, type Completion, type JobDoc } from "../store/jobs.js";
import { COL, billingPath } from "../store/paths.js";

export interface Dispatcher {
  dispatch(jobId: string, delayMs: number): Promise<void>;
}

export type { Sinks };

export interface SyncDeps {
  db: Firestore;
  sinks: Sinks;
  policy: (sink: SinkName) => RetryPolicy;
  dispatcher: Dispatcher;
  now?: () => Date;
  random?: () => number;
  leaseMs?: number;
  workerId?: string;
  /** ENTITLEMENT_GRACE_DAYS, for records re-derived by revalidation (default 3). */
  graceDays?: number;
  /** What personal data Slack notices may carry (NOTICE_PERSONAL_DATA); default: uid and a link only. */
  notices?: NoticeSettings;
}

export type RunOutcome =
  | { outcome: "succeeded"; jobId: string }
  | { outcome: "retrying"; jobId: string; delayMs: number }
  | { outcome: "dead"; jobId: string }
  | { outcome: "skipped"; jobId: string; reason: Extract<ClaimResult, { claimed: false }>["reason"] };

const OPEN_ORDER_STATUSES = ["pending_payment", "paid", "in_fulfillment", "partially_refunded"];

async function read<T>(db: Firestore, path: string): Promise<T | null> {
  const snap = await db.doc(path).get();
  return snap.exists ? fromFirestore<T>(snap.data()) : null;
}

async function requireCustomer(db: Firestore, uid: string | undefined): Promise<CustomerDoc> {
  if (!uid) throw new PermanentError("job has no target uid");
  const c = await read<CustomerDoc>(db, `${COL.customers}/${uid}`);
  if (!c) throw new PermanentError(`customers/${uid} does not exist`);
  return c;
}

/** Makes sure the CRM has the contact (so deals can be associated); returns its id. */
async function ensureContact(deps: SyncDeps, c: CustomerDoc, writes: Array<(tx: Transaction) => void>): Promise<string> {
  const billing = await read<BillingDoc>(deps.db, billingPath(c.uid));
  const { contactId } = await deps.sinks.crm.upsertContact(contactState(c, billing));
  if (contactId !== c.crmContactId) {
    writes.push((tx) => tx.set(deps.db.collection(COL.customers).doc(c.uid), { crmContactId: contactId }, { merge: true }));
  }
  return contactId;
}

async function execute(deps: SyncDeps, job: JobDoc): Promise<Completion> {
  const { db, sinks } = deps;
  const writes: Array<(tx: Transaction) => void> = [];
  const done = (result: Completion["result"], followUps: JobSpec[] = []): Completion => ({
    result,
    followUps,
    write: (tx) => writes.forEach((w) => w(tx)),
  });
  switch (job.kind) {
    case "crm.contact.upsert": {
      const contactId = await ensureContact(deps, await requireCustomer(db, job.target.uid), writes);
      return done({ contactId });
    }
    case "crm.deal.upsert": {
      if (job.target.orderId) {
        const order = await read<OrderDoc>(db, `${COL.orders}/${job.target.orderId}`);
        if (!order) throw new PermanentError(`orders/${job.target.orderId} does not exist`);
        const buyer = order.buyerUid ? await read<CustomerDoc>(db, `${COL.customers}/${order.buyerUid}`) : null;
        const contactId = buyer ? await ensureContact(deps, buyer, writes) : null;
        const { dealId } = await sinks.crm.upsertDeal(orderDeal(order, contactId));
        writes.push((tx) => tx.set(db.collection(COL.orders).doc(order.orderId), { crmDealId: dealId }, { merge: true }));
        return done({ dealId });
      }
      const subscriptionId = job.target.subscriptionId;
      if (!subscriptionId) throw new PermanentError("deal job names neither an order nor a subscription");
      const customer = await requireCustomer(db, job.target.uid);
      const contactId = await ensureContact(deps, customer, writes);
      const billing = await read<BillingDoc>(db, billingPath(customer.uid));
      const { dealId } = await sinks.crm.upsertDeal(subscriptionDeal({ ...customer, crmContactId: contactId }, billing, subscriptionId));
      writes.push((tx) =>
        tx.set(db.collection(COL.customers).doc(customer.uid), { crmDealIds: { [subscriptionId]: dealId } }, { merge: true }),
      );
      return done({ dealId });
    }
    case "auth.claims.update": {
      // Write what the record says now; if it changed while we wrote (another job may have written older
      // claims after ours), write again, so the last write always carries the newest version.
      let c = await requireCustomer(db, job.target.uid);
      for (let round = 0; ; round += 1) {
        await sinks.claims.setClaims(c.uid, { entitlements: c.entitlements, plan: c.plan, supportTier: c.supportTier });
        const latest = await requireCustomer(db, job.target.uid);
        if ((latest.claimsVersion ?? 0) === (c.claimsVersion ?? 0) || round >= 4) {
          return done({ entitlements: c.entitlements.join(","), claimsVersion: String(c.claimsVersion ?? 0) });
        }
        c = latest;
      }
    }
    case "stripe.object.revalidate": {
      const result = await revalidateObject({ db, stripe: sinks.stripe, ...(deps.now ? { now: deps.now } : {}), ...(deps.graceDays !== undefined ? { graceDays: deps.graceDays } : {}) }, job);
      return done(result);
    }
    case "helpdesk.ticket.create": {
      const customer = job.target.uid ? await read<CustomerDoc>(db, `${COL.customers}/${job.target.uid}`) : null;
      const order = job.target.orderId ? await read<OrderDoc>(db, `${COL.orders}/${job.target.orderId}`) : null;
      const openOrders = job.target.uid
        ? (await db.collection(COL.orders).where("buyerUid", "==", job.target.uid).where("status", "in", OPEN_ORDER_STATUSES).limit(10).get()).docs.map((d) => d.id)
        : [];
      const supportRef = job.target.supportRequestId ? db.collection(COL.supportRequests).doc(job.target.supportRequestId) : null;
      const request = supportRef ? await read<{ uid: string; subject: string; message: string; category: string }>(db, supportRef.path) : null;
      // Defence in depth: handleSupportRequest already refused foreign orders, but a ticket about a support
      // request must never land on (or show) an order the requester is not a party to.
      if (supportRef && order && !isOrderParty(order, request?.uid ?? job.target.uid ?? "")) {
        throw new PermanentError(`support request ${supportRef.id} names orders/${order.orderId}, which is not the requester's`);
      }
      const ticket = ticketFor({
        request,
        requestId: job.idempotencyKey,
        reason: job.reason,
        customer,
        order,
        openOrders,
        detail: { ...(job.target.invoiceId ? { invoiceId: job.target.invoiceId } : {}), ...(job.target.disputeId ? { disputeId: job.target.disputeId } : {}) },
      });
      const { ticketId } = await sinks.helpdesk.createTicket(ticket);
      // The ticket id goes back on the document the ticket is about.
      const at = deps.now?.() ?? new Date();
      const source = order ? db.collection(COL.orders).doc(order.orderId) : customer ? db.collection(COL.customers).doc(customer.uid) : null;
      const entry = { ticketId, helpdesk: sinks.helpdesk.name, subject: ticket.subject, at };
      if (source) writes.push((tx) => tx.set(source, { tickets: { [job.idempotencyKey]: entry } }, { merge: true }));
      if (supportRef) writes.push((tx) => tx.set(supportRef, { status: "ticket_created", ticketId, helpdesk: sinks.helpdesk.name, updatedAt: at }, { merge: true }));
      const notify: JobSpec = {
        kind: "notify.slack",
        target: {
          ticketRequestId: job.idempotencyKey,
          ...(customer ? { uid: customer.uid } : {}),
          ...(job.target.supportRequestId ? { supportRequestId: job.target.supportRequestId } : {}),
        },
        idempotencyKey: `ticket:${job.idempotencyKey}`,
        reason: "ticket",
        text: ticketNoticeText(
          {
            priority: ticket.priority,
            ticketId,
            helpdesk: sinks.helpdesk.name,
            subject: request ? null : ticket.subject,
            category: request?.category ?? null,
            customer,
          },
          deps.notices ?? DEFAULT_NOTICE_SETTINGS,
        ),
      };
      return done({ ticketId }, [notify]);
    }
    case "notify.slack": {
      if (!sinks.notify) return done({ skipped: true });
      await sinks.notify.post({ key: job.idempotencyKey, text: job.text ?? job.idempotencyKey });
      const supportId = job.target.supportRequestId;
      if (supportId) {
        const at = deps.now?.() ?? new Date();
        writes.push((tx) => tx.set(db.collection(COL.supportRequests).doc(supportId), { status: "notified", notifiedAt: at, updatedAt: at }, { merge: true }));
      }
      return done({ posted: true });
    }
  }
}

export async function runSyncJob(deps: SyncDeps, jobId: string): Promise<RunOutcome> {
  const now = deps.now ?? (() => new Date());
  const claim = await claimJob(deps.db, jobId, { now: now(), leaseMs: deps.leaseMs ?? 60_000, workerId: deps.workerId ?? randomUUID() });
  if (!claim.claimed) {
    if (claim.dueAt) await deps.dispatcher.dispatch(jobId, Math.max(0, claim.dueAt.getTime() - now().getTime()));
    return { outcome: "skipped", jobId, reason: claim.reason };
  }
  const job = claim.job;
  let completion: Completion;
  try {
    completion = await execute(deps, job);
  } catch (error) {
    const decision = decideFailure(error, job.attempts, deps.policy(SINK_OF_JOB[job.kind]), deps.random ?? Math.random);
    await failJob(deps.db, job, decision, now(), deps.notices ?? DEFAULT_NOTICE_SETTINGS);
    if (decision.kind === "retry") {
      await deps.dispatcher.dispatch(jobId, decision.delayMs);
      return { outcome: "retrying", jobId, delayMs: decision.delayMs };
    }
    return { outcome: "dead", jobId };
  }
  await completeJob(deps.db, job, completion, now());
  return { outcome: "succeeded", jobId };
}
