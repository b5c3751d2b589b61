/**
 * What every command needs: the Firebase project (emulators for `demo-*` projects, application default credentials
 * otherwise), the Stripe read client and the params of that project. Environment is set here, before anything
 * builds a Firebase app, because the Admin SDK reads it then.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { getDb } from "../../functions/src/services/runtime";
import { getAuth } from "firebase-admin/auth";
import { FirebaseAuthClaims } from "../../functions/src/sinks/firebaseClaims";
import { HubspotCrm } from "../../functions/src/sinks/hubspot";
import type { ClaimsReadPort, CrmReadPort } from "../../functions/src/sinks/ports";
import { stripeReadClient, type StripeReadPort } from "../../functions/src/sinks/stripeApi";
import { ensureDefaultApp } from "../../functions/src/services/runtime";
import { readRefundStageIds } from "../../functions/src/store/hubspotSettings";
import { REPO_ROOT } from "../lib/localSecret";

export const globalOptionsSchema = z.strictObject({
  project: z.string().regex(/^[a-z0-9-]{4,40}$/, "--project must be a Firebase project id (lowercase letters, digits, -)"),
  json: z.boolean(),
  stripeKey: z.string().optional(),
  stripeUrl: z.string().optional(),
});
export type GlobalOptions = z.infer<typeof globalOptionsSchema>;

/** A failure the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {}

function readEnvFile(path: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !line.startsWith("#")) out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

export interface CliContext {
  project: string;
  local: boolean;
  json: boolean;
  db: Firestore;
  params: Map<string, string>;
  graceDays: number;
  acceptLivemode: boolean;
  stripe(): StripeReadPort;
  /** HubSpot's read side (HUBSPOT_TOKEN, HUBSPOT_BASE_URL as the functions read them). */
  crmRead(): CrmReadPort;
  /** Firebase Auth custom claims (the Auth emulator for `demo-*` projects). */
  claimsRead(): ClaimsReadPort;
}

/** Emulator ports from firebase.json (what `npm start` runs). */
const EMULATORS = { firestore: "127.0.0.1:8080", auth: "127.0.0.1:9099" };

/** `raw` is commander's optsWithGlobals(): the global options are picked out (the command checks its own). */
export function cliContext(raw: Record<string, unknown>): CliContext {
  const { project, json, stripeKey, stripeUrl } = raw;
  const parsed = globalOptionsSchema.safeParse({ project, json, ...(stripeKey !== undefined ? { stripeKey } : {}), ...(stripeUrl !== undefined ? { stripeUrl } : {}) });
  if (!parsed.success) throw new CliError(parsed.error.issues[0]?.message ?? "invalid options");
  const o = parsed.data;
  const local = o.project.startsWith("demo-");
  process.env.GCLOUD_PROJECT = o.project;
  if (local) {
    process.env.FIRESTORE_EMULATOR_HOST ??= EMULATORS.firestore;
    process.env.FIREBASE_AUTH_EMULATOR_HOST ??= EMULATORS.auth;
    // No Google metadata server behind the emulators: without this the Admin SDK probes one and warns on stderr.
    process.env.METADATA_SERVER_DETECTION ??= "none";
  }
  const fnDir = resolve(REPO_ROOT, "functions");
  // Params as the deployed functions see them: .env, .env.<project>, then local overrides on the emulators.
  const params = new Map([...readEnvFile(resolve(fnDir, ".env")), ...readEnvFile(resolve(fnDir, `.env.${o.project}`)), ...(local ? readEnvFile(resolve(fnDir, ".env.local")) : [])]);
  const secrets = local ? readEnvFile(resolve(fnDir, ".secret.local")) : new Map<string, string>();
  const graceDays = Number(params.get("ENTITLEMENT_GRACE_DAYS") ?? "3");
  const acceptLivemode = params.get("STRIPE_MODE") === "live" && !local;
  let client: StripeReadPort | null = null;
  const db = getDb();
  return {
    project: o.project,
    local,
    json: o.json,
    db,
    params,
    graceDays: Number.isInteger(graceDays) ? graceDays : 3,
    acceptLivemode,
    stripe() {
      if (client) return client;
      const key = o.stripeKey ?? process.env.STRIPE_SECRET_KEY ?? secrets.get("STRIPE_SECRET_KEY");
      if (!key || !/^(sk|rk)_(test|live)_\S+$/.test(key)) throw new CliError("no Stripe key: pass --stripe-key or set STRIPE_SECRET_KEY (sk_… or rk_… with read access)");
      if (key.includes("_live_") !== acceptLivemode) throw new CliError(`a ${acceptLivemode ? "live" : "test"}-mode Stripe key is needed for project ${o.project}`);
      const base = new URL(o.stripeUrl ?? process.env.STRIPE_API_BASE_URL ?? params.get("STRIPE_API_BASE_URL") ?? "https://api.stripe.com");
      const protocol = base.protocol === "http:" ? "http" : "https";
      client = stripeReadClient({ secretKey: key, host: base.hostname, port: base.port ? Number(base.port) : protocol === "https" ? 443 : 80, protocol });
      return client;
    },
    crmRead() {
      const token = process.env.HUBSPOT_TOKEN ?? secrets.get("HUBSPOT_TOKEN");
      if (!token) throw new CliError("no HubSpot token: set HUBSPOT_TOKEN (a private app token with crm.objects.contacts.read and crm.objects.deals.read)");
      const basePath = process.env.HUBSPOT_BASE_URL ?? params.get("HUBSPOT_BASE_URL") ?? "https://api.hubapi.com";
      return new HubspotCrm({ accessToken: token, basePath, refundStages: () => readRefundStageIds(db) });
    },
    claimsRead() {
      ensureDefaultApp();
      return new FirebaseAuthClaims(() => getAuth());
    },
  };
}
