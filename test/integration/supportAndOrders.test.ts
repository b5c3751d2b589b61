/** Firestore-trigger work: support requests, new users, staff edits (supportTier, staff notes), order fulfilment (real Firestore emulator). */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HubspotCrm, HubspotTickets, type HubspotCrmConfig } from "../../functions/src/sinks/hubspot";
import { MemoryNotify } from "../fakes/memorySinks";
import { fulfillOrder } from "../../functions/src/services/orderFulfillment";
import { ensureCustomerForUser, handleCustomerEdit, handleStaffNotesEdit, handleSupportRequest } from "../../functions/src/services/support";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { audits, data, jobs } from "../support/read";
import { harness, RecordingClaims } from "../support/syncHarness";
import { customer, paymentIntent, price, stripeEvent, subscription, uniq } from "../support/stripeFixtures";
import { setUpHubspot } from "../support/hubspot";
import { startHubspotServer, type HubspotServer } from "../vendors/hubspotServer";

const db = testDb();
let hubspot: HubspotServer;
let crmConfig: HubspotCrmConfig;

async function fileRequest(uid: string, fields: Record<string, unknown> = {}) {
  const ref = db.collection("supportRequests").doc();
  await ref.set({ uid, subject: "Cannot export", message: "The export button does nothing.", category: "bug", createdAt: new Date(), ...fields });
  return ref.id;
}

describe("support requests", () => {
  beforeAll(async () => {
    hubspot = await startHubspotServer();
  });
  afterAll(() => hubspot.close());
  beforeEach(async () => {
    await resetFirestore();
    hubspot.reset();
    crmConfig = await setUpHubspot(hubspot);
  });

  it("a valid request: received → ticket with billing context → ticket_created → notified; twice-fired trigger plans one job", async () => {
    const uid = uniq("user");
    const cus = uniq("cus");
    await deliver(db, stripeEvent("customer.created", customer({ id: cus, uid, email: "pay@example.com" })));
    await deliver(db, stripeEvent("customer.subscription.created", subscription({ id: uniq("sub"), customer: cus, status: "active", price: price({ id: "price_pro", lookupKey: "pro", entitlements: "x" }) })));
    // The request names an order the user bought (a foreign or missing one is refused: supportRequestOwnership.test.ts).
    const orderId = uniq("order");
    await deliver(db, stripeEvent("payment_intent.succeeded", paymentIntent({ id: uniq("pi"), status: "succeeded", metadata: { orderId, buyerUid: uid, sellerUid: uniq("seller") } })));
    const id = await fileRequest(uid, { category: "billing", orderId, appVersion: "2.3.1", device: "iPhone 15" });
    const first = await handleSupportRequest(db, id, new Date());
    expect(first.status).toBe("received");
    expect(await handleSupportRequest(db, id, new Date())).toEqual({ status: "already_handled" });
    const ticketJobs = await jobs(db, { kind: "helpdesk.ticket.create" });
    expect(ticketJobs).toHaveLength(1);
    expect(ticketJobs[0]).toMatchObject({ target: { uid, supportRequestId: id, orderId }, idempotencyKey: `support:${id}` });

    const cfg = crmConfig;
    const notify = new MemoryNotify();
    const h = harness(db, { crm: new HubspotCrm(cfg), helpdesk: new HubspotTickets(cfg), claims: new RecordingClaims(), notify, stripe: null });
    await h.runPending();
    const afterTicket = await data(db, `supportRequests/${id}`);
    expect(afterTicket).toMatchObject({ status: "ticket_created", helpdesk: "hubspot" });
    const [ticket] = hubspot.tickets();
    expect(ticket?.properties.subject).toBe("Cannot export");
    expect(ticket?.properties.hs_ticket_priority).toBe("HIGH"); // paying customer
    expect(ticket?.properties.content).toContain("pro");
    await h.runPending();
    expect(await data(db, `supportRequests/${id}`)).toMatchObject({ status: "notified", ticketId: ticket?.id });
    expect(notify.posts).toHaveLength(1);
    // The subject the customer typed stays in the helpdesk; Slack gets the category.
    expect(notify.posts[0]?.text).toContain("in-app support request");
    expect(notify.posts[0]?.text).not.toContain("Cannot export");
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ["bad category", { category: "complaint" }, /category must be one of/],
    ["unknown field", { priority: "urgent" }, /unknown field "priority"/],
    ["empty subject", { subject: "  " }, /subject: subject is empty/],
    ["long message", { message: "x".repeat(5001) }, /message: message is longer than 5000/],
  ];
  for (const [name, fields, reason] of invalid) {
    it(`rejects a request with ${name}, with a reason a person can read`, async () => {
      const id = await fileRequest(uniq("user"), fields);
      const outcome = await handleSupportRequest(db, id, new Date());
      expect(outcome.status).toBe("rejected");
      expect(await data(db, `supportRequests/${id}`)).toMatchObject({ status: "rejected", reason: expect.stringMatching(reason) });
      expect(await jobs(db)).toEqual([]);
    });
  }

  it("rate limits to 5 requests per user per hour with a clear rejection", async () => {
    const uid = uniq("user");
    for (let i = 0; i < 5; i++) expect((await handleSupportRequest(db, await fileRequest(uid), new Date())).status).toBe("received");
    const sixth = await fileRequest(uid);
    expect(await handleSupportRequest(db, sixth, new Date())).toMatchObject({ status: "rejected", reason: expect.stringContaining("at most 5 support requests per hour") });
    // Another user is not affected.
    expect((await handleSupportRequest(db, await fileRequest(uniq("user")), new Date())).status).toBe("received");
  });
});

describe("new users and staff edits", () => {
  beforeEach(resetFirestore);

  it("a new Auth user gets one canonical record and one CRM job, however often the trigger fires", async () => {
    const uid = uniq("user");
    expect(await ensureCustomerForUser(db, { uid, email: "new@example.com", displayName: "New Person" }, new Date())).toBe(true);
    expect(await ensureCustomerForUser(db, { uid, email: "new@example.com", displayName: "New Person" }, new Date())).toBe(false);
    expect(await data(db, `customers/${uid}`)).toMatchObject({ uid, email: "new@example.com", name: "New Person", subscriptionStatus: null, entitlements: [] });
    expect(await jobs(db, { kind: "crm.contact.upsert" })).toHaveLength(1);
  });

  it("a staff edit of supportTier plans a CRM resync and an audit entry; server writes do not", async () => {
    const uid = uniq("user");
    await ensureCustomerForUser(db, { uid, email: null, displayName: null }, new Date());
    const before = (await db.doc(`customers/${uid}`).get()).data() ?? {};
    const edited = { ...before, supportTier: "vip", lastEditedBy: "admin_1" };
    await db.doc(`customers/${uid}`).set(edited); // what the admin's client wrote
    expect(await handleCustomerEdit(db, uid, "evt-edit-1", before, edited, new Date())).toBe(true);
    expect(await handleCustomerEdit(db, uid, "evt-edit-1", before, edited, new Date())).toBe(true);
    const resyncs = (await jobs(db, { kind: "crm.contact.upsert" })).filter((j) => String(j.reason).startsWith("staff edit"));
    expect(resyncs).toHaveLength(1);
    const entries = (await audits(db)).filter((a) => a.action === "customer.staff_edit");
    expect(entries).toEqual([expect.objectContaining({ actor: { type: "user", id: "admin_1" }, target: `customers/${uid}`, after: { supportTier: "vip" } })]);
    // The editor's uid is kept in the audit entry, not on the record the customer reads.
    expect(await data(db, `customers/${uid}`)).toMatchObject({ supportTier: "vip", supportTierSource: "staff" });
    expect(await data(db, `customers/${uid}`)).not.toHaveProperty("lastEditedBy");
    const serverWrite = { ...before, supportTier: "priority", updatedAt: new Date(Date.now() + 1000) };
    expect(await handleCustomerEdit(db, uid, "evt-server-1", before, serverWrite, new Date())).toBe(false);
  });

  it("a staff edit of internalNotes (customers/{uid}/staff/notes) is audited there and resynced; server writes are not; the customer's record never holds it", async () => {
    const uid = uniq("user");
    await ensureCustomerForUser(db, { uid, email: null, displayName: null }, new Date());
    const created = { internalNotes: "Founder's friend", lastEditedBy: "admin_1" };
    expect(await handleStaffNotesEdit(db, uid, "evt-notes-1", {}, created, new Date())).toBe(true);
    expect(await handleStaffNotesEdit(db, uid, "evt-notes-1", {}, created, new Date())).toBe(true);
    const edited = { ...created, internalNotes: "Founder's friend; prefers email", lastEditedBy: "admin_2" };
    expect(await handleStaffNotesEdit(db, uid, "evt-notes-2", created, edited, new Date())).toBe(true);

    // Both edits (and the sign-up) resync through the customer's one live contact job: still waiting, it folds them.
    const resyncs = await jobs(db, { kind: "crm.contact.upsert" });
    expect(resyncs.map((j) => j.jobId)).toEqual([`live.crm.contact.upsert.${uid}`]);
    expect(resyncs[0]).toMatchObject({ status: "pending", reason: "staff edit: internalNotes" });
    expect(Number(resyncs[0]?.coalesced)).toBeGreaterThanOrEqual(2);
    const entries = (await audits(db)).filter((a) => a.action === "customer.staff_edit");
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor: { type: "user", id: "admin_1" }, target: `customers/${uid}/staff/notes`, before: { internalNotes: null }, after: { internalNotes: "Founder's friend" } }),
        expect.objectContaining({ actor: { type: "user", id: "admin_2" }, after: { internalNotes: "Founder's friend; prefers email" } }),
      ]),
    );
    expect(entries).toHaveLength(2);
    // A server write (ticket notes from resolveFailedPayment) moves updatedAt and is no staff edit.
    const serverWrite = { ...edited, tickets: { "failed-renewal:in_1": { notes: [] } }, updatedAt: new Date() };
    expect(await handleStaffNotesEdit(db, uid, "evt-server-2", edited, serverWrite, new Date())).toBe(false);
    const record = await data(db, `customers/${uid}`);
    expect(record).not.toHaveProperty("internalNotes");
    expect(record).not.toHaveProperty("lastEditedBy");
  });
});

describe("order fulfilment", () => {
  beforeEach(resetFirestore);

  async function paidOrder() {
    const meta = { orderId: uniq("order"), buyerUid: uniq("buyer"), sellerUid: uniq("seller") };
    await deliver(db, stripeEvent("payment_intent.succeeded", paymentIntent({ id: uniq("pi"), status: "succeeded", metadata: meta })));
    return meta;
  }

  it("the seller moves paid → in_fulfillment → completed; each step audited with a deal resync", async () => {
    const o = await paidOrder();
    const seller = { uid: o.sellerUid, roles: [] };
    expect(await fulfillOrder(db, { orderId: o.orderId, status: "in_fulfillment" }, seller, new Date())).toMatchObject({ ok: true, changed: true });
    expect(await fulfillOrder(db, { orderId: o.orderId, status: "completed" }, seller, new Date())).toMatchObject({ ok: true, to: "completed" });
    const order = await data(db, `orders/${o.orderId}`);
    expect((order?.history as Array<{ to: string; by: string }>).slice(-2)).toEqual([
      expect.objectContaining({ to: "in_fulfillment", by: `seller:${o.sellerUid}` }),
      expect.objectContaining({ to: "completed" }),
    ]);
    expect((await audits(db)).filter((a) => a.action === "order.transition")).toHaveLength(2);
  });

  it("refuses the buyer, and refuses an illegal transition with the reason (recorded, not applied)", async () => {
    const o = await paidOrder();
    expect(await fulfillOrder(db, { orderId: o.orderId, status: "in_fulfillment" }, { uid: o.buyerUid, roles: [] }, new Date())).toMatchObject({ ok: false, code: "permission_denied" });
    const illegal = await fulfillOrder(db, { orderId: o.orderId, status: "completed" }, { uid: "admin_1", roles: ["admin"] }, new Date());
    expect(illegal).toMatchObject({ ok: false, code: "illegal_transition", reason: expect.stringContaining("paid to completed") });
    const order = await data(db, `orders/${o.orderId}`);
    expect(order?.status).toBe("paid");
    expect(order?.rejectedTransitions).toEqual([expect.objectContaining({ to: "completed", by: "admin:admin_1" })]);
    expect(await fulfillOrder(db, { orderId: "order_missing", status: "completed" }, { uid: "admin_1", roles: ["admin"] }, new Date())).toMatchObject({ code: "not_found" });
  });
});
