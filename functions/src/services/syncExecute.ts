/**
 * What each job kind does when it runs: read the canonical records as they are now (sync by state, not by delta),
 * call the sink port, and say what to record. Recording (and the lease) is the runner's business (syncRunner.ts).
 */
import type { Firestore } from "firebase-admin/firestore";
import { OpsyncError, PermanentError } from "../domain/errors.js";
import { DEFAULT_NOTICE_SETTINGS, ticketNoticeText } from "../domain/notices.js";
import type { CustomerDoc, JobSpec } from "../domain/model.js";
import { isOrderParty } from "../domain/supportRequests.js";
import { contactState, orderDeal, subscriptionDeal, ticketFor } from "../domain/syncPlan.js";
import type { Completion } from "../store/jobFinish.js";
import type { JobDoc } from "../store/jobs.js";
import { buyerOrderIds, mergeCustomer, mergeOrder, mergeSupportRequest, readBilling, readCustomer, readOrder, readTicketRequest, type TxWrite } from "../store/syncRecords.js";
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

async function requireCustomer(db: Firestore, uid: string | undefined): Promise<CustomerDoc> {
  if (!uid) throw new PermanentError("job has no target uid");
  const c = await readCustomer(db, uid);
  if (!c) throw new PermanentError(`customers/${uid} does not exist`);
  return c;
}

/** Makes sure the CRM has the contact (so deals can be associated); returns its id. */
async function ensureContact(deps: SyncDeps, c: CustomerDoc, writes: TxWrite[]): Promise<string> {
  const billing = await readBilling(deps.db, c.uid);
  const { contactId } = await deps.sinks.crm.upsertContact(contactState(c, billing));
  if (contactId !== c.crmContactId) {
    writes.push(mergeCustomer(deps.db, c.uid, { crmContactId: contactId }));
  }
  return contactId;
}

export async function execute(deps: SyncDeps, job: JobDoc, gate: SendGate): Promise<Completion> {
  const { db, sinks } = deps;
  const writes: TxWrite[] = [];
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
        const order = await readOrder(db, job.target.orderId);
        if (!order) throw new PermanentError(`orders/${job.target.orderId} does not exist`);
        const buyer = order.buyerUid ? await readCustomer(db, order.buyerUid) : null;
        const contactId = buyer ? await ensureContact(deps, buyer, writes) : null;
        const { dealId } = await sinks.crm.upsertDeal(orderDeal(order, contactId));
        writes.push(mergeOrder(db, order.orderId, { crmDealId: dealId }));
        return done({ dealId });
      }
      const subscriptionId = job.target.subscriptionId;
      if (!subscriptionId) throw new PermanentError("deal job names neither an order nor a subscription");
      const customer = await requireCustomer(db, job.target.uid);
      // The contact job keeps the contact's state; a deal needs only its id (the contact is made here if still new).
      const contactId = customer.crmContactId ?? (await ensureContact(deps, customer, writes));
      const billing = await readBilling(db, customer.uid);
      const deal = subscriptionDeal({ ...customer, crmContactId: contactId }, billing, subscriptionId);
      const { dealId } = await sinks.crm.upsertDeal({ ...deal, knownDealId: customer.crmDealIds?.[subscriptionId] ?? null });
      writes.push(mergeCustomer(db, customer.uid, { crmDealIds: { [subscriptionId]: dealId } }));
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
      const customer = job.target.uid ? await readCustomer(db, job.target.uid) : null;
      const order = job.target.orderId ? await readOrder(db, job.target.orderId) : null;
      const openOrders = job.target.uid ? await buyerOrderIds(db, job.target.uid, OPEN_ORDER_STATUSES) : [];
      const supportId = job.target.supportRequestId ?? null;
      const request = supportId ? await readTicketRequest(db, supportId) : null;
      // Defence in depth: handleSupportRequest already refused foreign orders, but a ticket about a support
      // request must never land on (or show) an order the requester is not a party to.
      if (supportId && order && !isOrderParty(order, request?.uid ?? job.target.uid ?? "")) {
        throw new PermanentError(`support request ${supportId} names orders/${order.orderId}, which is not the requester's`);
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
      const tickets = { tickets: { [job.idempotencyKey]: { ticketId, helpdesk: sinks.helpdesk.name, subject: ticket.subject, at } } };
      if (order) writes.push(mergeOrder(db, order.orderId, tickets));
      else if (customer) writes.push(mergeCustomer(db, customer.uid, tickets));
      if (supportId) writes.push(mergeSupportRequest(db, supportId, { status: "ticket_created", ticketId, helpdesk: sinks.helpdesk.name, updatedAt: at }));
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
        writes.push(mergeSupportRequest(db, supportId, { status: "notified", notifiedAt: at, updatedAt: at }));
      }
      return done({ posted: true });
    }
  }
}

