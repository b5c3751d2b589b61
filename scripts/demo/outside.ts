/** What opsync recorded and what the outside systems (HubSpot, Auth claims, Slack) got, checked against the story. */
import type { JobView } from "./queue";
import { docsCausedBy, readCustomer, readOrder, record, reviewItemsFor, stringValues, strings, withTimeout, type Fields } from "./records";
import { HTTP_TIMEOUT_MS, type DemoConfig } from "./stack";
import { mismatches, show, type RunState } from "./steps";
// ---------------------------------------------------------------------------------------------------------------
// What opsync recorded

export function countByKind(jobs: JobView[]): string[] {
  const counts = new Map<string, number>();
  for (const j of jobs) counts.set(j.kind, (counts.get(j.kind) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${v} × ${k}`);
}

export async function summarize(run: RunState, jobs: JobView[]): Promise<void> {
  const { db, cast } = run;
  const ids = [...run.eventIds];
  const [c, o, audits, reviews] = await Promise.all([
    readCustomer(db, cast.uid),
    readOrder(db, cast.orderId),
    docsCausedBy(db, "auditLog", ids),
    reviewItemsFor(db, ids),
  ]);

  console.log(`\nWhat opsync recorded (this run's ${ids.length} events):`);
  console.log(`  customers/${cast.uid}`);
  console.log(`    plan ${show(c.plan)}, subscriptionStatus ${show(c.subscriptionStatus)}, entitlements [${c.entitlements.join(", ")}], support ${show(c.supportTier)}`);
  console.log(`    delinquent ${String(c.delinquent)}, lastPaymentAt ${c.lastPaymentAt?.toISOString() ?? "–"}`);
  console.log(`    sync ${Object.entries(c.sync).map(([sink, s]) => `${sink}: ${s}`).join(", ") || "–"}`);
  console.log(`  orders/${cast.orderId}`);
  console.log(`    status ${show(o.status)}, amount ${o.amount ?? "–"}, amountRefunded ${o.amountRefunded ?? "–"}`);
  console.log(`    history ${o.history.join(", ") || "–"}${o.rejected ? `, ${o.rejected} rejected transitions` : ""}`);
  console.log(`  syncJobs    ${jobs.length}: ${countByKind(jobs).join(", ")}`);
  console.log(`  auditLog    ${audits.length} entries`);
  console.log(`  reviewQueue ${reviews} items`);

  const expectFinal = (problems: string[]) => run.failures.push(...problems.map((p) => `final state: ${p}`));
  expectFinal(
    mismatches("customer", c, { subscriptionStatus: "canceled", entitlements: [], delinquent: false, plan: "pro", stripeCustomerId: cast.cus }),
  );
  if (!c.lastPaymentAt) expectFinal(["customer.lastPaymentAt is empty after two paid invoices"]);
  const unsynced = ["crm", "claims", "helpdesk"].filter((sink) => c.sync[sink] !== "synced");
  if (unsynced.length) expectFinal([`customer.sync is not "synced" for ${unsynced.join(", ")}: ${JSON.stringify(c.sync)}`]);
  expectFinal(mismatches("order", o, { status: "refunded", amountRefunded: 5000, history: ["new→paid", "paid→refunded"], rejected: 0 }));
  const tickets = jobs.filter((j) => j.kind === "helpdesk.ticket.create").length;
  if (tickets !== 1) expectFinal([`${tickets} helpdesk ticket jobs, expected 1 (the failed renewal)`]);
  if (!jobs.some((j) => j.kind === "auth.claims.update")) expectFinal(["no auth.claims.update job although entitlements changed"]);
  if (audits.length === 0) expectFinal(["no audit entries"]);
  if (reviews !== 0) expectFinal([`${reviews} events went to the review queue`]);
}


// ---------------------------------------------------------------------------------------------------------------
// What the outside systems got

/** One HubSpot object by id, or null if HubSpot does not have it. */
export async function hubspotObject(
  hubspot: NonNullable<DemoConfig["hubspot"]>,
  type: "contacts" | "deals" | "tickets",
  id: string,
  properties: string[],
): Promise<Record<string, string> | null> {
  const url = `${hubspot.url}/crm/v3/objects/${type}/${encodeURIComponent(id)}?properties=${properties.join(",")}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${hubspot.token}` }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(`local HubSpot did not answer GET /crm/v3/objects/${type}/${id} (${error instanceof Error ? error.message : String(error)})`);
  }
  const text = await res.text();
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`local HubSpot answered ${res.status} to GET /crm/v3/objects/${type}/${id}: ${text.slice(0, 200)}`);
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`local HubSpot sent a non-JSON ${type} object: ${text.slice(0, 200)}`);
  }
  return stringValues(record(body).properties);
}

export const row = (what: string, detail: string): void => console.log(`  ${what.padEnd(24)} ${detail}`);
export const prop = (p: Record<string, string> | null, name: string): string => (p?.[name] ? p[name] : "–");

/** Reads one HubSpot object, prints it, and returns what is wrong with it (missing, or unlike `expected`). */
export async function showHubspot(
  hubspot: NonNullable<DemoConfig["hubspot"]>,
  what: string,
  type: "contacts" | "deals" | "tickets",
  id: string | null,
  properties: string[],
  describe: (p: Record<string, string>) => string,
  expected: Record<string, string | null>,
): Promise<string[]> {
  if (!id) {
    row(what, "✗ opsync recorded no id for it");
    return [`${what}: opsync recorded no HubSpot id`];
  }
  let p: Record<string, string> | null;
  try {
    p = await hubspotObject(hubspot, type, id, properties);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    row(what, `✗ ${why}`);
    return [`${what}: ${why}`];
  }
  if (!p) {
    row(`${what} ${id}`, "✗ not found in HubSpot");
    return [`${what} ${id} is not in HubSpot`];
  }
  const wrong = Object.entries(expected)
    .filter(([name, want]) => (p[name] ?? "") !== (want ?? ""))
    .map(([name, want]) => `${name} is "${p[name] ?? ""}", expected "${want ?? ""}"`);
  row(`${what} ${id}`, `${wrong.length ? "✗" : "✓"} ${describe(p)}`);
  for (const w of wrong) console.log(`  ${"".padEnd(24)}   ${w}`);
  return wrong.map((w) => `${what} ${id}: ${w}`);
}

export function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export async function outsideSystems(run: RunState, jobs: JobView[]): Promise<void> {
  const { cfg, db, auth, cast } = run;
  const [c, o] = await Promise.all([readCustomer(db, cast.uid), readOrder(db, cast.orderId)]);
  const problems: string[] = [];
  const subscriptionDealId = c.crmDealIds[cast.sub] ?? null;
  const tickets = Object.entries(c.tickets);
  const ticketId = tickets.length === 1 ? (tickets[0]?.[1] ?? null) : null;
  if (tickets.length !== 1) problems.push(`customers/${cast.uid}.tickets has ${tickets.length} tickets, expected 1 (the failed renewal)`);

  console.log("\nWhat the outside systems got:");
  if (cfg.hubspot) {
    const h = cfg.hubspot;
    // The refund stage has a generated id (the local stack's setup stored it in ops/hubspot, as hubspot:setup does).
    const stored: unknown = (await db.doc("ops/hubspot").get()).get("stages.refunded");
    const refundedStage = typeof stored === "string" ? stored : "<ops/hubspot has no refund stage id>";
    problems.push(
      ...(await showHubspot(
        h,
        "HubSpot contact",
        "contacts",
        c.crmContactId,
        ["email", "opsync_uid", "opsync_plan", "opsync_subscription_status", "lifecyclestage"],
        (p) => `${prop(p, "email")} · plan ${prop(p, "opsync_plan")} · ${prop(p, "opsync_subscription_status")} · ${prop(p, "lifecyclestage")}`,
        { email: cast.email, opsync_uid: cast.uid, opsync_plan: c.plan, opsync_subscription_status: c.subscriptionStatus },
      )),
      ...(await showHubspot(
        h,
        "HubSpot deal",
        "deals",
        subscriptionDealId,
        ["dealname", "dealstage", "amount", "opsync_deal_key"],
        (p) => `${prop(p, "dealname")} · ${prop(p, "dealstage")} · amount ${prop(p, "amount")}`,
        // A canceled subscription is a lost deal.
        { opsync_deal_key: `subscription:${cast.sub}`, dealstage: "closedlost" },
      )),
      ...(await showHubspot(
        h,
        "HubSpot deal",
        "deals",
        o.crmDealId,
        ["dealname", "dealstage", "amount", "opsync_deal_key"],
        (p) => `${prop(p, "dealname")} · ${prop(p, "dealstage")} · amount ${prop(p, "amount")}`,
        // Refunded in full: the deal moves to opsync's refunded stage and is worth nothing.
        { opsync_deal_key: `order:${cast.orderId}`, dealstage: refundedStage, amount: "0" },
      )),
    );
    if (cfg.helpdesk === "hubspot") {
      problems.push(
        ...(await showHubspot(
          h,
          "HubSpot ticket",
          "tickets",
          ticketId,
          ["subject", "hs_ticket_priority"],
          (p) => `${prop(p, "subject")} · priority ${prop(p, "hs_ticket_priority")}`,
          {},
        )),
      );
    } else {
      row(`${cfg.helpdesk} ticket`, ticketId ? `${ticketId} (not read back: only the local HubSpot is)` : "✗ opsync recorded no ticket id");
      if (!ticketId) problems.push(`no ${cfg.helpdesk} ticket id recorded`);
    }
  } else {
    row("HubSpot", "real vendors are configured (functions/.env.local): the demo does not read them back");
    const missing = [
      c.crmContactId ? "" : `customers/${cast.uid}.crmContactId`,
      subscriptionDealId ? "" : `customers/${cast.uid}.crmDealIds.${cast.sub}`,
      o.crmDealId ? "" : `orders/${cast.orderId}.crmDealId`,
    ].filter(Boolean);
    row("CRM ids opsync stored", missing.length ? `✗ missing ${missing.join(", ")}` : `contact ${c.crmContactId}, deals ${subscriptionDealId}, ${o.crmDealId}`);
    problems.push(...missing.map((m) => `${m} is empty`));
  }

  // Custom claims: opsync's three must equal the customer record; any other claim is left alone.
  try {
    const user = await withTimeout(auth.getUser(cast.uid), `reading Auth user ${cast.uid}`);
    const claims: Fields = user.customClaims ?? {};
    const entitlements = strings(claims.entitlements);
    const matches =
      Array.isArray(claims.entitlements) &&
      sameSet(entitlements, c.entitlements) &&
      claims.plan === c.plan &&
      claims.supportTier === c.supportTier;
    row(
      "Auth custom claims",
      `${matches ? "✓" : "✗"} entitlements [${entitlements.join(", ")}] · plan ${String(claims.plan ?? "–")} · supportTier ${String(claims.supportTier ?? "–")}`,
    );
    if (!matches) {
      problems.push(
        `Auth claims ${JSON.stringify(claims)} do not match the customer (entitlements [${c.entitlements.join(", ")}], plan ${show(c.plan)}, supportTier ${show(c.supportTier)})`,
      );
    }
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    row("Auth custom claims", `✗ ${why}`);
    problems.push(`reading Auth user ${cast.uid}: ${why}`);
  }

  const notices = jobs.filter((j) => j.kind === "notify.slack");
  const posted = notices.filter((j) => j.status === "succeeded" && j.result.skipped !== true);
  const skipped = notices.filter((j) => j.status === "succeeded" && j.result.skipped === true).length;
  const what = (["ticket", "alert"] as const)
    .map((about) => [about, posted.filter((j) => j.about === about).length] as const)
    .filter(([, n]) => n > 0)
    .map(([about, n]) => `${n} ${about === "ticket" ? "new-ticket notice" : "dead-job alert"}${n > 1 ? "s" : ""}`);
  row(
    "Slack",
    `${posted.length} of ${notices.length} notification job(s) posted${what.length ? ` (${what.join(", ")})` : ""}` +
      (skipped ? `, ${skipped} skipped (no Slack webhook configured)` : ""),
  );
  // The failed renewal's ticket announces itself in Slack (with no webhook configured the job succeeds as skipped).
  if (!notices.some((j) => j.about === "ticket" && j.status === "succeeded")) {
    problems.push("the new ticket's Slack notification did not succeed");
  }

  run.failures.push(...problems.map((p) => `outside systems: ${p}`));
}

// ---------------------------------------------------------------------------------------------------------------
