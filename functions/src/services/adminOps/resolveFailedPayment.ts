/**
 * Admin operation `resolveFailedPayment`: shows a customer's failed invoice (amounts for finance and admin; the hosted
 * invoice link for everyone, support sends it on), then — confirmed — retries their dead sync jobs, plans a CRM
 * contact resync and notes the failed-renewal ticket (with the caller's note) in the staff-only notes. Audited.
 */
import { failedRenewalTicketKey, isDryRun, jsonSafe, shapeFailedPayment } from "../../domain/adminOps.js";
import { liveJobId } from "../../domain/coalesce.js";
import { jobId as jobIdFor } from "../../domain/jobIds.js";
import type { JobSpec } from "../../domain/model.js";
import { readFailedPaymentDocs, recordPaymentFollowUp } from "../../store/failedPayments.js";
import { retryDeadJob } from "../../store/jobQueue.js";
import { COL } from "../../store/paths.js";
import { actorOf, auditEntry } from "./audit.js";
import { conflict, notFound } from "./errors.js";
import type { AdminResult, Handler } from "./types.js";
import { newAuditRef } from "../../store/audit.js";


export const resolveFailedPaymentOp: Handler<"resolveFailedPayment"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const { customer, billing, deadJobs } = await readFailedPaymentDocs(db, input.uid);
  if (!customer) throw notFound(`no customer record ${COL.customers}/${input.uid}`);
  const failure = shapeFailedPayment(billing, caller.roles);
  if (!failure) throw conflict(`customer ${input.uid} has no failed payment on record (billing.lastPaymentFailure is empty)`);
  const invoiceId = typeof failure.invoiceId === "string" ? failure.invoiceId : null;
  // The page the customer pays on: every role that follows up a failed payment gets it (support sends it on).
  const invoice = failure.invoice && typeof failure.invoice === "object" ? (failure.invoice as Record<string, unknown>) : null;
  const hostedInvoiceUrl = typeof invoice?.hostedInvoiceUrl === "string" ? invoice.hostedInvoiceUrl : null;
  const ticketKey = invoiceId ? failedRenewalTicketKey(invoiceId) : null;
  const ticketOf = (tickets: unknown): Record<string, unknown> | null => {
    if (!ticketKey || !tickets || typeof tickets !== "object") return null;
    const t = (tickets as Record<string, unknown>)[ticketKey];
    return t && typeof t === "object" ? (t as Record<string, unknown>) : null;
  };
  const ticket = ticketOf(customer.tickets);
  const ticketInfo = ticket && ticketKey
    ? { requestId: ticketKey, ticketId: ticket.ticketId ?? null, helpdesk: ticket.helpdesk ?? null, subject: ticket.subject ?? null }
    : null;
  const spec: JobSpec = {
    kind: "crm.contact.upsert",
    target: { uid: input.uid },
    idempotencyKey: `contact:${input.uid}`,
    reason: `failed payment follow-up${invoiceId ? ` (${invoiceId})` : ""}`,
  };

  if (isDryRun("resolveFailedPayment", input)) {
    return {
      outcome: "dry_run",
      result: {
        operation: "resolveFailedPayment",
        dryRun: true,
        uid: input.uid,
        failure,
        deadJobs,
        wouldRetry: deadJobs.map((j) => j.jobId),
        wouldPlan: [{ kind: spec.kind, target: spec.target }],
        hostedInvoiceUrl,
        ticket: ticketInfo,
        wouldNoteTicket: ticketInfo !== null,
        note: input.note ?? null,
      },
    };
  }

  const retried: string[] = [];
  for (const job of deadJobs) {
    // Each is its own transaction (with its syncJob.retry audit entry); one retried meanwhile is skipped.
    if (await retryDeadJob(db, job.jobId, actorOf(caller), now)) retried.push(job.jobId);
  }
  const auditRef = newAuditRef(db);
  // The customer's one live contact job (a retried dead one included): no second contact job beside it.
  const plannedJobId = liveJobId(spec) ?? jobIdFor(`admin_${auditRef.id}`, spec);
  const note = `Payment follow-up by ${caller.uid} (admin API): ${retried.length} dead sync job(s) retried; CRM contact resync planned.${input.note ? ` Note: ${input.note}` : ""}`;
  const noted = await recordPaymentFollowUp(
    db,
    { uid: input.uid, spec, plannedJobId, ticketKey, note, by: caller.uid, now, auditRef },
    {
      hasTicket: (tickets) => ticketOf(tickets) !== null,
      audit: (ticketNoted) =>
        auditEntry(caller, "resolveFailedPayment", {
          outcome: "applied",
          target: `${COL.customers}/${input.uid}`,
          before: { invoiceId, deadJobs: deadJobs.map((j) => j.jobId) },
          after: { retried, plannedJobId, ticketNoted: ticketNoted ? ticketKey : null, note: input.note ?? null },
          at: now,
        }),
    },
  );
  return {
    outcome: "applied",
    result: jsonSafe({
      operation: "resolveFailedPayment",
      dryRun: false,
      uid: input.uid,
      failure,
      hostedInvoiceUrl,
      retried,
      planned: [{ jobId: plannedJobId, kind: spec.kind }],
      ticket: ticketInfo,
      ticketNoted: noted,
      note: noted ? note : null,
    }) as AdminResult,
  };
};
