/**
 * Browser-test harness: Chromium via playwright-core, staff users in the Auth emulator (custom claims set with the
 * Admin SDK), customers made by signed Stripe deliveries to the webhook, and screenshots under test-results/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { chromium, type Browser, type Page, type Response } from "playwright-core";
import { readLocalWebhookSecret } from "../../scripts/lib/localSecret";
import { scenario, type CardScenario, type ScenarioCustomer } from "../support/consoleScenarios";
import { testDb } from "../support/firestore";
import { signedDelivery, uniq } from "../support/stripeFixtures";
import { until } from "../support/wait";

export const CONSOLE = "http://127.0.0.1:5002";
const WEBHOOK = "http://127.0.0.1:5001/demo-opsync/us-central1/stripeWebhook";
export const SHOTS = resolve(__dirname, "..", "..", "test-results", "browser");
const PASSWORD = "correct-horse-battery";

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(path)) throw new Error(`no Chromium at ${path}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return path;
}

export async function launch(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

export type StaffRole = "support" | "finance" | "admin";

export async function staffUser(role: StaffRole): Promise<{ uid: string; email: string }> {
  if (!getApps().length) initializeApp({ projectId: "demo-opsync" });
  const uid = uniq(role);
  const email = `${uid}@staff.example.com`.toLowerCase();
  await getAuth().createUser({ uid, email, password: PASSWORD });
  await getAuth().setCustomUserClaims(uid, { [role]: true });
  return { uid, email };
}

/** Signs and delivers one Stripe event to the webhook on the emulators (200 expected). */
export async function sendEvent(event: object): Promise<void> {
  const secret = readLocalWebhookSecret();
  if (!secret) throw new Error("functions/.secret.local has no STRIPE_WEBHOOK_SECRET");
  const { body, signature } = signedDelivery(event, secret);
  const res = await fetch(WEBHOOK, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body, signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
}

/** Switches the HubSpot stand-in (`POST :4610/__control`, docs/local-vendors.md). */
export async function hubspotControl(body: object): Promise<void> {
  const res = await fetch("http://127.0.0.1:4610/__control", { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`HubSpot stand-in control answered ${res.status}`);
}

/** Delivers a scenario's events over signed HTTP, each applied by the ledger trigger before the next is sent. */
export async function seedScenario(kind: CardScenario): Promise<ScenarioCustomer> {
  const secret = readLocalWebhookSecret();
  if (!secret) throw new Error("functions/.secret.local has no STRIPE_WEBHOOK_SECRET");
  const db = testDb();
  const s = scenario(kind);
  for (const event of s.events) {
    const { body, signature } = signedDelivery(event, secret);
    const res = await fetch(WEBHOOK, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body, signal: AbortSignal.timeout(30_000) });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
    const id = (event as { id: string }).id;
    await until(async () => (await db.doc(`stripeEvents/${id}`).get()).get("status") as string | undefined, (st) => st !== undefined && st !== "received");
  }
  return s;
}

export interface SignedIn {
  page: Page;
  /** Bodies of every admin API response the page received. */
  apiBodies: string[];
}

export async function signIn(browser: Browser, user: { email: string }): Promise<SignedIn> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const apiBodies: string[] = [];
  page.on("response", (res: Response) => {
    if (res.url().includes("/api/admin/")) void res.text().then((t) => apiBodies.push(t), () => undefined);
  });
  await page.goto(CONSOLE);
  await page.fill("input[name=email]", user.email);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForSelector("[data-testid=automation-state]");
  return { page, apiBodies };
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`), fullPage: true });
}
