/**
 * vitest globalSetup: start the real Cloud Firestore emulator on a free port unless FIRESTORE_EMULATOR_HOST
 * already points at one. Environment set here reaches the test workers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { requireFirestoreJar, FIRESTORE_MAIN_CLASS } from "../../scripts/lib/firestoreJar";

export const PROJECT_ID = "demo-opsync";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(host: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once("exit", () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error("Firestore emulator exited during start-up (is Java 17+ installed?)");
    try {
      const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Firestore emulator did not answer on ${host} within ${timeoutMs} ms`);
}

let child: ChildProcess | null = null;

export async function setup(): Promise<void> {
  process.env.GCLOUD_PROJECT ??= PROJECT_ID;
  if (process.env.FIRESTORE_EMULATOR_HOST) return;
  const jar = requireFirestoreJar();
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const args = jar.runnable
    ? ["-Duser.language=en", "-jar", jar.path, "--host", "127.0.0.1", "--port", String(port)]
    : ["-Duser.language=en", "-cp", jar.path, FIRESTORE_MAIN_CLASS, "--host", "127.0.0.1", "--port", String(port)];
  child = spawn("java", args, { stdio: "ignore" });
  // A JVM start on a loaded 2-core machine can take a minute; a missing Java fails at once (exit) instead.
  await waitReady(host, child, 120_000);
  process.env.FIRESTORE_EMULATOR_HOST = host;
}

export async function teardown(): Promise<void> {
  if (!child) return;
  const proc = child;
  child = null;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      resolve();
    }, 5000);
    proc.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}
