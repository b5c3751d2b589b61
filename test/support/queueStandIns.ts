/**
 * The strict HubSpot and Slack stand-ins for the sync-queue suites: started once per file, reset with Firestore
 * before each test, HubSpot set up as `npm run hubspot:setup` would. `set` receives them before every test.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { HubspotCrmConfig } from "../../functions/src/sinks/hubspot";
import { startHubspotServer, type HubspotServer } from "../vendors/hubspotServer";
import { startSlackServer, type SlackServer } from "../vendors/slackServer";
import { resetFirestore } from "./firestore";
import { setUpHubspot } from "./hubspot";

export interface QueueStandIns {
  hubspot: HubspotServer;
  slack: SlackServer;
  crmConfig: HubspotCrmConfig;
}

export function useQueueStandIns(set: (s: QueueStandIns) => void): void {
  let hubspot: HubspotServer | null = null;
  let slack: SlackServer | null = null;
  beforeAll(async () => {
    hubspot = await startHubspotServer();
    slack = await startSlackServer({ perSecond: Infinity });
  });
  afterAll(async () => {
    await Promise.all([hubspot?.close(), slack?.close()]);
  });
  beforeEach(async () => {
    if (!hubspot || !slack) throw new Error("stand-ins did not start");
    await resetFirestore();
    hubspot.reset();
    slack.reset();
    set({ hubspot, slack, crmConfig: await setUpHubspot(hubspot, { timeoutMs: 2000 }) });
  });
}
