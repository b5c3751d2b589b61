/** Needs action: open alerts (dead sync jobs), each with a retry that shows what it will do before it does it. */
import { call, type Json } from "../api";
import { h, replace, table, text, when } from "../dom";
import { dryRunThenConfirm, errorBox } from "./confirm";
import type { Session } from "./session";

export async function renderAction(root: HTMLElement, session: Session): Promise<void> {
  if (!session.roles.some((r) => r === "admin" || r === "support")) {
    replace(root, h("section", { class: "card" }, h("h2", {}, "Needs action"), h("p", { class: "muted" }, "Alerts are handled by support and admins. Your queue: "), h("a", { href: "#/queues" }, "Queues")));
    return;
  }
  let page: Json;
  try {
    page = await call("listQueue", { kind: "alert", pageSize: 50 });
  } catch (error) {
    replace(root, errorBox(error));
    return;
  }
  const items = (page.items ?? []) as Json[];
  const slot = h("div");
  const retry = (item: Json) =>
    void dryRunThenConfirm(
      slot,
      {
        title: `Retry job ${text(item.jobId)}`,
        // retryJob has no server dry run: this is what it does, from the alert, before anything is sent.
        preview: async () =>
          h("p", {}, `The dead ${text(item.jobKind)} job goes back to pending with its attempts reset (it had ${text(item.attempts)}); the ${text(item.sink)} sink is called again. Last error: ${text((item.error as Json | undefined)?.message)}.`),
        confirmLabel: "Retry now",
        apply: () => call("retryJob", { jobId: String(item.jobId) }),
        done: (r) => `Retried: ${text(r.jobId)} is ${text((r.after as Json | undefined)?.status)}.`,
      },
    );
  const counts = (page.counts ?? {}) as Json;
  replace(
    root,
    h(
      "section",
      { class: "card" },
      h("h2", {}, `Open alerts (${text(counts.alert ?? items.length)})`),
      items.length
        ? table(
            ["since", "sink / job", "customer", "error", ""],
            items.map((i) => {
              const target = (i.target ?? {}) as Json;
              const err = (i.error ?? {}) as Json;
              return [
                when(i.createdAt),
                `${text(i.sink)} · ${text(i.jobKind)}`,
                typeof target.uid === "string" ? h("a", { href: `#/customer?q=${encodeURIComponent(target.uid)}` }, target.uid) : text(target.orderId),
                `${err.httpStatus ? `HTTP ${String(err.httpStatus)}: ` : ""}${text(err.message)}`,
                h("button", { "data-testid": "retry", "data-job": String(i.jobId), onclick: () => retry(i) }, "Retry…"),
              ];
            }),
          )
        : h("p", { class: "ok" }, "Nothing needs action."),
      slot,
    ),
  );
}
