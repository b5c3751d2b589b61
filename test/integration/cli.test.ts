/**
 * The `opsync` CLI as an operator runs it: a child process against the Firestore emulator and an in-process Stripe
 * stand-in. Exit codes, --json output, one-line errors.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { StripeServer } from "../vendors/stripeServer";
import { PROJECT_ID, testDb } from "../support/firestore";
import { account, useStripeStandIn } from "../support/stripeAccount";

const ROOT = resolve(__dirname, "../..");
const KEY = "sk_test_cli";
let stripe: StripeServer;
useStripeStandIn(KEY, (s) => (stripe = s));

function opsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = ["scripts/cli/index.ts", "--project", PROJECT_ID, "--stripe-key", KEY, "--stripe-url", stripe.url, ...args];
  return new Promise((done) => {
    execFile(resolve(ROOT, "node_modules/.bin/tsx"), argv, { cwd: ROOT, env: { ...process.env, HUBSPOT_TOKEN: "pat-local-cli" }, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("opsync CLI", () => {
  it("backfills with --json, shows progress, reports status, and a second run is a no-op", async () => {
    stripe.seedObjects(account({ count: 30, prefix: "cli" }));
    const first = await opsync(["backfill"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/backfill: customers \d+/);
    expect(first.stdout).toMatch(/backfill done: 30 customers, 30 imported/);

    const second = await opsync(["--json", "backfill"]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ command: "backfill", status: "done", customers: 30, imported: 0, unchanged: 30 });

    const status = await opsync(["--json", "status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ command: "status", backfill: { status: "done", imported: 0 }, jobs: { pending: 90 } });
    expect((await testDb().doc("customers/u_cli3").get()).get("subscriptionStatus")).toBe("active");
  });

  it("sweeps and replays with --json; bad input exits non-zero with one line", async () => {
    const sweep = await opsync(["--json", "sweep-events", "--since", new Date(Date.now() - 3_600_000).toISOString()]);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(JSON.parse(sweep.stdout)).toMatchObject({ command: "sweep-events", listed: 0, applied: 0 });

    const unknown = await opsync(["replay", "--customer", "u_nobody"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe("opsync: the ledger has no events of customer u_nobody");

    const both = await opsync(["replay", "evt_1", "--customer", "u_1"]);
    expect(both.code).toBe(1);
    expect(both.stderr.trim().split("\n")).toHaveLength(1);

    const badMapping = await opsync(["backfill", "--mapping", "/nonexistent.csv"]);
    expect(badMapping.code).toBe(1);
    expect(badMapping.stderr).toContain("cannot read mapping file /nonexistent.csv");
  });

  it("reconciles with --json: drift is reported and exits 0", async () => {
    stripe.seedObjects(account({ count: 3, prefix: "rc" }));
    const run = await opsync(["--json", "reconcile"]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ command: "reconcile", status: "done", checked: 3, driftTotal: 3, drift: { stripe_customer_unknown: 3 }, fix: false });
    expect((await testDb().doc(`ops/reconcile/runs/${report.runId}`).get()).get("status")).toBe("done");
    const human = await opsync(["reconcile"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/3 customers and 0 orders checked, 3 differences/);
  });
});
