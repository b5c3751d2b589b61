/** Prepares a local HubSpot stand-in the way `npm run hubspot:setup` prepares a portal, for tests. */
import type { HubspotCrmConfig } from "../../functions/src/sinks/hubspot";
import { ensureHubspotProperties, ensureRefundStages } from "../../functions/src/sinks/hubspotSetup";

export async function setUpHubspot(server: { token: string; url: string }, extra: { timeoutMs?: number } = {}): Promise<HubspotCrmConfig> {
  const config = { accessToken: server.token, basePath: server.url, ...extra };
  await ensureHubspotProperties(config);
  const { created: _created, ...ids } = await ensureRefundStages(config);
  return { ...config, refundStages: async () => ids };
}
