/**
 * A support request may name only an order its filer bought or sold (real Firestore emulator): the server
 * refuses a foreign, missing or path-like orderId with a reason naming it, plans no ticket and writes nothing on
 * the order; and the ticket job itself refuses to attach a ticket to an order that is not the requester's.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { JobSpec } from "../../functions/src/domain/model";
import { MemoryCrm, MemoryHelpdesk } from "../fakes/memorySinks";
import { newJobDoc } from "../../functions/src/store/jobs";
import { handleSupportRequest } from "../../functions/src/services/support";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { data, jobs } from "../support/read";
import { harness, RecordingClaims } from "../support/syncHarness";
import { paymentIntent, stripeEvent, uniq } from "../support/stripeFixtures";

const db = testDb();

async function paidOrder() {
  const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
  await deliver(db, stripeEvent("payment_intent.succeeded", paymentIntent({ id: uniq("pi"), status: "succeeded", metadata: meta })));
  return meta;
}

async function fileRequest(uid: string, fields: Record<string, unknown> = {}) {
  const ref = db.collection("supportRequests").doc();
  await ref.set({ uid, subject: "Where is my parcel?", message: "Nothing arrived.", category: "order", createdAt: new Date(), ...fields });
  return ref.id;
}

describe("support request ownership of orderId", () => {
  beforeEach(resetFirestore);

  it("the buyer and the seller of an order may name it: received, with the order on the ticket job", async () => {
    const o = await paidOrder();
    for (const uid of [o.buyerUid, o.sellerUid]) {
      const id = await fileRequest(uid, { orderId: o.orderId });
      expect(await handleSupportRequest(db, id, new Date())).toMatchObject({ status: "received" });
      expect(await data(db, `supportRequests/${id}`)).toMatchObject({ status: "received" });
    }
    const ticketJobs = await jobs(db, { kind: "helpdesk.ticket.create" });
    expect(ticketJobs.map((j) => j.target)).toEqual(expect.arrayContaining([expect.objectContaining({ uid: o.buyerUid, orderId: o.orderId }), expect.objectContaining({ uid: o.sellerUid, orderId: o.orderId })]));
  });

  it("someone else's order: rejected naming orderId, no job, the victim's order unchanged", async () => {
    const o = await paidOrder();
    const orderBefore = await data(db, `orders/${o.orderId}`);
    const jobsBefore = (await jobs(db)).length;
    const id = await fileRequest(uniq("attacker"), { orderId: o.orderId, subject: "Injected subject" });
    const outcome = await handleSupportRequest(db, id, new Date());
    expect(outcome).toEqual({ status: "rejected", reason: expect.stringContaining("orderId") });
    expect(await data(db, `supportRequests/${id}`)).toMatchObject({ status: "rejected", reason: expect.stringContaining("orderId") });
    expect(await jobs(db)).toHaveLength(jobsBefore);
    expect(await jobs(db, { kind: "helpdesk.ticket.create" })).toEqual([]);
    expect(await data(db, `orders/${o.orderId}`)).toEqual(orderBefore);
  });

  it("an order that does not exist: the same rejection (the reason does not tell which order ids exist)", async () => {
    const o = await paidOrder();
    const foreign = await handleSupportRequest(db, await fileRequest(uniq("attacker"), { orderId: o.orderId }), new Date());
    const missing = await handleSupportRequest(db, await fileRequest(uniq("user"), { orderId: uniq("order") }), new Date());
    expect(missing).toEqual({ status: "rejected", reason: expect.stringContaining("orderId") });
    expect(missing).toEqual(foreign);
    expect(await jobs(db, { kind: "helpdesk.ticket.create" })).toEqual([]);
  });

  const pathLike: Array<[string, RegExp]> = [
    ["a/b", /^orderId must not contain "\/"/],
    ["..", /^orderId must not be "\." or "\.\."/],
    ["__x__", /^orderId must not look like __reserved__/],
  ];
  for (const [orderId, reason] of pathLike) {
    it(`a path-like orderId ${JSON.stringify(orderId)} is rejected with a reason, never read as a path`, async () => {
      const id = await fileRequest(uniq("user"), { orderId });
      expect(await handleSupportRequest(db, id, new Date())).toEqual({ status: "rejected", reason: expect.stringMatching(reason) });
      expect(await data(db, `supportRequests/${id}`)).toMatchObject({ status: "rejected", reason: expect.stringMatching(reason) });
      expect(await jobs(db)).toEqual([]);
    });
  }

  it("the ticket job refuses an order that is not the requester's: dead, no ticket, nothing written on the order", async () => {
    // A job as it would look had the request check been bypassed (e.g. a job written before this check existed).
    const o = await paidOrder();
    const attacker = uniq("attacker");
    const requestId = await fileRequest(attacker, { orderId: o.orderId, subject: "Injected subject" });
    const spec: JobSpec = {
      kind: "helpdesk.ticket.create",
      target: { uid: attacker, supportRequestId: requestId, orderId: o.orderId },
      idempotencyKey: `support:${requestId}`,
      reason: "support_request",
    };
    const jobId = `support_${requestId}.helpdesk`;
    await db.doc(`syncJobs/${jobId}`).set(newJobDoc(jobId, spec, { type: "supportRequest", jobId: requestId }, new Date()));
    await db.doc(`supportRequests/${requestId}`).update({ status: "received", jobId });
    const orderBefore = await data(db, `orders/${o.orderId}`);
    const helpdesk = new MemoryHelpdesk();
    const h = harness(db, { crm: new MemoryCrm(), helpdesk, claims: new RecordingClaims(), notify: null, stripe: null });
    await h.deps.dispatcher.dispatch(jobId, 0);
    await h.idle();

    expect(await data(db, `syncJobs/${jobId}`)).toMatchObject({ status: "dead", deadReason: "permanent", lastError: { message: expect.stringContaining("not the requester's") } });
    expect(helpdesk.tickets()).toEqual([]);
    expect(await data(db, `orders/${o.orderId}`)).toEqual(orderBefore);
    expect(await data(db, `supportRequests/${requestId}`)).toMatchObject({ status: "received" });
  });
});
