/**
 * Console first screen (issue 11: "first screen < 2 s on the local stack"): real Chromium (Debian's, through
 * playwright-core with `executablePath`, as test/browser does) against the console on the Hosting emulator. A bench
 * admin is made in the Auth emulator and signs in once; then each load is timed from navigation until the Health
 * numbers (`[data-testid=numbers]`, filled from `opsStatus`) are on screen. The opsStatus call of each load is timed
 * apart (the browser's own request timing), so a slow screen says whether the API or the page is the cause.
 * Optional: without Chromium the section prints why and is skipped. Env: BENCH_CONSOLE_LOADS (default 7; 0 skips),
 * CHROMIUM_PATH (default /usr/bin/chromium).
 */
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { App } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import { chromium, type Request } from "playwright-core";
import { f0, latency, table, type Latency, type Out } from "./stats";

/** The Hosting emulator (firebase.json `emulators.hosting`), which serves console/dist and rewrites /api/admin/**. */
const CONSOLE = "http://127.0.0.1:5002";
const TARGET_MS = 2_000;
const WAIT_MS = 60_000;

export type ConsolePaint = { skipped: string } | { loads: number; jobs: number; firstScreen: Latency; opsStatusApi: Latency };

export async function consolePaintSection(app: App, db: Firestore, loads: number, out: Out): Promise<ConsolePaint> {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) return skip(`no Chromium at ${executablePath} (apt-get install -y chromium, or set CHROMIUM_PATH)`, out);
  const email = `bench-admin-${Date.now()}@staff.example.com`;
  const password = "bench-console-password";
  const user = await getAuth(app).createUser({ email, password });
  await getAuth(app).setCustomUserClaims(user.uid, { admin: true });
  // The first request through Hosting starts the adminApi worker: a cold start is not the first screen's cost.
  await fetch(`${CONSOLE}/api/admin/v1/opsStatus`, { method: "POST", body: "{}", signal: AbortSignal.timeout(WAIT_MS) }).catch(() => undefined);
  const jobs = (await db.collection("syncJobs").count().get()).data().count;
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
    const api: number[] = [];
    page.on("requestfinished", (req: Request) => {
      if (!req.url().includes("/api/admin/v1/opsStatus")) return;
      const t = req.timing();
      if (t.responseEnd > 0) api.push(t.responseEnd - Math.max(0, t.requestStart));
    });
    await page.goto(CONSOLE, { timeout: WAIT_MS });
    await page.fill("input[name=email]", email);
    await page.fill("input[name=password]", password);
    await page.click("button[type=submit]");
    await page.waitForSelector("[data-testid=numbers]", { timeout: WAIT_MS });
    api.length = 0;
    const times: number[] = [];
    for (let i = 0; i < loads; i++) {
      const t0 = performance.now();
      await page.goto(`${CONSOLE}/?load=${i}`, { timeout: WAIT_MS });
      await page.waitForSelector("[data-testid=numbers]", { timeout: WAIT_MS });
      times.push(performance.now() - t0);
    }
    const result = { loads, jobs, firstScreen: latency(times), opsStatusApi: latency(api) };
    out(`[bench] console first screen: p50 ${f0(result.firstScreen.p50)} ms, p95 ${f0(result.firstScreen.p95)} ms over ${loads} loads (${jobs} sync jobs)`);
    return result;
  } finally {
    await browser.close();
    await getAuth(app).deleteUser(user.uid).catch(() => undefined);
  }
}

function skip(reason: string, out: Out): ConsolePaint {
  out(`[bench] console first screen skipped: ${reason}`);
  return { skipped: reason };
}

export function reportConsolePaint(r: ConsolePaint, out: Out): void {
  out("");
  if ("skipped" in r) {
    out(`Console first screen (issue 11): skipped — ${r.skipped}`);
    return;
  }
  out(`Console first screen (issue 11): a signed-in admin, navigation → Health numbers on screen, real Chromium, ${r.loads} loads, ${r.jobs} sync jobs in Firestore`);
  const met = (ms: number) => (ms < TARGET_MS ? "met" : "NOT met");
  out(
    table(
      ["", "p50 ms", "p95 ms", "max ms", `target < ${TARGET_MS} ms`],
      [
        ["first screen", f0(r.firstScreen.p50), f0(r.firstScreen.p95), f0(r.firstScreen.max), `p95 ${met(r.firstScreen.p95)}`],
        ["  of which opsStatus (browser timing)", f0(r.opsStatusApi.p50), f0(r.opsStatusApi.p95), f0(r.opsStatusApi.max), ""],
      ],
    ),
  );
}
