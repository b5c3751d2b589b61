/**
 * The full demo (`npm run demo`, no flag): one subscriber's life and one marketplace order through the webhook,
 * the sync queue followed to the end, then what opsync recorded and what HubSpot, Auth and Slack got — all checked.
 */
import { outsideSystems, summarize } from "./outside";
import { reportDeadJobs, waitForQueue } from "./queue";
import { withTimeout } from "./records";
import { connect, type DemoConfig } from "./stack";
import { runStep, type RunState } from "./steps";
import { marketplaceStory, subscriberStory, type Cast } from "./story";
import { uniq } from "../../test/support/stripeFixtures";

function newCast(): Cast {
  const uid = uniq("demo_user");
  const buyerUid = uniq("demo_buyer");
  return {
    uid,
    email: `ada.${uid.slice(-6)}@example.com`,
    cus: uniq("cus"),
    sub: uniq("sub"),
    buyerUid,
    sellerUid: uniq("demo_seller"),
    orderId: uniq("order"),
  };
}

/** Claims jobs need an Auth user to write to: sign-up comes before checkout in a real app too. */
async function createAuthUsers(run: RunState): Promise<void> {
  const { auth, cast } = run;
  await withTimeout(auth.createUser({ uid: cast.uid, email: cast.email, displayName: "Ada Lovelace" }), "creating the subscriber's Auth user");
  await withTimeout(
    auth.createUser({ uid: cast.buyerUid, email: `grace.${cast.buyerUid.slice(-6)}@example.com`, displayName: "Grace Hopper" }),
    "creating the buyer's Auth user",
  );
}

export async function runFullDemo(cfg: DemoConfig): Promise<number> {
  const conn = connect(cfg, "opsync-demo");
  const run: RunState = { cfg, db: conn.db, auth: conn.auth, cast: newCast(), eventIds: new Set(), failures: [], n: 0 };
  try {
    console.log(`opsync demo → ${cfg.webhookUrl}\n`);
    await createAuthUsers(run);
    console.log(`Subscriber ${run.cast.uid} <${run.cast.email}> (Stripe customer ${run.cast.cus}; signed up in Auth first)`);
    for (const step of subscriberStory(run.cast)) await runStep(run, step, "customer");
    console.log(`\nMarketplace order ${run.cast.orderId} (buyer ${run.cast.buyerUid}, seller ${run.cast.sellerUid})`);
    for (const step of marketplaceStory(run.cast)) await runStep(run, step, "order");
    const jobs = await waitForQueue(run);
    reportDeadJobs(run, jobs);
    await summarize(run, jobs);
    await outsideSystems(run, jobs);
  } finally {
    await conn.close();
  }
  if (run.failures.length) {
    console.error(`\nDEMO FAILED: ${run.failures.length} problem(s):`);
    for (const f of run.failures) console.error(`  - ${f}`);
    return 1;
  }
  console.log("\nDemo passed: every event was accepted, the sync queue finished its work, and HubSpot, Auth and Slack got it.");
  return 0;
}
