/**
 * The texts opsync posts to Slack (ticket notices, alerts), and what personal data they may carry. Slack is read
 * by more people, and kept longer, than the records themselves, so by default a notice names a customer by uid
 * and links to the record in the Firebase console: nothing else about them. NOTICE_PERSONAL_DATA (config/alerts.ts)
 * widens that to the name, or the name and email. Text a customer typed (a support request's subject) is never
 * posted: it stays in the helpdesk. Pure: no I/O.
 */

export const NOTICE_PERSONAL_DATA = ["none", "name", "email"] as const;
export type NoticePersonalData = (typeof NOTICE_PERSONAL_DATA)[number];

export interface NoticeSettings {
  personalData: NoticePersonalData;
  /**
   * The Firebase console's Firestore data page of this project (`https://console.firebase.google.com/project/<id>/
   * firestore/databases/-default-/data/`), or null when unknown: then a notice names the document path only.
   */
  consoleDataUrl: string | null;
}

export const DEFAULT_NOTICE_SETTINGS: NoticeSettings = { personalData: "none", consoleDataUrl: null };

/** A Slack link to a Firestore document (`customers/u1`), or the bare path when there is no console URL. */
export function documentLink(path: string, settings: NoticeSettings): string {
  if (!settings.consoleDataUrl) return path;
  // The console addresses a document as its path with each "/" written "~2F" (and a leading one).
  const encoded = path
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("~2F");
  return `<${settings.consoleDataUrl}~2F${encoded}|${path}>`;
}

// Slack reads <, > and & as markup; a name must not be able to add a link or a mention.
const slackEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** How a notice names a customer: the uid and a link, plus the name / email the setting allows. */
export function customerReference(
  customer: { uid: string; name?: string | null; email?: string | null },
  settings: NoticeSettings,
): string {
  const link = documentLink(`customers/${customer.uid}`, settings);
  const name = settings.personalData !== "none" && customer.name ? slackEscape(customer.name) : null;
  const email = settings.personalData === "email" && customer.email ? slackEscape(customer.email) : null;
  const who = [name, email ? `(${email})` : null].filter(Boolean).join(" ");
  return who ? `${who}, customer ${customer.uid} ${link}` : `customer ${customer.uid} ${link}`;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Free text opsync did not write (an error message) loses any email address unless emails are allowed. */
export function scrubPersonalData(text: string, settings: NoticeSettings): string {
  return settings.personalData === "email" ? text : text.replace(EMAIL, "<email>");
}

export interface TicketNoticeInput {
  priority: string;
  ticketId: string;
  helpdesk: string;
  /** The subject opsync wrote (failed renewal, dispute); null when the customer wrote it. */
  subject: string | null;
  /** For an in-app support request: its category. */
  category?: string | null;
  customer: { uid: string; name?: string | null; email?: string | null; plan?: string | null } | null;
}

export function ticketNoticeText(input: TicketNoticeInput, settings: NoticeSettings): string {
  const what = input.subject ?? `in-app support request${input.category ? ` (${input.category})` : ""}`;
  const who = input.customer ? ` — ${customerReference(input.customer, settings)}, plan ${input.customer.plan ?? "none"}` : "";
  return `:ticket: New ${input.priority}-priority ticket ${input.ticketId} in ${input.helpdesk}: ${what}${who}`;
}

export interface AlertNoticeInput {
  jobId: string;
  kind: string;
  reason: string;
  attempts: number;
  errorMessage: string;
}

export function alertNoticeText(input: AlertNoticeInput, settings: NoticeSettings): string {
  const message = scrubPersonalData(input.errorMessage, settings);
  return `:rotating_light: opsync gave up on ${input.kind} (${input.reason.replace(/_/g, " ")}) after ${input.attempts} attempt(s): ${message}. See ${documentLink(`alerts/${input.jobId}`, settings)}.`;
}

// ---- Incidents and operations notices ------------------------------------------------------------------------

export interface IncidentNoticeInput {
  incidentId: string;
  title: string;
  owner: string;
  /** Customers named on the incident (uids) and how many are affected in all. */
  customers: string[];
  affectedCount: number;
  nextStep: string;
  fix: string;
  errorMessage: string | null;
}

const SHOWN_CUSTOMERS = 5;

/** One message when an incident opens: what, who is affected (uids and links only), what happens next, who owns it. */
export function incidentOpenedText(input: IncidentNoticeInput, settings: NoticeSettings): string {
  const shown = input.customers.slice(0, SHOWN_CUSTOMERS).map((uid) => customerReference({ uid }, settings));
  const more = input.affectedCount > shown.length ? ` and ${input.affectedCount - shown.length} more` : "";
  const who = shown.length ? ` Affected: ${shown.join(", ")}${more}.` : "";
  const error = input.errorMessage ? ` Error: ${scrubPersonalData(input.errorMessage, settings)}.` : "";
  return `:rotating_light: Incident: ${input.title}.${who}${error} Next: ${input.nextStep} Owner: ${input.owner}. Fix: ${input.fix} See ${documentLink(`alerts/${input.incidentId}`, settings)}.`;
}

export function incidentResolvedText(input: { incidentId: string; title: string; how: string; note: string | null }, settings: NoticeSettings): string {
  const note = input.note ? ` Note: ${scrubPersonalData(slackEscape(input.note), settings)}` : "";
  return `:white_check_mark: Resolved: ${input.title} (${input.how}).${note} ${documentLink(`alerts/${input.incidentId}`, settings)}`;
}

/** The auth pause has its own text: nothing gave up, the sink waits for a credential. */
export function authPausedText(input: { sink: string; reason: string; fix: string }, settings: NoticeSettings): string {
  return `:lock: opsync paused the ${input.sink} sink: the vendor refused its credentials (${scrubPersonalData(input.reason, settings)}). Its jobs wait without spending attempts; other sinks keep running. Owner: admin. Fix: ${input.fix} See ${documentLink(`alerts/auth_${input.sink}`, settings)}.`;
}

export function automationNoticeText(input: { paused: boolean; by: string; reason: string | null }, settings: NoticeSettings): string {
  const why = input.reason ? `: ${scrubPersonalData(slackEscape(input.reason), settings)}` : "";
  return input.paused
    ? `:double_vertical_bar: Automation paused by ${input.by}${why}. No sink is called; jobs wait as paused until it is resumed.`
    : `:arrow_forward: Automation resumed by ${input.by}${why}. Paused jobs are re-queued.`;
}

/** A payment opsync could not tie to a user: held for review (support maps it with resolveReview). */
export function heldForReviewText(input: { reviewId: string; stripeCustomerId: string | null; eventType: string | null }, settings: NoticeSettings): string {
  const who = input.stripeCustomerId ? `Stripe customer ${input.stripeCustomerId}` : "a Stripe customer";
  return `:warning: A paying customer is held for review: ${who} (${input.eventType ?? "payment"}) is not mapped to a user, so nothing was granted. Owner: support (resolveReview). ${documentLink(`reviewQueue/${input.reviewId}`, settings)}`;
}

/** A refund request for finance. The reason is staff text but may quote a customer: scrubbed like an error. */
export function refundFlaggedText(input: { reviewId: string; target: string; by: string }, settings: NoticeSettings): string {
  return `:money_with_wings: Refund flagged for ${input.target} by ${input.by}. Owner: finance (resolveRefundRequest). ${documentLink(`reviewQueue/${input.reviewId}`, settings)}`;
}

/** Stripe events that mean money came in (or a paid plan started): a customer held for them is a paying one. */
const PAYING_EVENT_TYPES = new Set([
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "invoice.paid",
  "invoice.payment_succeeded",
  "payment_intent.succeeded",
  "charge.succeeded",
  "customer.subscription.created",
  "customer.subscription.updated",
]);

/**
 * The Slack notice a new review item deserves, or null: a paying customer held (unmapped) for support, a refund
 * flagged for finance. Other review reasons (id conflicts, illegal transitions) are in the queues, not in Slack.
 */
export function reviewNoticeText(reviewId: string, item: Record<string, unknown>, settings: NoticeSettings): string | null {
  const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);
  if (item.reason === "unmapped_customer" && PAYING_EVENT_TYPES.has(String(item.eventType))) {
    return heldForReviewText({ reviewId, stripeCustomerId: str(item.stripeCustomerId), eventType: str(item.eventType) }, settings);
  }
  if (item.reason === "refund_requested") {
    const target = str(item.orderId) ? `order ${String(item.orderId)}` : (str(item.chargeId) ?? str(item.paymentIntentId) ?? reviewId);
    return refundFlaggedText({ reviewId, target, by: str(item.requestedBy) ?? "staff" }, settings);
  }
  return null;
}
