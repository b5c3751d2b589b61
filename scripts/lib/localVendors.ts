/**
 * Local stand-ins for HubSpot, Zendesk, Slack and the Stripe API (reads) on fixed ports, started with the emulators when the demo
 * project points at them (functions/.env.demo-opsync). A developer who sets real base URLs in
 * functions/.env.local gets the real services instead.
 */
import { randomBytes } from "node:crypto";
import type { RefundStageIds } from "../../functions/src/domain/syncModel";
import { ensureHubspotProperties, ensureRefundStages } from "../../functions/src/sinks/hubspotSetup";
import { startHubspotServer } from "../../test/vendors/hubspotServer";
import { startSlackServer } from "../../test/vendors/slackServer";
import { startStripeServer } from "../../test/vendors/stripeServer";
import { startZendeskServer } from "../../test/vendors/zendeskServer";
import { ensureLocalSecrets, localParams } from "./localSecret";

export const LOCAL_PORTS = { hubspot: 4610, zendesk: 4620, slack: 4630, stripe: 4640 } as const;
const SLACK_PATH = "/services/T000/B000/XXXX";

export interface LocalVendors {
  started: string[];
  close(): Promise<void>;
}

const isLocal = (url: string | undefined, port: number) => url === `http://127.0.0.1:${port}`;

export async function startLocalVendors(log: (line: string) => void = console.log): Promise<LocalVendors> {
  const secrets = ensureLocalSecrets({
    HUBSPOT_TOKEN: () => `pat-local-${randomBytes(12).toString("hex")}`,
    ZENDESK_TOKEN: () => `local-${randomBytes(12).toString("hex")}`,
    SLACK_WEBHOOK_URL: () => `http://127.0.0.1:${LOCAL_PORTS.slack}${SLACK_PATH}`,
    STRIPE_SECRET_KEY: () => `sk_test_local_${randomBytes(12).toString("hex")}`,
  });
  const params = localParams();
  const closers: Array<() => Promise<void>> = [];
  const started: string[] = [];

  const hubspotUrl = params.get("HUBSPOT_BASE_URL");
  if (isLocal(hubspotUrl, LOCAL_PORTS.hubspot)) {
    const token = secrets.get("HUBSPOT_TOKEN") ?? "";
    const hubspot = await startHubspotServer({ port: LOCAL_PORTS.hubspot, token });
    await ensureHubspotProperties({ accessToken: token, basePath: hubspot.url });
    // What `npm run hubspot:setup` does for a real portal: the refund stages get generated ids, stored in ops/hubspot.
    const { created: _created, ...stageIds } = await ensureRefundStages({ accessToken: token, basePath: hubspot.url });
    const stopStoring = storeStageIdsWhenFirestoreUp(stageIds, log);
    closers.push(async () => {
      stopStoring();
      await hubspot.close();
    });
    started.push(`HubSpot ${hubspot.url}`);
  }
  if (isLocal(params.get("ZENDESK_BASE_URL"), LOCAL_PORTS.zendesk)) {
    const zendesk = await startZendeskServer({
      port: LOCAL_PORTS.zendesk,
      email: params.get("ZENDESK_EMAIL") ?? "agent@opsync.local",
      token: secrets.get("ZENDESK_TOKEN") ?? "",
    });
    closers.push(() => zendesk.close());
    started.push(`Zendesk ${zendesk.url}`);
  }
  if ((secrets.get("SLACK_WEBHOOK_URL") ?? "").startsWith(`http://127.0.0.1:${LOCAL_PORTS.slack}/`)) {
    const slack = await startSlackServer({ port: LOCAL_PORTS.slack, webhookPaths: [SLACK_PATH] });
    let shown = 0;
    // Show what a founder would see in the channel.
    const timer = setInterval(() => {
      const messages = slack.messages();
      for (const m of messages.slice(shown)) log(`[local slack] ${m.text}`);
      shown = messages.length;
    }, 500);
    timer.unref();
    closers.push(async () => {
      clearInterval(timer);
      await slack.close();
    });
    started.push(`Slack ${slack.url.replace(SLACK_PATH, "/services/…")}`);
  }
  if (isLocal(params.get("STRIPE_API_BASE_URL"), LOCAL_PORTS.stripe)) {
    // Knows only what is seeded into it (POST /__seed, docs/local-stripe.md): anything else answers 404, as Stripe does
    // for an event older than 30 days.
    const stripe = await startStripeServer({ port: LOCAL_PORTS.stripe, secretKey: secrets.get("STRIPE_SECRET_KEY") ?? "" });
    closers.push(() => stripe.close());
    started.push(`Stripe API ${stripe.url}`);
  }
  return {
    started,
    close: async () => {
      await Promise.all(closers.map((c) => c()));
    },
  };
}

const FIRESTORE = process.env.FIRESTORE_EMULATOR_HOST ?? "127.0.0.1:8080";
const PROJECT = "demo-opsync";

/**
 * The Firestore emulator starts after the stand-ins, so the stage ids are written once it answers (over REST, as
 * its admin). Returns a function that stops waiting.
 */
function storeStageIdsWhenFirestoreUp(ids: RefundStageIds, log: (line: string) => void): () => void {
  const url = `http://${FIRESTORE}/v1/projects/${PROJECT}/databases/(default)/documents/ops/hubspot`;
  const fields = {
    pipelineId: { stringValue: ids.pipelineId },
    stages: { mapValue: { fields: { refunded: { stringValue: ids.stages.refunded }, partially_refunded: { stringValue: ids.stages.partially_refunded } } } },
    checkedAt: { timestampValue: new Date().toISOString() },
  };
  let stopped = false;
  const attempt = async (left: number): Promise<void> => {
    if (stopped || left === 0) return;
    try {
      const res = await fetch(url, {
        method: "PATCH",
        headers: { authorization: "Bearer owner", "content-type": "application/json" },
        body: JSON.stringify({ fields }),
        signal: AbortSignal.timeout(2000),
      });
      if (res.ok) return;
    } catch {
      // Not up yet: try again below.
    }
    await new Promise((r) => setTimeout(r, 1000).unref());
    return attempt(left - 1);
  };
  void attempt(120).then(() => {
    if (!stopped) log("local HubSpot refund stage ids stored in ops/hubspot");
  });
  return () => {
    stopped = true;
  };
}
