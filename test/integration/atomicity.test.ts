/** A failure anywhere in the transaction leaves nothing behind and asks Stripe to retry. */
import { beforeEach, describe, expect, it } from "vitest";
import { deliver } from "../support/deliver";
import { dumpAll, resetFirestore, testDb } from "../support/firestore";
import { checkoutSession, stripeEvent, uniq } from "../support/stripeFixtures";

const db = testDb();

describe("atomicity", () => {
  beforeEach(resetFirestore);

  it("an injected failure inside the transaction -> 500, nothing written; the retry then applies once", async () => {
    const uid = uniq("user");
    const event = stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "subscription", customer: uniq("cus"), clientReferenceId: uid }));
    const failed = await deliver(db, event, {
      beforeCommit: () => {
        throw new Error("injected: Firestore write failed");
      },
    });
    expect(failed.status).toBe(500);
    expect(String(failed.body.error)).toContain(event.id);
    expect(await dumpAll(db)).toEqual({});

    const retried = await deliver(db, event);
    expect(retried).toMatchObject({ status: 200, body: { status: "applied", duplicate: false } });
    expect((await db.doc(`customers/${uid}`).get()).exists).toBe(true);
  });
});
