/** The running stack as the demo and the drills see it: configuration, a reachability check, signed deliveries. */
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { getAuth, type Auth } from "firebase-admin/auth";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { PROJECT_ID, WEBHOOK_URL } from "../emulators";
import { ensureLocalSecrets, localParams, readLocalWebhookSecret } from "../lib/localSecret";
import { record, str } from "./records";
import { signedDelivery } from "../../test/support/stripeFixtures";
export const HTTP_TIMEOUT_MS = 15_000;
export const DEFAULT_FIRESTORE_HOST = "127.0.0.1:8080";
export const DEFAULT_AUTH_HOST = "127.0.0.1:9099";
/** The HubSpot stand-in `npm start` runs when functions/.env.demo-opsync points at it (scripts/lib/localVendors.ts). */
export const LOCAL_HUBSPOT_URL = "http://127.0.0.1:4610";
/** How long the sync queue gets to finish this run's jobs (retries back off up to 30 s). */
export const QUEUE_TIMEOUT_MS = 90_000;
export const QUEUE_POLL_MS = 500;
export const QUEUE_PROGRESS_EVERY_MS = 3_000;

// ---------------------------------------------------------------------------------------------------------------
// Configuration

export interface DemoConfig {
  webhookUrl: string;
  firestoreHost: string;
  authHost: string;
  secret: string;
  /** Set when the stack syncs to the local HubSpot stand-in; null when real vendors are configured. */
  hubspot: { url: string; token: string } | null;
  helpdesk: string;
}

export const hostPort = (name: string, fallback: string): string => {
  const value = process.env[name]?.trim() || fallback;
  if (!/^[\w.-]+:\d+$/.test(value)) throw new Error(`${name} must look like host:port, got "${value}"`);
  return value;
};

export function loadConfig(): DemoConfig {
  const webhookUrl = process.env.OPSYNC_WEBHOOK_URL?.trim() || WEBHOOK_URL;
  if (!URL.canParse(webhookUrl) || !/^https?:$/.test(new URL(webhookUrl).protocol)) {
    throw new Error(`OPSYNC_WEBHOOK_URL must be an http(s) URL, got "${webhookUrl}"`);
  }
  const firestoreHost = hostPort("FIRESTORE_EMULATOR_HOST", DEFAULT_FIRESTORE_HOST);
  const authHost = hostPort("FIREBASE_AUTH_EMULATOR_HOST", DEFAULT_AUTH_HOST);
  const secret = readLocalWebhookSecret();
  if (!secret) {
    throw new Error("No webhook signing secret in functions/.secret.local. Run `npm start` first (it creates one).");
  }
  // The same files the stack reads: functions/.env.demo-opsync, overridden by functions/.env.local.
  const params = localParams();
  let hubspot: DemoConfig["hubspot"] = null;
  if (params.get("HUBSPOT_BASE_URL") === LOCAL_HUBSPOT_URL) {
    const token = ensureLocalSecrets({}).get("HUBSPOT_TOKEN");
    if (!token) throw new Error("No HUBSPOT_TOKEN in functions/.secret.local. Run `npm start` first (it creates one).");
    hubspot = { url: LOCAL_HUBSPOT_URL, token };
  }
  return { webhookUrl, firestoreHost, authHost, secret, hubspot, helpdesk: params.get("HELPDESK") ?? "hubspot" };
}

/** Fails with a pointer to `npm start` rather than a socket error halfway through the story. */
export async function requireStack(cfg: DemoConfig): Promise<void> {
  const notUp = `Run \`npm start\` in another terminal and wait for "opsync ready".`;
  try {
    const res = await fetch(cfg.webhookUrl, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    await res.body?.cancel();
    if (res.status !== 405) throw new Error(`GET ${cfg.webhookUrl} answered ${res.status}, expected 405. ${notUp}`);
  } catch (error) {
    if (error instanceof Error && error.message.includes(notUp)) throw error;
    throw new Error(`The opsync stack is not reachable at ${cfg.webhookUrl}. ${notUp}`);
  }
  const others: Array<[string, string]> = [
    ["Firestore emulator", `http://${cfg.firestoreHost}/`],
    ["Auth emulator", `http://${cfg.authHost}/`],
    ...(cfg.hubspot ? [["local HubSpot", `${cfg.hubspot.url}/`] as [string, string]] : []),
  ];
  for (const [what, url] of others) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
      await res.body?.cancel();
    } catch {
      throw new Error(`The ${what} is not reachable at ${url}. ${notUp}`);
    }
  }
}


// ---------------------------------------------------------------------------------------------------------------
// Delivering events

/** Any fixture event: FixtureEvent<T> is not a union over T, so steps hold what delivery needs. */
export interface SentEvent {
  id: string;
  type: string;
}

export interface Delivery {
  http: number;
  ledger: string;
  duplicate: boolean;
  error: string | null;
}

export function parseDelivery(http: number, body: unknown): Delivery {
  const b = record(body);
  return {
    http,
    ledger: str(b.status) ?? "-",
    duplicate: b.duplicate === true,
    error: str(b.error),
  };
}

export async function post(cfg: DemoConfig, event: SentEvent): Promise<Delivery> {
  // Signed at send time: Stripe signatures are only valid for five minutes.
  const { body, signature } = signedDelivery(event, cfg.secret);
  let res: Response;
  try {
    res = await fetch(cfg.webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body,
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
  } catch (error) {
    if (error instanceof Error && error.name === "TimeoutError") {
      // A failed step, not the end of the story: Stripe would mark the delivery "Timed out" and send it again.
      return { http: 0, ledger: "-", duplicate: false, error: `no answer within ${HTTP_TIMEOUT_MS / 1000} s (Stripe would retry it)` };
    }
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`delivering ${event.type} ${event.id} failed (${why}); is \`npm start\` still running?`);
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { error: text.slice(0, 200) };
  }
  return parseDelivery(res.status, parsed);
}


export interface Connection {
  db: Firestore;
  auth: Auth;
  close(): Promise<void>;
}

/** The Admin SDK on the stack's emulators (after requireStack). Close it, or gRPC channels keep the process alive. */
export function connect(cfg: DemoConfig, name: string): Connection {
  // Both must be set before the Admin SDK first touches Firestore or Auth.
  process.env.FIRESTORE_EMULATOR_HOST = cfg.firestoreHost;
  process.env.FIREBASE_AUTH_EMULATOR_HOST = cfg.authHost;
  // Only emulators here: do not probe for a Google metadata server (it prints warnings when one half-answers).
  process.env.METADATA_SERVER_DETECTION ??= "none";
  const app: App = initializeApp({ projectId: PROJECT_ID }, name);
  const db = getFirestore(app);
  return {
    db,
    auth: getAuth(app),
    async close() {
      await db.terminate().catch(() => undefined);
      await deleteApp(app).catch(() => undefined);
    },
  };
}
