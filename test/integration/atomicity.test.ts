/**
 * The ack is one durable write; applying is one transaction. A failure while applying leaves the ledger entry
 * `received` and nothing else behind; applying again (the trigger's retry, or the sweep) applies it once.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { applyRecordedEvent } from "../../functions/src/store/ingest";
import { deliver } from "../support/deliver";
import { dumpAll, resetFirestore, testDb } from "../support/firestore";
import { checkoutSession, stripeEvent, uniq } from "../support/stripeFixtures";

const db = testDb();

describe("atomicity", () => {
  beforeEach(resetFirestore);

  it("an injected failure inside the apply transaction leaves only the received ledger entry; the retry then applies once", async () => {
    const uid = uniq("user");
    const event = stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "subscription", customer: uniq("cus"), clientReferenceId: uid }));
    await expect(
      deliver(db, event, {
        beforeCommit: () => {
          throw new Error("injected: Firestore write failed");
        },
      }),
    ).rejects.toThrow(/injected/);
    expect(Object.keys(await dumpAll(db))).toEqual([`stripeEvents/${event.id}`]);
    expect((await db.doc(`stripeEvents/${event.id}`).get()).get("status")).toBe("received");

    // A second delivery is a duplicate: the entry is durable, Stripe need not retry.
    const again = await deliver(db, event);
    expect(again).toMatchObject({ status: 200, body: { status: "received", duplicate: true } });

    const applied = await applyRecordedEvent(db, event.id, { graceDays: 3 });
    expect(applied).toMatchObject({ status: "applied", duplicate: false });
    expect((await db.doc(`customers/${uid}`).get()).exists).toBe(true);
    expect(await applyRecordedEvent(db, event.id, { graceDays: 3 })).toMatchObject({ status: "applied", duplicate: true });
  });
});
