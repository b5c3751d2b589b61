/**
 * The missed-event sweep against the Stripe stand-in's Events API: a never-delivered event is applied through the
 * ledger with source `sweep`, events the ledger has are skipped, and a webhook delivery of the same event racing
 * the sweep applies it once.
 */
import { describe, expect, it } from "vitest";
import { sweepEvents } from "../../functions/src/services/eventSweep";
import { stripeReadClient } from "../../functions/src/sinks/stripeApi";
import type { StripeServer } from "../vendors/stripeServer";
import { useStripeStandIn } from "../support/stripeAccount";
import { deliver } from "../support/deliver";
import { countDocs, testDb } from "../support/firestore";
import { checkoutSession, stripeEvent, uniq } from "../support/stripeFixtures";

const KEY = "sk_test_sweep";
let stripe: StripeServer;
useStripeStandIn(KEY, (s) => (stripe = s));

const deps = () => ({ db: testDb(), stripe: stripeReadClient({ secretKey: KEY, host: "127.0.0.1", port: stripe.port, protocol: "http" }), graceDays: 3, acceptLivemode: false });

function checkoutEvent(uid: string) {
  const cus = uniq("cus");
  return stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "payment", customer: cus, clientReferenceId: uid }));
}

describe("missed-event sweep", () => {
  it("applies a never-delivered event, skips delivered ones, and records the high-water mark", async () => {
    const delivered = checkoutEvent("u_delivered");
    const missed = checkoutEvent("u_missed");
    stripe.seedEvent(delivered);
    stripe.seedEvent(missed);
    const db = testDb();
    await deliver(db, delivered);

    const dry = await sweepEvents(deps(), { dryRun: true });
    expect(dry).toMatchObject({ listed: 2, skipped: 1, missing: [missed.id], applied: 0 });
    expect((await db.doc(`stripeEvents/${missed.id}`).get()).exists).toBe(false);

    const report = await sweepEvents(deps());
    expect(report).toMatchObject({ listed: 2, skipped: 1, applied: 1, missing: [missed.id] });
    expect((await db.doc(`stripeEvents/${missed.id}`).get()).data()).toMatchObject({ status: "applied", source: "sweep", uid: "u_missed" });
    expect((await db.doc("customers/u_missed").get()).exists).toBe(true);
    const state = (await db.doc("ops/eventSweep").get()).data();
    expect(state).toMatchObject({ applied: 1, listed: 2 });
    expect(state?.highWaterMark).toBeTruthy();

    // The next sweep starts at the high-water mark (these events are older); --since looks further back.
    expect(await sweepEvents(deps())).toMatchObject({ listed: 0, applied: 0 });
    const again = await sweepEvents(deps(), { since: new Date(Date.now() - 2 * 3_600_000) });
    expect(again).toMatchObject({ listed: 2, applied: 0, skipped: 2, missing: [] });
  });

  it("applies an event once when its webhook delivery races the sweep", async () => {
    const event = checkoutEvent("u_race");
    stripe.seedEvent(event);
    const db = testDb();
    let webhook: Awaited<ReturnType<typeof deliver>> | null = null;
    const report = await sweepEvents({
      ...deps(),
      // The delivery lands after the sweep saw the ledger lacked the event, before the sweep records it.
      beforeIngest: async () => {
        webhook = await deliver(db, event);
      },
    });
    expect(webhook).toMatchObject({ status: 200, body: { status: "applied", duplicate: false } });
    expect(report).toMatchObject({ applied: 0, skipped: 1 });
    const ledger = (await db.doc(`stripeEvents/${event.id}`).get()).data();
    expect(ledger).toMatchObject({ status: "applied", source: "webhook" });
    // Every job for the customer was planned by the webhook's apply, none by the sweep.
    const jobs = await db.collection("syncJobs").where("target.uid", "==", "u_race").get();
    expect(jobs.size).toBeGreaterThan(0);
    expect(jobs.docs.every((d) => d.get("cause.eventId") === event.id)).toBe(true);
    expect(await countDocs(db, "customers")).toBe(1);
  });
});
