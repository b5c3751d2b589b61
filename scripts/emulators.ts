/**
 * Runs firebase-tools' emulators (functions, firestore, auth, tasks, hosting for the console) offline:
 *   tsx scripts/emulators.ts exec "<command>"   run a command against them, exit with its code
 *   tsx scripts/emulators.ts exec --bench "<command>"   the same, with the bench-only codebase loaded as well
 *                                                       (scripts/bench/firebaseConfig.ts; never in firebase.json)
 *   tsx scripts/emulators.ts start              keep them up until interrupted (npm start)
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { firebaseToolsJarPath } from "./lib/firestoreJar";
import { REPO_ROOT, ensureLocalWebhookSecret } from "./lib/localSecret";
import { startLocalVendors, type LocalVendors } from "./lib/localVendors";
import { benchFunctionsEnv, writeBenchFirebaseConfig } from "./bench/firebaseConfig";

export const PROJECT_ID = "demo-opsync";
export const ONLY = "functions,firestore,auth,tasks,hosting";
/** The ops console (console/dist), served by the Hosting emulator; /api/admin/** goes to adminApi (firebase.json). */
export const CONSOLE_URL = "http://127.0.0.1:5002";
export const WEBHOOK_URL = `http://127.0.0.1:5001/${PROJECT_ID}/us-central1/stripeWebhook`;

function firebaseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GCLOUD_PROJECT: PROJECT_ID, OPSYNC_WEBHOOK_URL: WEBHOOK_URL };
  const wrapper = firebaseToolsJarPath(REPO_ROOT);
  if (wrapper) env.FIRESTORE_EMULATOR_BINARY_PATH = wrapper;
  // Emulator processes should not look for Google credentials on a metadata server.
  env.GOOGLE_CLOUD_PROJECT = PROJECT_ID;
  return env;
}

export async function runFirebase(args: string[], onLine?: (line: string) => void, extraEnv: () => Record<string, string> = () => ({})): Promise<number> {
  ensureLocalWebhookSecret();
  let vendors: LocalVendors;
  try {
    vendors = await startLocalVendors();
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? (error as { code: unknown }).code : null;
    const port = typeof error === "object" && error !== null && "port" in error ? (error as { port: unknown }).port : "?";
    throw new Error(
      code === "EADDRINUSE" ? `port ${String(port)} (a local vendor stand-in) is already in use: is another opsync stack running?` : String(error),
    );
  }
  if (vendors.started.length) console.log(`local vendors: ${vendors.started.join(", ")}`);
  const bin = resolve(REPO_ROOT, "node_modules", ".bin", "firebase");
  // --non-interactive: a missing param must fail the run, never wait at a prompt (CI has no stdin).
  const child = spawn(bin, [...args, "--project", PROJECT_ID, "--non-interactive"], {
    cwd: REPO_ROOT,
    // Read after the stand-ins started: they create the local secrets the extra env may carry.
    env: { ...firebaseEnv(), ...extraEnv() },
    stdio: ["inherit", onLine ? "pipe" : "inherit", "inherit"],
  });
  if (onLine && child.stdout) {
    let buffer = "";
    child.stdout.on("data", (chunk: Buffer) => {
      process.stdout.write(chunk);
      buffer += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        onLine(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
  }
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const exitCode = await new Promise<number>((resolveExit) => {
    child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 130 : 1)));
  });
  await vendors.close();
  return exitCode;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const bench = rest[0] === "--bench";
  const script = bench ? rest[1] : rest[0];
  if (command === "exec" && script && bench) {
    const config = writeBenchFirebaseConfig();
    process.exitCode = await runFirebase(["emulators:exec", "--config", config, "--only", ONLY, script], undefined, benchFunctionsEnv);
  } else if (command === "exec" && script) {
    process.exitCode = await runFirebase(["emulators:exec", "--only", ONLY, script]);
  } else if (command === "start") {
    process.exitCode = await runFirebase(["emulators:start", "--only", ONLY]);
  } else {
    console.error('usage: tsx scripts/emulators.ts exec [--bench] "<command>" | start');
    process.exitCode = 2;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
