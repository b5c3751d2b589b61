/**
 * The ops console in real Chromium against the emulators: each role signs in and sees its queue and nothing more,
 * finance amounts never reach the support user's browser, pause/resume goes through a dry run, a dead job is
 * retried after its preview, the customer card names paid / past due in grace / canceled / unmapped, and HubSpot
 * going down shows ONE incident listing the affected customers, which resolves itself once HubSpot is back.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ScenarioCustomer } from "../support/consoleScenarios";
import { testDb } from "../support/firestore";
import { until } from "../support/wait";
import { customer, stripeEvent, uniq } from "../support/stripeFixtures";
import { CONSOLE, SHOTS, hubspotControl, launch, seedScenario, sendEvent, shot, signIn, staffUser } from "./harness";

let browser: Browser;
const users = {} as Record<"support" | "finance" | "admin", { uid: string; email: string }>;
const customers = {} as Record<"paid" | "pastDueGrace" | "canceled" | "unmapped", ScenarioCustomer>;
const db = testDb();
const DEAD_JOB = "evt_browser.crm.contact.upsert.u-browser";

beforeAll(async () => {
  browser = await launch();
  // The first request through Hosting starts the adminApi worker; do it before anything is timed.
  await fetch(`${CONSOLE}/api/admin/v1/opsStatus`, { method: "POST", body: "{}", signal: AbortSignal.timeout(60_000) });
  for (const role of ["support", "finance", "admin"] as const) users[role] = await staffUser(role);
  for (const kind of ["paid", "pastDueGrace", "canceled", "unmapped"] as const) customers[kind] = await seedScenario(kind);
  const now = new Date();
  await db.doc("reviewQueue/refund_ch_browser").set({ reviewId: "refund_ch_browser", reason: "refund_requested", detail: "charged twice", status: "open", orderId: null, chargeId: "ch_browser", paymentIntentId: null, requestedBy: users.support.uid, amount: 4900, createdAt: now, updatedAt: now });
  await db.doc(`syncJobs/${DEAD_JOB}`).set({ jobId: DEAD_JOB, kind: "crm.contact.upsert", status: "dead", target: { uid: "u-browser" }, attempts: 5, deadReason: "permanent", lastError: { message: "Contact already exists", httpStatus: 409 }, createdAt: now, updatedAt: now });
  await db.doc(`alerts/${DEAD_JOB}`).set({ alertId: DEAD_JOB, type: "sync_job_dead", status: "open", jobId: DEAD_JOB, kind: "crm.contact.upsert", sink: "crm", target: { uid: "u-browser" }, reason: "permanent", error: { message: "Contact already exists", httpStatus: 409 }, attempts: 5, createdAt: now });
});

afterAll(async () => {
  await hubspotControl({ reset: true }).catch(() => undefined);
  await browser?.close();
});

/** Opens a queue tab and waits until that list is loaded (not the one it replaces). */
const openTab = async (page: import("playwright-core").Page, kind: string) => {
  await page.click(`.tabs button[data-kind=${kind}]`);
  await page.waitForSelector(`[data-testid=queue][data-kind=${kind}][data-state=ready]`);
};

const tabKinds = async (page: import("playwright-core").Page) => page.$$eval(".tabs button", (els) => els.map((e) => e.getAttribute("data-kind")));

describe("ops console", () => {
  it("support: first screen is Health; the queue holds alerts, unmapped customers, failed payments (with invoice link), support requests — and no amounts reach the browser", async () => {
    const { page, apiBodies } = await signIn(browser, users.support);
    // First screen: a reload of a signed-in session until the Health numbers are on screen (3 loads, median kept
    // with the others in test-results/browser/first-screen.json; a loose bound here, the number is the report).
    const loads: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      await page.reload();
      await page.waitForSelector("[data-testid=numbers]");
      loads.push(Date.now() - started);
    }
    const firstScreenMs = [...loads].sort((a, b) => a - b)[1] ?? 0;
    writeFileSync(resolve(SHOTS, "first-screen.json"), JSON.stringify({ firstScreenMs, loads }, null, 2));
    expect(firstScreenMs).toBeLessThan(10_000);
    await shot(page, "support-health");
    await page.click("a[data-screen=queues]");
    await page.waitForSelector("[data-testid=queue][data-state=ready]");
    expect(await tabKinds(page)).toEqual(["alert", "unmapped_customer", "failed_payment", "support_request"]);
    await openTab(page, "failed_payment");
    expect(await page.textContent("[data-testid=queue]")).toContain("invoice link");
    await shot(page, "support-queue-failed-payments");
    await openTab(page, "unmapped_customer");
    expect(await page.$$("tr[data-kind=unmapped_customer]")).not.toHaveLength(0);
    await page.click("a[data-screen=customer]");
    await page.fill("input[name=q]", customers.pastDueGrace.email);
    await page.click("form button[type=submit]");
    await page.waitForSelector("[data-testid=payment]");
    expect(await page.textContent("[data-testid=payment]")).toContain("Hosted invoice");
    expect(await page.textContent("[data-testid=payment]")).not.toContain("Amount due");
    await shot(page, "support-customer-card");
    expect(apiBodies.length).toBeGreaterThan(3);
    for (const body of apiBodies) expect(body).not.toMatch(/"amount|"currency"|:4900\b/i);
    await page.context().close();
  });

  it("finance: the queue holds failed payments, refunds and disputes, with amounts; no alerts or support requests", async () => {
    const { page } = await signIn(browser, users.finance);
    await page.click("a[data-screen=queues]");
    await page.waitForSelector("[data-testid=queue][data-state=ready]");
    expect(await tabKinds(page)).toEqual(["failed_payment", "refund_request", "dispute"]);
    await openTab(page, "failed_payment");
    expect(await page.textContent("[data-testid=queue]")).toContain("49.00 USD");
    await openTab(page, "refund_request");
    expect(await page.textContent("[data-testid=queue]")).toContain("charged twice");
    await shot(page, "finance-queue");
    expect(await page.$("[data-testid=toggle-automation]")).toBeNull();
    await page.context().close();
  });

  it("admin: every queue kind; pause and resume from Health, each after its dry run", async () => {
    const { page } = await signIn(browser, users.admin);
    await shot(page, "admin-health");
    await page.fill("[data-testid=automation] input[name=reason]", "browser test");
    await page.click("[data-testid=toggle-automation]");
    await page.waitForSelector("[data-testid=dry-run]");
    expect(await page.textContent("[data-testid=dry-run]")).toContain("Jobs affected");
    expect((await db.doc("ops/automation").get()).get("paused")).not.toBe(true);
    await shot(page, "admin-pause-dry-run");
    await page.click("[data-testid=confirm]");
    await page.waitForSelector("text=Paused by");
    expect((await db.doc("ops/automation").get()).data()).toMatchObject({ paused: true, reason: "browser test", by: users.admin.uid });
    await shot(page, "admin-paused");
    await page.click("[data-testid=toggle-automation]");
    await page.waitForSelector("[data-testid=dry-run]");
    await page.click("[data-testid=confirm]");
    await page.waitForSelector("text=Running: sinks are called");
    expect((await db.doc("ops/automation").get()).get("paused")).toBe(false);
    await page.click("a[data-screen=queues]");
    await page.waitForSelector("[data-testid=queue][data-state=ready]");
    expect(await tabKinds(page)).toEqual(["alert", "unmapped_customer", "failed_payment", "support_request", "refund_request", "dispute"]);
    await page.context().close();
  });

  it("Needs action: a dead job's retry shows its preview first, then retries it", async () => {
    const { page } = await signIn(browser, users.support);
    await page.click("a[data-screen=action]");
    const retry = `[data-testid=retry][data-job="${DEAD_JOB}"]`;
    await page.waitForSelector(retry);
    await page.click(retry);
    await page.waitForSelector("[data-testid=dry-run]");
    expect(await page.textContent("[data-testid=dry-run]")).toContain("Contact already exists");
    expect((await db.doc(`syncJobs/${DEAD_JOB}`).get()).get("status")).toBe("dead");
    await shot(page, "support-retry-preview");
    await page.click("[data-testid=confirm]");
    await page.waitForSelector("[data-testid=applied]");
    const job = await until(async () => (await db.doc(`syncJobs/${DEAD_JOB}`).get()).get("status") as string, (s) => s !== "dead");
    expect(job).not.toBe("dead");
    await page.context().close();
  });

  it("the customer card's verdict: paid, past due in grace, canceled, unmapped", async () => {
    const { page } = await signIn(browser, users.support);
    const expected = { paid: /^Paid — pro/, pastDueGrace: /^Past due — in grace until \d{4}-\d\d-\d\d/, canceled: /^Canceled — pro/, unmapped: /^Unmapped — Stripe customer cus_/ };
    for (const kind of ["paid", "pastDueGrace", "canceled", "unmapped"] as const) {
      const c = customers[kind];
      const query = kind === "unmapped" ? c.stripeCustomerId : kind === "canceled" ? (c.uid ?? "") : c.email;
      await page.goto(`${CONSOLE}/#/customer?q=${encodeURIComponent(query)}`);
      await page.waitForSelector(`[data-testid=verdict][data-kind=${kind === "pastDueGrace" ? "past_due_grace" : kind}]`);
      expect(await page.textContent("[data-testid=verdict]")).toMatch(expected[kind]);
      await shot(page, `card-${kind}`);
    }
    await page.context().close();
  });
  it("HubSpot down: Needs action shows ONE incident with the affected customers; it resolves itself after recovery", { timeout: 240_000 }, async () => {
    const INCIDENT = "incident.crm.http_5xx";
    await hubspotControl({ mode: "down" });
    const uids = Array.from({ length: 3 }, () => uniq("down"));
    for (const uid of uids) await sendEvent(stripeEvent("customer.created", customer({ id: uniq("cus"), uid })));
    // Each contact job joins the incident on its third failed attempt (INCIDENT_JOIN_AFTER_ATTEMPTS).
    const joined = await until(
      async () => ((await db.doc(`alerts/${INCIDENT}`).get()).get("affected.customers") as string[] | undefined) ?? [],
      (list) => uids.every((u) => list.includes(u)),
      90_000,
    );
    expect(joined).toEqual(expect.arrayContaining(uids));

    const { page } = await signIn(browser, users.support);
    await page.click("a[data-screen=action]");
    const card = `[data-testid=incident][data-id="${INCIDENT}"]`;
    await page.waitForSelector(card);
    // One card for the cause, not one per job or customer.
    expect(await page.$$(card)).toHaveLength(1);
    expect(await page.$$eval("[data-testid=incident]", (els) => els.filter((e) => (e.textContent ?? "").includes("HubSpot CRM is failing")).length)).toBe(1);
    const affected = (await page.textContent(`${card} [data-testid=affected]`)) ?? "";
    for (const uid of uids) expect(affected).toContain(uid);
    expect(await page.textContent(`${card} [data-testid=owner]`)).toBe("admin");
    expect(await page.textContent(`${card} [data-testid=next-step]`)).toMatch(/Next:/);
    expect(await page.textContent(`${card} [data-testid=fix]`)).toMatch(/Fix:/);
    await shot(page, "support-needs-action-hubspot-down");

    // HubSpot is back; a new signup's successful call is the news of recovery (the dead jobs are retried with it).
    await hubspotControl({ reset: true });
    await sendEvent(stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("back") })));
    const status = await until(async () => (await db.doc(`alerts/${INCIDENT}`).get()).get("status") as string, (st) => st === "resolved", 150_000, 1000);
    expect(status).toBe("resolved");
    expect((await db.doc(`alerts/${INCIDENT}`).get()).get("resolvedBy")).toBe("auto");
    await page.reload();
    await page.waitForSelector("[data-testid=incidents]");
    expect(await page.$(card)).toBeNull();
    await shot(page, "support-needs-action-recovered");
    await page.context().close();
  });
});
