/** Drill `auth-revoked`: HubSpot refuses opsync's token (401); the CRM sink pauses itself with one alert. */
import { CONSOLE_URL, sinkRow, type Scenario } from "./drill";

export const authRevoked: Scenario = {
  name: "auth-revoked",
  summary: "HubSpot refuses the token (401): the CRM sink pauses itself, one alert (alerts/auth_crm), no attempts burnt",
  async run(d) {
    d.requireStandIns();
    await d.control("hubspot", { reset: true, auth: "revoked" });
    const person = await d.subscriber();
    // opsStatus counts alerts but does not name them; the alert document says which sink and what to do.
    const alert = await d.waitFor("the CRM sink's auth alert (alerts/auth_crm)", async () => {
      const snap = await d.conn.db.doc("alerts/auth_crm").get();
      return snap.exists && snap.get("status") === "open" ? snap : null;
    });
    const status = await d.call("admin", "opsStatus", {});
    const crm = sinkRow(status, "crm");
    console.log(`\nalerts/auth_crm is open: ${String(alert.get("fix") ?? alert.get("message") ?? "")}`.slice(0, 300));
    console.log(`Health now: CRM ${String(crm.state)}, ${String(crm.backlog)} waiting (paused jobs spend no attempts); open alerts ${String(status.openAlerts)}`);
    d.look(
      "admin",
      [
        [`${CONSOLE_URL}/#/action`, "the one auth alert for the whole CRM sink, with its fix"],
        [`${CONSOLE_URL}/#/health`, "the CRM sink and its paused backlog; other sinks keep running"],
        [`${CONSOLE_URL}/#/customer?q=${person.uid}`, "the customer whose sync is held"],
      ],
      [
        `curl -s -X POST http://127.0.0.1:4610/__control -d '{"auth":"ok"}'   # the token works again`,
        "then resume the sink: Health → resume, or the admin API's resumeSink {\"sink\":\"crm\",\"confirm\":true}",
      ],
    );
  },
};
