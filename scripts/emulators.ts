/**
 * Runs firebase-tools' emulators (functions, firestore, auth, tasks, hosting for the console) offline:
 *   tsx scripts/emulators.ts exec "<command>"   run a command against them, exit with its code
 *   tsx scripts/emulators.ts exec --bench "<command>"   the same, with the bench-only codebase loaded as well
 *                                                       (scripts/bench/firebaseConfig.ts; never in firebase.json)
 *   tsx scripts/emulators.ts start              keep them up until interrupted (npm start)
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { firebaseToolsJarPath } from "./lib/firestoreJar";
import { REPO_ROOT, ensureLocalWebhookSecret } from "./lib/localSecret";
import { startLocalVendors, type LocalVendors } from "./lib/localVendors";
import { portsInUseMessage, takenPorts } from "./lib/ports";
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

/**
 * After firebase exited: anything still in its process group, and this checkout's Firestore emulator (java runs
 * detached, in a group of its own), is a leftover of a forced exit. Ended here so the next run finds its ports free.
 */
function stopLeftovers(firebasePid: number | undefined): void {
  if (firebasePid !== undefined) {
    try {
      process.kill(-firebasePid, "SIGKILL");
    } catch {
      // ESRCH: the group is empty, the normal case after a clean shutdown.
    }
  }
  for (const pid of firestoreEmulatorPids()) {
    console.error(`stopping a Firestore emulator left running by firebase (pid ${pid})`);
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Exited meanwhile.
    }
  }
}

/** Linux: java processes running this checkout's wrapper jar (scripts/lib/firestoreJar.ts), found in /proc. */
function firestoreEmulatorPids(): number[] {
  const jar = firebaseToolsJarPath(REPO_ROOT);
  if (!jar || !existsSync("/proc")) return [];
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (cmdline.includes(jar) && cmdline.some((a) => a.endsWith("java"))) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export async function runFirebase(args: string[], onLine?: (line: string) => void, extraEnv: () => Record<string, string> = () => ({})): Promise<number> {
  const taken = await takenPorts();
  if (taken.length) throw new Error(portsInUseMessage(args[0] === "emulators:start" ? "npm start" : "this emulator run", taken));
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
  // detached: firebase gets its own process group, so a terminal's Ctrl-C reaches only us and firebase receives
  // exactly one signal (forwarded below). A second signal makes firebase exit without stopping its emulators,
  // which is how a Firestore emulator (java, itself detached) used to be left holding port 8080.
  const child = spawn(bin, [...args, "--project", PROJECT_ID, "--non-interactive"], {
    cwd: REPO_ROOT,
    // Read after the stand-ins started: they create the local secrets the extra env may carry.
    env: { ...firebaseEnv(), ...extraEnv() },
    stdio: ["ignore", onLine ? "pipe" : "inherit", "inherit"],
    detached: true,
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
  let signals = 0;
  const forward = (signal: NodeJS.Signals) => {
    signals += 1;
    // The first stops the emulators cleanly; a second (the user pressing Ctrl-C again) forces it.
    if (signals <= 2 && child.exitCode === null) child.kill(signals === 1 ? "SIGINT" : signal);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  process.on("SIGHUP", forward);
  const exitCode = await new Promise<number>((resolveExit) => {
    child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 130 : 1)));
  });
  process.off("SIGINT", forward);
  process.off("SIGTERM", forward);
  process.off("SIGHUP", forward);
  stopLeftovers(child.pid);
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
