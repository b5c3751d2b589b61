/** Drill `hubspot-down`: HubSpot answers 503 to everything while three customers pay; their CRM jobs wait and retry. */
import { CONSOLE_URL, sinkRow, type Scenario } from "./drill";

export const hubspotDown: Scenario = {
  name: "hubspot-down",
  summary: "HubSpot is down (503) while three customers pay: the CRM backlog grows, jobs retry, then give up and alert",
  async run(d) {
    d.requireStandIns();
    await d.control("hubspot", { reset: true, mode: "down" });
    const people = [await d.subscriber(), await d.subscriber(), await d.subscriber()];
    const status = await d.waitFor("opsStatus to show the three customers' CRM jobs waiting or dead", async () => {
      const s = await d.call("admin", "opsStatus", {});
      const crm = sinkRow(s, "crm");
      return Number(crm.backlog ?? 0) + Number(crm.dead ?? 0) >= people.length ? s : null;
    });
    const crm = sinkRow(status, "crm");
    console.log(`\nHealth now: CRM ${String(crm.state)}, ${String(crm.backlog)} waiting, ${String(crm.dead)} dead; open alerts ${String(status.openAlerts)}`);
    console.log(`  affected: ${people.map((p) => p.uid).join(", ")}`);
    d.look(
      "admin",
      [
        [`${CONSOLE_URL}/#/health`, "CRM backlog and dead counts, the oldest waiting job, job failures over 15 minutes"],
        [`${CONSOLE_URL}/#/action`, "once a job gives up (SYNC_MAX_ATTEMPTS; about a minute locally): its alert, with a retry"],
        [`${CONSOLE_URL}/#/customer?q=${people[0]?.uid ?? ""}`, "one affected customer: CRM not synced on the card"],
      ],
      [
        `curl -s -X POST http://127.0.0.1:4610/__control -d '{"mode":"up"}'   # HubSpot back: waiting jobs sync on their next retry`,
        "then retry the dead ones from Needs action (or the admin API's retryJob)",
      ],
    );
  },
};
