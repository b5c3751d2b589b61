/** Customer card: find by email, uid, Stripe customer id or HubSpot contact id; one verdict line, sync, tickets, timeline. */
import { call, type Json } from "../api";
import { h, replace, table, text, when } from "../dom";
import { errorBox } from "./confirm";
import type { Session } from "./session";

const VERDICT_CLASS: Record<string, string> = { paid: "ok", trialing: "ok", past_due_grace: "warn", past_due: "bad", canceled: "muted", unmapped: "bad" };
const SYNC_CLASS: Record<string, string> = { synced: "ok", pending: "warn", failed: "bad" };

function card(c: Json): HTMLElement {
  const id = (c.identity ?? {}) as Json;
  const verdict = (c.verdict ?? {}) as Json;
  const payment = c.payment as Json | null;
  const sync = (c.sync ?? []) as Json[];
  const tickets = (c.tickets ?? []) as Json[];
  const requests = (c.supportRequests ?? []) as Json[];
  const timeline = (c.timeline ?? []) as Json[];
  return h(
    "div",
    { "data-testid": "customer-card" },
    h(
      "section",
      { class: "card" },
      h("div", { class: `verdict ${VERDICT_CLASS[String(verdict.kind)] ?? ""}`, "data-testid": "verdict", "data-kind": String(verdict.kind) }, text(verdict.line)),
      table(["uid", "email", "name", "Stripe", "HubSpot"], [[text(c.uid), text(id.email), text(id.name), text(id.stripeCustomerId), text(id.crmContactId)]]),
    ),
    payment
      ? h(
          "section",
          { class: "card", "data-testid": "payment" },
          h("h2", {}, "Payment problem"),
          h("p", {}, `Invoice ${text(payment.invoiceId)}: ${text(payment.code)}, failed ${when(payment.failedAt)}, attempts ${text(payment.attemptCount)}, next try ${when(payment.nextPaymentAttempt)}`),
          typeof payment.amountDue === "number" ? h("p", {}, `Amount due: ${(payment.amountDue / 100).toFixed(2)} ${String(payment.currency ?? "").toUpperCase()}`) : null,
          typeof payment.hostedInvoiceUrl === "string" ? h("p", {}, h("a", { href: payment.hostedInvoiceUrl, target: "_blank", rel: "noopener" }, "Hosted invoice (send to the customer)")) : null,
        )
      : null,
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Sync"),
      sync.length ? table(["sink", "status", "at"], sync.map((s) => [String(s.sink), h("span", { class: SYNC_CLASS[String(s.status)] ?? "muted" }, String(s.status)), when(s.at)])) : h("p", { class: "muted" }, "Nothing synced: no user to sync."),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Tickets and requests"),
      tickets.length || requests.length
        ? table(
            ["at", "what", "status"],
            [
              ...tickets.map((t) => [when(t.at), `${text(t.subject)} (${text(t.helpdesk)} #${text(t.ticketId)})`, "opened by opsync"]),
              ...requests.map((r) => [when(r.createdAt), text(r.subject), `${text(r.status)}${r.ticketId ? ` · ticket ${String(r.ticketId)}` : ""}`]),
            ],
          )
        : h("p", { class: "muted" }, "No open tickets."),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Timeline (newest first)"),
      table(["at", "source", "what", "by / detail"], timeline.map((t) => [when(t.at), String(t.source), text(t.what), `${text(t.by)}${t.detail ? ` — ${String(t.detail)}` : ""}`])),
    ),
  );
}

export async function renderCustomer(root: HTMLElement, _session: Session, params: URLSearchParams): Promise<void> {
  const q = params.get("q") ?? "";
  const input = h("input", { name: "q", value: q, size: "40", placeholder: "email, uid, cus_… or HubSpot contact id" }) as HTMLInputElement;
  const out = h("div");
  const form = h(
    "form",
    { class: "card", onsubmit: (e: Event) => { e.preventDefault(); location.hash = `#/customer?q=${encodeURIComponent(input.value.trim())}`; } },
    input,
    " ",
    h("button", { class: "primary", type: "submit" }, "Find"),
  );
  replace(root, form, out);
  if (!q) return;
  try {
    const res = await call("findCustomer", { query: q });
    const matches = (res.matches ?? []) as Json[];
    if (res.card) replace(out, card(res.card as Json));
    else if (matches.length > 1)
      replace(out, h("section", { class: "card" }, h("h2", {}, `${matches.length} customers match (never merged): pick one`), table(["uid", "email", "name", "matched by"], matches.map((m) => [h("a", { href: `#/customer?q=${encodeURIComponent(String(m.uid))}` }, String(m.uid)), text(m.email), text(m.name), text(m.matchedBy)]))));
    else replace(out, h("p", { class: "muted", "data-testid": "no-match" }, `No customer matches “${q}”.`));
  } catch (error) {
    replace(out, errorBox(error));
  }
}
