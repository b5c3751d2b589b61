/**
 * The fixed local ports (firebase.json's emulators and the vendor stand-ins) and whether something already holds
 * them, so `npm start`, `npm test` and the emulator runner refuse with one sentence instead of an EADDRINUSE.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { REPO_ROOT } from "./localSecret";
import { LOCAL_PORTS } from "./localVendors";

/** Used if firebase.json cannot be read; the functions and Firestore ports matter most. */
const DEFAULT_PORTS: Record<string, number> = { firestore: 8080, functions: 5001 };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The emulator ports firebase.json configures, plus the stand-ins' (`hubspot stand-in` …). */
export function localPorts(): Record<string, number> {
  const ports: Record<string, number> = {};
  try {
    const config: unknown = JSON.parse(readFileSync(resolve(REPO_ROOT, "firebase.json"), "utf8"));
    const emulators = isRecord(config) && isRecord(config.emulators) ? config.emulators : {};
    for (const [name, value] of Object.entries(emulators)) {
      if (isRecord(value) && typeof value.port === "number") ports[name] = value.port;
    }
  } catch {
    // An unreadable firebase.json fails firebase itself with its own message; check the essentials meanwhile.
  }
  const emulators = Object.keys(ports).length ? ports : DEFAULT_PORTS;
  const standIns = Object.fromEntries(Object.entries(LOCAL_PORTS).map(([k, p]) => [`${k} stand-in`, p]));
  return { ...emulators, ...standIns };
}

/** Binding the same address the emulators bind is the exact test of whether they can start. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once("error", () => resolveFree(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolveFree(true)));
  });
}

/** `"8080 (firestore)"` for each port in use. */
export async function takenPorts(ports: Record<string, number> = localPorts()): Promise<string[]> {
  const taken: string[] = [];
  for (const [name, port] of Object.entries(ports)) if (!(await portIsFree(port))) taken.push(`${port} (${name})`);
  return taken;
}

/** The one sentence for `what` (e.g. "npm test") when the local stack's ports are taken. */
export function portsInUseMessage(what: string, taken: readonly string[]): string {
  return (
    `${what} cannot run now: ${taken.length > 1 ? "ports" : "port"} ${taken.join(", ")} ${taken.length > 1 ? "are" : "is"} in use, ` +
    "most likely by a running `npm start` (or another emulator run); stop it with Ctrl-C and try again."
  );
}
