/**
 * The customer card of `findCustomer`: one verdict line a founder can read without interpreting fields, the
 * per-sink sync status, open tickets, and a timeline merged from the audit log and the Stripe ledger, newest
 * first. Finance-only fields (amounts, the billing document) are added only for finance and admin. Pure: no I/O.
 */
import { hasAnyRole, type StaffRole } from "./roles.js";

type Doc = Record<string, unknown>;

/** Roles that see amounts and billing detail on the card (as the rules: private/billing is finance's and admin's). */
export const CARD_AMOUNT_ROLES: readonly StaffRole[] = ["admin", "finance"];

export const VERDICTS = ["paid", "trialing", "past_due_grace", "past_due", "canceled", "unmapped", "no_subscription", "other"] as const;
export type VerdictKind = (typeof VERDICTS)[number];

export interface Verdict {
  kind: VerdictKind;
  line: string;
}

const day = (d: Date): string => d.toISOString().slice(0, 10);
const asDate = (v: unknown): Date | null => (v instanceof Date ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);

/** The one line: paid / trial / past due in grace until … / past due / canceled / no subscription. */
export function customerVerdict(c: Doc, now: Date): Verdict {
  const status = str(c.subscriptionStatus);
  const plan = str(c.plan) ?? "no plan name";
  const periodEnd = asDate(c.currentPeriodEnd);
  const graceUntil = asDate(c.entitlementsGraceUntil);
  switch (status) {
    case "active": {
      const cancels = c.cancelAtPeriodEnd === true;
      const when = periodEnd ? `${cancels ? "cancels" : "renews"} ${day(periodEnd)}` : cancels ? "cancels at period end" : "no period end known";
      return { kind: "paid", line: `Paid — ${plan}, ${when}` };
    }
    case "trialing": {
      const end = asDate(c.trialEnd);
      return { kind: "trialing", line: `Trial — ${plan}${end ? `, until ${day(end)}` : ""}` };
    }
    case "past_due":
    case "unpaid":
      if (graceUntil && graceUntil.getTime() > now.getTime()) {
        return { kind: "past_due_grace", line: `Past due — in grace until ${graceUntil.toISOString().slice(0, 16).replace("T", " ")} UTC (access kept), ${plan}` };
      }
      return { kind: "past_due", line: `Past due — grace over, access removed, ${plan}` };
    case "canceled":
    case "incomplete_expired": {
      const ended = periodEnd ? `, ended ${day(periodEnd)}` : "";
      return { kind: "canceled", line: `Canceled — ${plan}${ended}` };
    }
    case null:
      return c.delinquent === true
        ? { kind: "past_due", line: "Payment failed — no subscription" }
        : { kind: "no_subscription", line: c.lastPaymentAt ? `No subscription — last payment ${day(asDate(c.lastPaymentAt) ?? now)}` : "No subscription" };
    default:
      return { kind: "other", line: `Subscription ${status} — ${plan}` };
  }
}

export function unmappedVerdict(stripeCustomerId: string, heldEvents: number): Verdict {
  return {
    kind: "unmapped",
    line: `Unmapped — Stripe customer ${stripeCustomerId} is tied to no user; ${heldEvents} event(s) held for review`,
  };
}

export interface TimelineEntry {
  at: string | null;
  source: "audit" | "stripe";
  what: string;
  by: string | null;
  detail: string | null;
}

const PRIMITIVE = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v) || v instanceof Date;
const show = (v: unknown) => (v instanceof Date ? v.toISOString() : JSON.stringify(v));

/** `field: before → after` for the primitive fields of a customers/{uid} audit entry (at most 6). */
function changes(before: unknown, after: unknown): string | null {
  const b = before && typeof before === "object" ? (before as Doc) : {};
  const a = after && typeof after === "object" ? (after as Doc) : {};
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => PRIMITIVE(a[k] ?? null) && PRIMITIVE(b[k] ?? null));
  if (!keys.length) return null;
  return keys
    .slice(0, 6)
    .map((k) => `${k}: ${show(b[k] ?? null)} → ${show(a[k] ?? null)}`)
    .join("; ");
}

function actorName(actor: unknown): string | null {
  if (!actor || typeof actor !== "object") return null;
  const a = actor as Doc;
  return str(a.type) && str(a.id) ? `${String(a.type)}:${String(a.id)}` : null;
}

/** Audit entries (target customers/{uid}) and ledger entries merged, newest first, at most `limit`. */
export function customerTimeline(audit: Doc[], ledger: Doc[], limit: number): TimelineEntry[] {
  const entries: Array<TimelineEntry & { ms: number }> = [
    ...audit.map((e) => {
      const at = asDate(e.at);
      const outcome = str(e.outcome);
      return {
        ms: at?.getTime() ?? 0,
        at: at?.toISOString() ?? null,
        source: "audit" as const,
        what: `${str(e.action) ?? "change"}${outcome && outcome !== "applied" ? ` (${outcome})` : ""}`,
        by: actorName(e.actor),
        detail: changes(e.before, e.after),
      };
    }),
    ...ledger.map((e) => {
      const at = asDate(e.created);
      const reason = str(e.reason);
      return {
        ms: at?.getTime() ?? 0,
        at: at?.toISOString() ?? null,
        source: "stripe" as const,
        what: `${str(e.type) ?? "event"} — ${str(e.status) ?? "?"}`,
        by: str(e.eventId),
        detail: reason,
      };
    }),
  ];
  return entries
    .sort((x, y) => y.ms - x.ms)
    .slice(0, limit)
    .map(({ ms: _ms, ...rest }) => rest);
}

export interface CardInput {
  uid: string;
  customer: Doc;
  /** customers/{uid}/private/billing, or null (absent). */
  billing: Doc | null;
  openJobs: Doc[];
  supportRequests: Doc[];
  audit: Doc[];
  ledger: Doc[];
  now: Date;
}

const SINKS = ["crm", "claims", "helpdesk"] as const;

/** The failed payment with its hosted invoice link for everyone, its amounts only for finance and admin. */
export function paymentIssue(billing: Doc | null, seesAmounts: boolean): Doc | null {
  const failure = billing?.lastPaymentFailure && typeof billing.lastPaymentFailure === "object" ? (billing.lastPaymentFailure as Doc) : null;
  const action = billing?.actionRequired && typeof billing.actionRequired === "object" ? (billing.actionRequired as Doc) : null;
  if (!failure && !action) return null;
  const invoiceId = str(failure?.invoiceId) ?? str(action?.invoiceId);
  const invoices = billing?.invoices && typeof billing.invoices === "object" ? (billing.invoices as Record<string, Doc>) : {};
  const invoice = invoiceId ? invoices[invoiceId] : undefined;
  return {
    invoiceId,
    code: failure?.code ?? null,
    failedAt: asDate(failure?.at)?.toISOString() ?? null,
    actionRequired: action !== null,
    hostedInvoiceUrl: str(invoice?.hostedInvoiceUrl) ?? str(action?.hostedInvoiceUrl),
    attemptCount: invoice?.attemptCount ?? null,
    nextPaymentAttempt: asDate(invoice?.nextPaymentAttempt)?.toISOString() ?? null,
    ...(seesAmounts ? { amountDue: invoice?.amountDue ?? null, currency: invoice?.currency ?? null } : {}),
  };
}

export function shapeCustomerCard(input: CardInput, roles: readonly StaffRole[]): Doc {
  const c = input.customer;
  const seesAmounts = hasAnyRole(roles, CARD_AMOUNT_ROLES);
  const sync = c.sync && typeof c.sync === "object" ? (c.sync as Record<string, Doc>) : {};
  const tickets = c.tickets && typeof c.tickets === "object" ? (c.tickets as Record<string, Doc>) : {};
  const card: Doc = {
    uid: input.uid,
    identity: { email: c.email ?? null, name: c.name ?? null, stripeCustomerId: c.stripeCustomerId ?? null, crmContactId: c.crmContactId ?? null },
    verdict: customerVerdict(c, input.now),
    plan: c.plan ?? null,
    subscriptionStatus: c.subscriptionStatus ?? null,
    entitlements: Array.isArray(c.entitlements) ? c.entitlements : [],
    sync: SINKS.map((sink) => ({
      sink,
      status: str(sync[sink]?.status) ?? "none",
      jobId: sync[sink]?.jobId ?? null,
      at: asDate(sync[sink]?.at)?.toISOString() ?? null,
    })),
    openJobs: input.openJobs.map((j) => ({ jobId: j.jobId ?? null, kind: j.kind ?? null, status: j.status ?? null, attempts: j.attempts ?? null })),
    tickets: Object.entries(tickets).map(([requestId, t]) => ({
      requestId,
      ticketId: t.ticketId ?? null,
      helpdesk: t.helpdesk ?? null,
      subject: t.subject ?? null,
      at: asDate(t.at)?.toISOString() ?? null,
    })),
    supportRequests: input.supportRequests.map((r) => ({
      requestId: r.id ?? null,
      subject: r.subject ?? null,
      status: r.status ?? null,
      ticketId: r.ticketId ?? null,
      createdAt: asDate(r.createdAt)?.toISOString() ?? null,
    })),
    payment: paymentIssue(input.billing, seesAmounts),
    timeline: customerTimeline(input.audit, input.ledger, 30),
  };
  return card;
}
