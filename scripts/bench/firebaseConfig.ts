/**
 * The firebase config for `npm run bench`: firebase.json plus the `bench` codebase (scripts/bench/functions: the ack
 * floor and the Stripe extension replica), written to a git-ignored file next to firebase.json (the config's folder is
 * the project folder, so relative paths keep working). firebase.json itself never lists the bench codebase, so
 * `firebase deploy` cannot deploy it; see scripts/bench/functions/src/index.ts for the second guard.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { REPO_ROOT, ensureLocalSecrets, localParams, readLocalWebhookSecret } from "../lib/localSecret";

export const BENCH_CODEBASE_SOURCE = "scripts/bench/functions";
export const BENCH_CONFIG_FILE = resolve(REPO_ROOT, "firebase.bench.local.json");

interface FunctionsConfig {
  source: string;
  codebase: string;
  [key: string]: unknown;
}

export function writeBenchFirebaseConfig(): string {
  const base = JSON.parse(readFileSync(resolve(REPO_ROOT, "firebase.json"), "utf8")) as { functions?: FunctionsConfig[] };
  const functions = (base.functions ?? []).filter((f) => f.codebase !== "bench");
  functions.push({ source: BENCH_CODEBASE_SOURCE, codebase: "bench", runtime: "nodejs22", ignore: ["node_modules", "src", "tsconfig.json"] });
  writeFileSync(BENCH_CONFIG_FILE, `${JSON.stringify({ ...base, functions }, null, 2)}\n`);
  return BENCH_CONFIG_FILE;
}

/**
 * What the bench functions read from their environment (the functions emulator gives its own environment to every
 * worker): the webhook secret the bench signs with, and the local Stripe stand-in and its key for the replica.
 */
export function benchFunctionsEnv(): Record<string, string> {
  const secret = readLocalWebhookSecret();
  const key = ensureLocalSecrets({}).get("STRIPE_SECRET_KEY");
  const api = localParams().get("STRIPE_API_BASE_URL");
  if (!secret || !key || !api) throw new Error("bench functions: need STRIPE_WEBHOOK_SECRET, STRIPE_SECRET_KEY (functions/.secret.local) and STRIPE_API_BASE_URL");
  return { OPSYNC_BENCH_STRIPE_WEBHOOK_SECRET: secret, OPSYNC_BENCH_STRIPE_API_KEY: key, OPSYNC_BENCH_STRIPE_API_URL: api, OPSYNC_BENCH_FUNCTIONS: "1" };
}
