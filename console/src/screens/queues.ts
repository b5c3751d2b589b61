/** Role queues: the caller's kinds as tabs (counts from listQueue), items oldest first, "More" pages on. */
import { call, type Json } from "../api";
import { h, replace, text, when, type Child } from "../dom";
import { errorBox } from "./confirm";
import type { Session } from "./session";

const LABEL: Record<string, string> = {
  alert: "Alerts",
  unmapped_customer: "Unmapped paying customers",
  failed_payment: "Failed payments",
  support_request: "Support requests",
  refund_request: "Refund requests",
  dispute: "Disputes",
};

const money = (amount: unknown, currency: unknown) =>
  typeof amount === "number" ? `${(amount / 100).toFixed(2)} ${typeof currency === "string" ? currency.toUpperCase() : ""}` : null;
const customerLink = (uid: unknown): Child => (typeof uid === "string" ? h("a", { href: `#/customer?q=${encodeURIComponent(uid)}` }, uid) : "—");

function row(i: Json): Child[] {
  const p = (i.payment ?? {}) as Json;
  switch (i.kind) {
    case "unmapped_customer":
      return [when(i.createdAt), h("a", { href: `#/customer?q=${encodeURIComponent(String(i.stripeCustomerId))}` }, text(i.stripeCustomerId)), text(i.eventType), text(i.detail)];
    case "failed_payment":
      return [
        when(p.failedAt ?? i.updatedAt),
        customerLink(i.uid),
        `${text(i.subscriptionStatus)}${i.graceUntil ? `, grace until ${when(i.graceUntil)}` : ""}${money(p.amountDue, p.currency) ? ` · ${money(p.amountDue, p.currency)}` : ""}`,
        typeof p.hostedInvoiceUrl === "string" ? h("a", { href: p.hostedInvoiceUrl, target: "_blank", rel: "noopener" }, "invoice link") : "no invoice link",
      ];
    case "support_request":
      return [when(i.createdAt), customerLink(i.uid), text(i.subject), `${text(i.status)}${i.ticketId ? ` · ticket ${String(i.ticketId)}` : ""}`];
    case "refund_request":
      return [when(i.createdAt), text(i.orderId ?? i.chargeId ?? i.paymentIntentId), text(i.detail), money(i.amount, "") ?? "whole payment"];
    case "dispute":
      return [when(i.createdAt), customerLink(i.uid ?? i.orderId), `${text(i.status)} · ${text(i.reason)}`, money(i.amount, i.currency) ?? "—"];
    default:
      return [when(i.createdAt), text(i.jobId), text(i.sink), text((i.error as Json | undefined)?.message)];
  }
}

export async function renderQueues(root: HTMLElement, _session: Session, params: URLSearchParams): Promise<void> {
  let first: Json;
  try {
    first = await call("listQueue", { pageSize: 1 });
  } catch (error) {
    replace(root, errorBox(error));
    return;
  }
  const kinds = (first.kinds ?? []) as string[];
  const counts = (first.counts ?? {}) as Json;
  const kind = params.get("kind") && kinds.includes(String(params.get("kind"))) ? String(params.get("kind")) : (kinds.find((k) => Number(counts[k]) > 0) ?? kinds[0]);
  const tabs = h(
    "p",
    { class: "tabs" },
    ...kinds.map((k) =>
      h("button", {
        class: k === kind ? "active" : "",
        "data-kind": k,
        onclick: () => {
          if (k === kind) return;
          // The list on screen is no longer the one asked for; the next render marks itself ready when loaded.
          section.dataset.state = "loading";
          location.hash = `#/queues?kind=${k}`;
        },
      }, `${LABEL[k] ?? k} (${text(counts[k])})`),
    ),
  );
  const body = h("tbody");
  const more = h("p");
  const load = async (token: string | null) => {
    try {
      const page = await call("listQueue", { kind, pageSize: 25, ...(token ? { pageToken: token } : {}) });
      for (const item of (page.items ?? []) as Json[]) body.append(h("tr", { "data-kind": String(item.kind) }, ...row(item).map((c) => h("td", {}, c))));
      const next = page.nextPageToken;
      replace(more, typeof next === "string" ? h("button", { onclick: () => void load(next) }, "More") : null);
    } catch (error) {
      replace(more, errorBox(error));
    }
  };
  const section = h("section", { class: "card", "data-testid": "queue", "data-kind": kind ?? "", "data-state": "loading" });
  section.append(h("h2", {}, `Queue: ${(first.roles as string[] | undefined)?.join(", ") ?? ""}`), tabs, kinds.length ? h("table", {}, body) : h("p", {}, "No queue for your roles."), more);
  replace(root, section);
  if (kind) await load(null);
  section.dataset.state = "ready";
}
