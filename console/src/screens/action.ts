/**
 * Needs action: open incidents, one per cause (not one per job) — what is wrong, the customers affected, what opsync
 * will do next and when, the owner and the fix. Acknowledge with a note; resolve with a note (dry run, then confirm);
 * retry a dead job after its preview.
 */
import { call, type Json } from "../api";
import { h, replace, text, when, type Child } from "../dom";
import { dryRunThenConfirm, errorBox } from "./confirm";
import type { Session } from "./session";

const customerLink = (uid: string) => h("a", { href: `#/customer?q=${encodeURIComponent(uid)}` }, uid);

function affectedLine(i: Json): Child {
  const affected = (i.affected ?? {}) as { customers?: string[]; orders?: string[] };
  const customers = affected.customers ?? [];
  const orders = affected.orders ?? [];
  const count = typeof i.affectedCount === "number" ? i.affectedCount : customers.length + orders.length;
  if (!count && !customers.length && !orders.length) return h("p", { class: "muted" }, "No customer affected directly.");
  const links: Child[] = [];
  customers.forEach((uid, n) => links.push(n ? ", " : "", customerLink(uid)));
  if (orders.length) links.push(customers.length ? "; orders " : "orders ", orders.join(", "));
  const more = count > customers.length + orders.length ? ` and ${count - customers.length - orders.length} more` : "";
  return h("p", { "data-testid": "affected", "data-count": String(count) }, h("strong", {}, `${count} affected: `), ...links, more);
}

function nextStepLine(i: Json): Child {
  const next = (i.nextStep ?? null) as Json | null;
  if (!next) return null;
  return h("p", { "data-testid": "next-step" }, h("strong", {}, "Next: "), text(next.text), next.at ? ` (at ${when(next.at)})` : "");
}

export async function renderAction(root: HTMLElement, session: Session): Promise<void> {
  if (!session.roles.some((r) => r === "admin" || r === "support")) {
    replace(root, h("section", { class: "card" }, h("h2", {}, "Needs action"), h("p", { class: "muted" }, "Incidents are handled by support and admins. Your queue: "), h("a", { href: "#/queues" }, "Queues")));
    return;
  }
  let page: Json;
  try {
    page = await call("listQueue", { kind: "alert", pageSize: 50 });
  } catch (error) {
    replace(root, errorBox(error));
    return;
  }
  const reload = () => void renderAction(root, session);
  const items = (page.items ?? []) as Json[];
  const counts = (page.counts ?? {}) as Json;
  replace(
    root,
    h(
      "section",
      { class: "card", "data-testid": "incidents", "data-count": String(items.length) },
      h("h2", {}, `Open incidents (${text(counts.alert ?? items.length)})`),
      items.length ? null : h("p", { class: "ok", "data-testid": "all-clear" }, "Nothing needs action."),
    ),
    ...items.map((i) => incidentCard(i, reload)),
  );
}

function incidentCard(i: Json, reload: () => void): HTMLElement {
  const slot = h("div");
  const id = String(i.id);
  const err = (i.error ?? {}) as Json;
  const ack = (i.acknowledged ?? null) as Json | null;
  const note = h("input", { name: "note", placeholder: "note (what you did / found)", maxlength: "1000", size: "40" }) as HTMLInputElement;
  const acknowledge = () =>
    void call("ackIncident", { incidentId: id, ...(note.value.trim() ? { note: note.value.trim() } : {}) })
      .then(reload)
      .catch((error: unknown) => replace(slot, errorBox(error)));
  const resolve = () => {
    if (!note.value.trim()) {
      replace(slot, h("div", { class: "error" }, "Write a note first: what was done, for the next person."));
      return;
    }
    const input = { incidentId: id, note: note.value.trim() };
    void dryRunThenConfirm(
      slot,
      {
        title: `Resolve ${text(i.title)}`,
        preview: async () => h("p", {}, String((await call("resolveIncident", input)).effect ?? "")),
        confirmLabel: "Resolve now",
        apply: () => call("resolveIncident", { ...input, confirm: true }),
        done: () => "Resolved.",
      },
      reload,
    );
  };
  const retry = (jobId: string) =>
    void dryRunThenConfirm(slot, {
      title: `Retry job ${jobId}`,
      // retryJob has no server dry run: this is what it does, from the incident, before anything is sent.
      preview: async () => h("p", {}, `The dead job ${jobId} goes back to pending with its attempts reset; the ${text(i.sink)} sink is called again. Last error: ${text(err.message)}.`),
      confirmLabel: "Retry now",
      apply: () => call("retryJob", { jobId }),
      done: (r) => `Retried: ${text(r.jobId)} is ${text((r.after as Json | undefined)?.status)}.`,
    });
  const dead = (i.deadJobIds ?? []) as string[];
  const isAuth = i.type === "sink_auth_failed";
  return h(
    "section",
    { class: "card incident", "data-testid": "incident", "data-id": id, "data-type": text(i.type) },
    h("h2", {}, text(i.title)),
    h(
      "p",
      { class: "muted" },
      `since ${when(i.createdAt)} · owner `,
      h("strong", { "data-testid": "owner" }, text(i.owner)),
      i.sink ? ` · sink ${text(i.sink)}` : "",
      typeof i.jobCount === "number" && i.jobCount ? ` · ${i.jobCount} job(s)` : "",
      ack ? ` · acknowledged by ${text(ack.by)} ${when(ack.at)}${ack.note ? `: ${text(ack.note)}` : ""}` : "",
    ),
    affectedLine(i),
    err.message ? h("p", {}, h("strong", {}, "Error: "), `${err.httpStatus ? `HTTP ${String(err.httpStatus)}: ` : ""}${text(err.message)}`) : null,
    nextStepLine(i),
    i.fix ? h("p", { "data-testid": "fix" }, h("strong", {}, "Fix: "), text(i.fix)) : null,
    dead.length
      ? h("p", {}, "Dead jobs: ", ...dead.slice(0, 10).map((jobId) => h("button", { "data-testid": "retry", "data-job": jobId, onclick: () => retry(jobId) }, `Retry ${jobId.length > 40 ? `${jobId.slice(0, 40)}…` : jobId}…`)))
      : null,
    h(
      "p",
      {},
      note,
      " ",
      h("button", { "data-testid": "ack", onclick: acknowledge }, "Acknowledge"),
      " ",
      isAuth ? h("span", { class: "muted" }, "Resolves when the sink resumes (Health → resumeSink).") : h("button", { class: "danger", "data-testid": "resolve", onclick: resolve }, "Resolve…"),
    ),
    slot,
  );
}
