/**
 * `npm start`: runs the local opsync stack (functions, Firestore, auth, tasks, hosting emulators, plus local vendor stand-ins
 * such as HubSpot, Zendesk and Slack unless real vendors are configured) until interrupted, and prints one
 * "opsync ready" line once the Stripe webhook actually answers, not merely once ports open.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CONSOLE_URL, ONLY, WEBHOOK_URL, runFirebase } from "./emulators";
import { ensureLocalWebhookSecret } from "./lib/localSecret";
import { LOCAL_PORTS } from "./lib/localVendors";
import { portIsFree, portsInUseMessage, takenPorts } from "./lib/ports";

const READY_TIMEOUT_MS = 120_000;
const POLL_INTERVAL_MS = 1_000;
/** The first request to a function starts its worker, which can take a few seconds. */
const PROBE_TIMEOUT_MS = 10_000;
const VENDOR_NAMES: Record<string, string> = { hubspot: "HubSpot", zendesk: "Zendesk", slack: "Slack", stripe: "Stripe API" };

interface VendorPort {
  name: string;
  port: number;
}

/** The stand-in ports nothing listens on yet: whichever of them is taken once we are ready, runFirebase started. */
async function freeVendorPorts(): Promise<VendorPort[]> {
  const free: VendorPort[] = [];
  for (const [key, port] of Object.entries(LOCAL_PORTS)) {
    if (await portIsFree(port)) free.push({ name: VENDOR_NAMES[key] ?? key, port });
  }
  return free;
}

async function startedStandIns(wereFree: VendorPort[]): Promise<VendorPort[]> {
  const started: VendorPort[] = [];
  for (const v of wereFree) if (!(await portIsFree(v.port))) started.push(v);
  return started;
}

/** The line under "opsync ready": which vendors the stack talks to. */
function vendorLine(standIns: VendorPort[]): string {
  if (!standIns.length) return "vendors: the real ones configured in functions/.env.local and functions/.secret.local";
  const list = standIns.map((v) => `${v.name} http://127.0.0.1:${v.port}`).join(", ");
  const slack = standIns.some((v) => v.name === "Slack") ? "; Slack messages appear below as [local slack] …" : "";
  return `local stand-ins: ${list} (nothing leaves this machine${slack})`;
}

/** One probe: the webhook answers 405 to GET once the function is loaded. */
async function webhookAnswers(): Promise<boolean> {
  try {
    const res = await fetch(WEBHOOK_URL, { method: "GET", signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body?.cancel();
    return res.status === 405;
  } catch {
    return false; // not listening yet, or the probe timed out
  }
}

async function waitUntilReady(deadline: number, stopped: () => boolean): Promise<boolean> {
  while (Date.now() < deadline && !stopped()) {
    if (await webhookAnswers()) return true;
    await sleep(POLL_INTERVAL_MS);
  }
  return false;
}

async function main(): Promise<number> {
  const taken = await takenPorts();
  if (taken.length) {
    console.error(portsInUseMessage("npm start", taken));
    return 1;
  }
  ensureLocalWebhookSecret();
  // A stand-in whose port is taken makes runFirebase fail with a clear message before firebase starts.
  const vendorPorts = await freeVendorPorts();

  let exited = false;
  const firebaseExit = runFirebase(["emulators:start", "--only", ONLY])
    .catch((error: unknown) => {
      // e.g. a vendor stand-in could not bind its port; firebase was never started.
      console.error(error instanceof Error ? error.message : String(error));
      return 1;
    })
    .then((code) => {
      exited = true;
      return code;
    });

  const ready = await waitUntilReady(Date.now() + READY_TIMEOUT_MS, () => exited);
  if (exited) {
    const code = await firebaseExit;
    console.error(`opsync did not start: the emulators exited with code ${code} (see the output above).`);
    return code === 0 ? 1 : code;
  }
  if (!ready) {
    console.error(
      `opsync did not start: ${WEBHOOK_URL} did not answer within ${READY_TIMEOUT_MS / 1000} s. ` +
        "Check the emulator output above (and firebase-debug.log); stopping the emulators.",
    );
    // runFirebase forwards our own signals to firebase, which then shuts its emulators down cleanly.
    process.kill(process.pid, "SIGTERM");
    await firebaseExit;
    return 1;
  }

  console.log(
    `\nopsync ready — Stripe webhook: ${WEBHOOK_URL} ` +
      "(signing secret in functions/.secret.local; run `npm run demo` in another terminal)\n" +
      `  ops console: ${CONSOLE_URL} (staff sign in with an Auth emulator user holding an admin, support or finance claim; README "Ops console")\n` +
      `  ${vendorLine(await startedStandIns(vendorPorts))}\n`,
  );
  // SIGINT/SIGTERM are forwarded to firebase by runFirebase; we leave when it does, with its code.
  return firebaseExit;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
