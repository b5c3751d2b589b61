/** Health: the kill switch (who/why, pause/resume for admins), sinks, backlog, oldest job, alerts, 15-minute failures. */
import { call, type Json } from "../api";
import { h, replace, table, text, when } from "../dom";
import { dryRunThenConfirm, errorBox } from "./confirm";
import { isAdmin, type Session } from "./session";

const STATE_CLASS: Record<string, string> = { ok: "ok", blocked: "warn", paused: "bad" };

function age(seconds: unknown): string {
  if (typeof seconds !== "number") return "—";
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function automationCard(status: Json, session: Session, reload: () => void): HTMLElement {
  const a = (status.automation ?? {}) as Json;
  const paused = a.paused === true;
  const slot = h("div");
  const reason = h("input", { name: "reason", placeholder: "reason (e.g. HubSpot outage)", maxlength: "500" }) as HTMLInputElement;
  const toggle = () =>
    void dryRunThenConfirm(
      slot,
      {
        title: paused ? "Resume automation" : "Pause automation",
        preview: async () => {
          const input = { paused: !paused, ...(reason.value ? { reason: reason.value } : {}) };
          const dry = await call("setAutomation", input);
          return h("p", {}, String(dry.effect ?? ""), h("br"), `Jobs affected: ${text(dry.jobsAffected)}`);
        },
        confirmLabel: paused ? "Resume now" : "Pause now",
        apply: () => call("setAutomation", { paused: !paused, ...(reason.value ? { reason: reason.value } : {}), confirm: true }),
        done: (r) => `Done: automation is ${(r.after as Json | undefined)?.paused ? "paused" : "running"}${typeof r.requeued === "number" ? `; ${r.requeued} job(s) re-queued` : ""}.`,
      },
      reload,
    );
  return h(
    "section",
    { class: "card", "data-testid": "automation" },
    h("h2", {}, "Automation"),
    h(
      "p",
      { class: paused ? "bad" : "ok", "data-testid": "automation-state" },
      paused ? `Paused by ${text(a.by)} at ${when(a.at)}: ${text(a.reason)}` : "Running: sinks are called as jobs come in.",
    ),
    isAdmin(session) ? h("p", {}, paused ? null : reason, " ", h("button", { class: paused ? "primary" : "danger", "data-testid": "toggle-automation", onclick: toggle }, paused ? "Resume…" : "Pause…")) : null,
    slot,
  );
}

export async function renderHealth(root: HTMLElement, session: Session): Promise<void> {
  let status: Json;
  try {
    status = await call("opsStatus");
  } catch (error) {
    replace(root, errorBox(error));
    return;
  }
  const sinks = (status.sinks ?? []) as Json[];
  const backlog = (status.backlog ?? {}) as Json;
  const oldest = status.oldestPending as Json | null;
  const window = (status.last15Minutes ?? {}) as { deliveries?: Json; jobs?: Json };
  const rec = status.lastReconcile as Json | null;
  const pct = (v: unknown) => (typeof v === "number" ? `${v} %` : "—");
  replace(
    root,
    automationCard(status, session, () => void renderHealth(root, session)),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Sinks"),
      table(
        ["sink", "state", "until / why", "backlog", "dead"],
        sinks.map((s) => [
          String(s.sink),
          h("span", { class: STATE_CLASS[String(s.state)] ?? "", "data-testid": `sink-${String(s.sink)}` }, String(s.state)),
          s.state === "ok" ? "—" : `${s.blockedUntil ? `until ${when(s.blockedUntil)} ` : ""}${text(s.reason)}`,
          text(s.backlog),
          text(s.dead),
        ]),
      ),
    ),
    h(
      "section",
      { class: "card", "data-testid": "numbers" },
      h("h2", {}, "Queue and failures"),
      table(
        ["", ""],
        [
          ["Backlog (waiting jobs)", text(backlog.total)],
          ["Dead jobs", text(backlog.dead)],
          ["Oldest waiting job", oldest ? `${age(oldest.ageSeconds)} (${text(oldest.kind)}, ${text(oldest.status)})` : "none"],
          ["Open alerts", h("a", { href: "#/action" }, text(status.openAlerts))],
          ["Stripe deliveries, last 15 min", `${text(window.deliveries?.total)} received, ${text(window.deliveries?.failed)} failed (${pct(window.deliveries?.failureRatePercent)})`],
          ["Sync jobs, last 15 min", `${text(window.jobs?.succeeded)} succeeded, ${text(window.jobs?.dead)} dead (${pct(window.jobs?.failureRatePercent)})`],
          ["Last reconcile", rec ? `${when(rec.finishedAt ?? rec.startedAt)}: ${text(rec.checked)} checked, drift ${text(rec.drift)}` : "never run"],
        ],
      ),
      h("p", { class: "muted" }, `As of ${when(status.at)}.`),
    ),
  );
}
