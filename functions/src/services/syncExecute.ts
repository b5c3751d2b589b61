/**
 * What each job kind does when it runs: read the canonical records as they are now (sync by state, not by delta),
 * call the sink port, and say what to record. Recording (and the lease) is the runner's business (syncRunner.ts).
 */
import type { Firestore, Transaction } from "firebase-admin/firestore";
import { OpsyncError, PermanentError } from "../domain/errors.js";
import { DEFAULT_NOTICE_SETTINGS, ticketNoticeText } from "../domain/notices.js";
import type { BillingDoc, CustomerDoc, JobSpec, OrderDoc } from "../domain/model.js";
import { isOrderParty } from "../domain/supportRequests.js";
import { contactState, orderDeal, subscriptionDeal, ticketFor } from "../domain/syncPlan.js";
import { fromFirestore } from "../store/db.js";
import type { Completion } from "../store/jobFinish.js";
import type { JobDoc } from "../store/jobs.js";
import { COL, billingPath } from "../store/paths.js";
import { revalidateObject } from "./revalidate.js";
import type { SyncDeps } from "./syncTypes.js";

/** Asks the store to mark a notification as being sent (record-before-send). */
export type SendGate = () => Promise<"send" | "already_started" | "lease_lost">;

/** This worker's lease ended or was taken over before it could send: it must not send, nor record. */
export class LeaseLostError extends OpsyncError {
  constructor(readonly jobId: string) {
    super(`lease on ${jobId} lost`);
  }
}

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

export async function execute(deps: SyncDeps, job: JobDoc, gate: SendGate): Promise<Completion> {
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
      // The contact job keeps the contact's state; a deal needs only its id (the contact is made here if still new).
      const contactId = customer.crmContactId ?? (await ensureContact(deps, customer, writes));
      const billing = await read<BillingDoc>(db, billingPath(customer.uid));
      const deal = subscriptionDeal({ ...customer, crmContactId: contactId }, billing, subscriptionId);
      const { dealId } = await sinks.crm.upsertDeal({ ...deal, knownDealId: customer.crmDealIds?.[subscriptionId] ?? null });
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
      // Record before send: a run that finds an earlier run's mark does not post again (at most once).
      const go = await gate();
      if (go === "lease_lost") throw new LeaseLostError(job.jobId);
      if (go === "already_started") return done({ posted: "unconfirmed" });
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

