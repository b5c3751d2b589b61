/**
 * `npm run hubspot:setup`: creates opsync's custom properties in a HubSpot portal (idempotent) and checks the
 * token's scopes. Reads HUBSPOT_TOKEN and HUBSPOT_BASE_URL from the environment, else from
 * functions/.secret.local and functions/.env.local / .env.demo-opsync.
 */
import { checkHubspotScopes, ensureHubspotProperties } from "../functions/src/sinks/hubspot";
import { ensureLocalSecrets, localParams } from "./lib/localSecret";

async function main(): Promise<void> {
  const token = process.env.HUBSPOT_TOKEN?.trim() || ensureLocalSecrets({}).get("HUBSPOT_TOKEN");
  const basePath = process.env.HUBSPOT_BASE_URL?.trim() || localParams().get("HUBSPOT_BASE_URL") || "https://api.hubapi.com";
  if (!token) throw new Error("Set HUBSPOT_TOKEN (a private app token) in the environment or in functions/.secret.local");
  console.log(`HubSpot at ${basePath}`);
  const scopes = await checkHubspotScopes({ accessToken: token, basePath });
  if (!scopes.ok) {
    console.error(`The token lacks scopes: ${scopes.missing.join(", ")}. Add them to the private app, then run this again.`);
    process.exitCode = 1;
    return;
  }
  const result = await ensureHubspotProperties({ accessToken: token, basePath });
  console.log(`properties created: ${result.created.join(", ") || "none"}; already present: ${result.existing.join(", ") || "none"}`);
  console.log("Also add the deal stages opsync_refunded and opsync_partially_refunded to your default deal pipeline.");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
