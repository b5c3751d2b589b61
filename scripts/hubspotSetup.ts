/**
 * `npm run hubspot:setup`: prepares a HubSpot portal for opsync and records what the adapter needs by id.
 *   1. checks the private-app token's scopes (POST /oauth/v2/private-apps/get/access-token-info);
 *   2. creates opsync's custom properties (idempotent);
 *   3. finds or creates the refund deal stages in the default pipeline and stores their ids in Firestore
 *      `ops/hubspot` ({pipelineId, stages: {refunded, partially_refunded}, checkedAt}), which the CRM adapter reads.
 * Reads HUBSPOT_TOKEN and HUBSPOT_BASE_URL from the environment, else from functions/.secret.local and
 * functions/.env.local / .env.demo-opsync. Firestore is the project in GCLOUD_PROJECT (with application default
 * credentials), or the emulator when FIRESTORE_EMULATOR_HOST is set.
 */
import type { RefundStageIds } from "../functions/src/domain/syncModel";
import type { HubspotConfig } from "../functions/src/sinks/hubspot";
import { checkHubspotScopes, ensureHubspotProperties, ensureRefundStages } from "../functions/src/sinks/hubspotSetup";
import { ensureLocalSecrets, localParams } from "./lib/localSecret";

export interface SetupDeps {
  config: HubspotConfig;
  saveStages: (ids: RefundStageIds) => Promise<void>;
  log: (line: string) => void;
}

/** Returns false (after saying what is missing) when the token lacks scopes; nothing is changed then. */
export async function runHubspotSetup({ config, saveStages, log }: SetupDeps): Promise<boolean> {
  log(`HubSpot at ${config.basePath ?? "https://api.hubapi.com"}`);
  const scopes = await checkHubspotScopes(config);
  if (!scopes.ok) {
    log(`The token lacks scopes: ${scopes.missing.join(", ")}. Add them to the private app, then run this again.`);
    return false;
  }
  const props = await ensureHubspotProperties(config);
  log(`properties created: ${props.created.join(", ") || "none"}; already present: ${props.existing.join(", ") || "none"}`);
  const { created, ...ids } = await ensureRefundStages(config);
  log(`refund stages in pipeline ${ids.pipelineId}: refunded=${ids.stages.refunded}, partially_refunded=${ids.stages.partially_refunded}${created.length ? ` (created ${created.join(", ")})` : ""}`);
  await saveStages(ids);
  log("stage ids stored in ops/hubspot");
  return true;
}

async function main(): Promise<void> {
  const token = process.env.HUBSPOT_TOKEN?.trim() || ensureLocalSecrets({}).get("HUBSPOT_TOKEN");
  const basePath = process.env.HUBSPOT_BASE_URL?.trim() || localParams().get("HUBSPOT_BASE_URL") || "https://api.hubapi.com";
  if (!token) throw new Error("Set HUBSPOT_TOKEN (a private app token) in the environment or in functions/.secret.local");
  // Loaded here only: the unit test of runHubspotSetup needs no Firebase.
  const { getDb } = await import("../functions/src/services/runtime");
  const { writeRefundStageIds } = await import("../functions/src/store/hubspotSettings");
  const ok = await runHubspotSetup({ config: { accessToken: token, basePath }, saveStages: (ids) => writeRefundStageIds(getDb(), ids), log: console.log });
  if (!ok) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
