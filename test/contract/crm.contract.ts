/**
 * The CrmPort contract: one suite that every implementation (HubSpot adapter against the local HubSpot server,
 * the in-memory fake) must pass, so the fake the queue tests use behaves like the real thing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PermanentError, TransientError } from "../../functions/src/domain/errors";
import type { ContactState, CrmPort, CrmReadPort, DealStage, DealState } from "../../functions/src/sinks/ports";

/** A vendor-neutral view of a stored contact. */
export interface ContactView {
  id: string;
  uid: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  plan: string | null;
  subscriptionStatus: string | null;
  mrr: number | null;
  /** ISO timestamp. */
  lastPaymentAt: string | null;
  stripeCustomerId: string | null;
  /** The vendor's lifecycle stage value (forward-only in HubSpot). */
  lifecycleStage: string | null;
}

export interface DealView {
  id: string;
  key: string;
  name: string;
  /** The vendor's own stage name; compare with `vendorStage(...)`. */
  stage: string;
  amount: number | null;
  contactIds: string[];
}

export interface CrmSubject {
  crm: CrmPort & CrmReadPort;
  /** Creates a contact directly in the vendor, as a person or a form would, outside opsync. */
  seedContact(seed: { email: string; uid?: string; firstName?: string }): Promise<string>;
  contacts(): Promise<ContactView[]>;
  deals(): Promise<DealView[]>;
  /** The stage id the vendor stores for `stage` (for refunds: the id setup found or created, never a name). */
  vendorStage(stage: DealStage): string;
  /** The next call is rate limited by the vendor with this Retry-After. */
  rateLimitNext(retryAfterSeconds: number): void;
  close(): Promise<void>;
}

export interface SubjectOptions {
  /** false: the refund stage ids were never stored (setup not run). Default true. */
  refundStagesStored?: boolean;
}

export function contactState(overrides: Partial<ContactState> = {}): ContactState {
  return {
    uid: "u_1",
    email: "ann@example.com",
    firstName: "Ann",
    lastName: "Lee",
    lifecycleStage: "customer",
    plan: "pro",
    subscriptionStatus: "active",
    mrr: 49.5,
    lastPaymentAt: new Date("2026-11-20T10:00:00.000Z"),
    stripeCustomerId: "cus_1",
    ...overrides,
  };
}

export function dealState(overrides: Partial<DealState> = {}): DealState {
  return { key: "order:ord_1", name: "Pro plan (order ord_1)", stage: "open", amount: 99, currency: "usd", contactId: null, ...overrides };
}

const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());

/** Runs every call; rejected ones must be TransientError and succeed when retried once. */
async function settleWithRetry<T>(calls: Array<() => Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(calls.map((c) => c()));
  return Promise.all(
    settled.map(async (r, i) => {
      if (r.status === "fulfilled") return r.value;
      expect(r.reason).toBeInstanceOf(TransientError);
      const retry = calls[i];
      if (!retry) throw new Error("no call");
      return retry();
    }),
  );
}

export function crmContract(name: string, makeSubject: (opts?: SubjectOptions) => Promise<CrmSubject>): void {
  describe(`CrmPort contract: ${name}`, () => {
    let s: CrmSubject;
    beforeEach(async () => {
      s = await makeSubject();
    });
    afterEach(async () => {
      await s.close();
    });

    describe("batched reads (reconciliation)", () => {
      it("reads contacts by opsync_uid and deals by opsync_deal_key, absent keys left out", async () => {
        await s.crm.upsertContact(contactState({ uid: "u_r1", email: "r1@example.com", plan: "pro", subscriptionStatus: "active", stripeCustomerId: "cus_r1" }));
        await s.crm.upsertContact(contactState({ uid: "u_r2", email: "r2@example.com", plan: null, subscriptionStatus: null, stripeCustomerId: null, mrr: null }));
        await s.crm.upsertDeal(dealState({ key: "subscription:sub_r1", stage: "won" }));
        const contacts = await s.crm.readContacts(["u_r1", "u_r2", "u_none"]);
        expect([...contacts.keys()].sort()).toEqual(["u_r1", "u_r2"]);
        expect(contacts.get("u_r1")?.properties).toMatchObject({ opsync_plan: "pro", opsync_subscription_status: "active", opsync_stripe_customer_id: "cus_r1" });
        expect(contacts.get("u_r2")?.properties).toMatchObject({ opsync_plan: null, opsync_subscription_status: null, opsync_stripe_customer_id: null });
        const deals = await s.crm.readDeals(["subscription:sub_r1", "subscription:sub_none"]);
        expect([...deals.keys()]).toEqual(["subscription:sub_r1"]);
        expect(deals.get("subscription:sub_r1")?.stageId).toBe(await s.crm.dealStageId("won"));
        expect(await s.crm.dealStageId("won")).toBe(s.vendorStage("won"));
      });

      it("refuses more than 100 ids in one read", async () => {
        const uids = Array.from({ length: 101 }, (_, i) => `u_${i}`);
        await expect(s.crm.readContacts(uids)).rejects.toBeInstanceOf(PermanentError);
      });
    });

    describe("contacts", () => {
      it("creates a contact once and updates it on repeat, keeping its id", async () => {
        const first = await s.crm.upsertContact(contactState());
        const second = await s.crm.upsertContact(contactState({ plan: "team", mrr: 199, subscriptionStatus: "past_due" }));
        expect(second.contactId).toBe(first.contactId);
        const contacts = await s.contacts();
        expect(contacts).toHaveLength(1);
        expect(contacts[0]).toMatchObject({ id: first.contactId, uid: "u_1", email: "ann@example.com", plan: "team", mrr: 199, subscriptionStatus: "past_due" });
        expect(iso(contacts[0]?.lastPaymentAt ?? null)).toBe("2026-11-20T10:00:00.000Z");
        expect(contacts[0]?.stripeCustomerId).toBe("cus_1");
      });

      it("keeps one contact when the same new uid is upserted concurrently (each call succeeds, or fails transient and then succeeds)", async () => {
        const results = await settleWithRetry([1, 2, 3, 4, 5].map((n) => () => s.crm.upsertContact(contactState({ mrr: n }))));
        expect(new Set(results.map((r) => r.contactId)).size).toBe(1);
        expect(await s.contacts()).toHaveLength(1);
      });

      it("handles the contact and deal jobs of one new customer at once", async () => {
        const [contact, deal] = await Promise.all([s.crm.upsertContact(contactState()), s.crm.upsertDeal(dealState({ key: "subscription:sub_1", stage: "won" }))]);
        await s.crm.upsertDeal(dealState({ key: "subscription:sub_1", stage: "won", contactId: contact.contactId }));
        expect(await s.contacts()).toHaveLength(1);
        expect(await s.deals()).toEqual([expect.objectContaining({ id: deal.dealId, contactIds: [contact.contactId] })]);
      });

      it("moves the lifecycle stage forward only; opsync's own status follows the state", async () => {
        await s.crm.upsertContact(contactState({ lifecycleStage: "lead", subscriptionStatus: null }));
        expect((await s.contacts())[0]).toMatchObject({ lifecycleStage: "lead" });
        await s.crm.upsertContact(contactState({ lifecycleStage: "customer", subscriptionStatus: "active" }));
        await s.crm.upsertContact(contactState({ lifecycleStage: "lead", subscriptionStatus: "canceled" }));
        expect((await s.contacts())[0]).toMatchObject({ lifecycleStage: "customer", subscriptionStatus: "canceled" });
      });

      it("upserts a batch per item: a failed input gets its own typed error, the others succeed", async () => {
        await s.crm.upsertContact(contactState({ uid: "u_other", email: "taken@example.com" }));
        const outcomes = await s.crm.upsertContacts([contactState({ uid: "u_a", email: "a@example.com" }), contactState({ uid: "u_b", email: "taken@example.com" })]);
        expect(outcomes[0]).toMatchObject({ uid: "u_a", contactId: expect.any(String) });
        expect(outcomes[1]).toMatchObject({ uid: "u_b", error: expect.any(PermanentError) });
        expect((await s.contacts()).map((c) => c.uid).sort()).toEqual(["u_a", "u_other"]);
      });

      it("turns a vendor rate limit into TransientError with retryAfterMs", async () => {
        s.rateLimitNext(3);
        const err = await s.crm.upsertContact(contactState()).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TransientError);
        expect(err).toMatchObject({ retryAfterMs: 3000 });
        expect(await s.contacts()).toHaveLength(0);
      });

      it("links an existing contact with the same email (any case) instead of creating a second one", async () => {
        const seeded = await s.seedContact({ email: "Ann@Example.com", firstName: "Annie" });
        const linked = await s.crm.upsertContact(contactState());
        expect(linked.contactId).toBe(seeded);
        const again = await s.crm.upsertContact(contactState({ plan: "team" }));
        expect(again.contactId).toBe(seeded);
        const contacts = await s.contacts();
        expect(contacts).toHaveLength(1);
        expect(contacts[0]).toMatchObject({ id: seeded, uid: "u_1", plan: "team" });
      });

      it("refuses to take over a contact whose email is linked to another uid", async () => {
        const other = await s.crm.upsertContact(contactState({ uid: "u_other" }));
        await expect(s.crm.upsertContact(contactState({ uid: "u_1" }))).rejects.toBeInstanceOf(PermanentError);
        const contacts = await s.contacts();
        expect(contacts).toHaveLength(1);
        expect(contacts[0]).toMatchObject({ id: other.contactId, uid: "u_other" });
      });

      it("refuses to move a contact's email onto another contact's, changing neither", async () => {
        const seeded = await s.seedContact({ email: "bob@example.com" });
        const mine = await s.crm.upsertContact(contactState());
        await expect(s.crm.upsertContact(contactState({ email: "bob@example.com" }))).rejects.toBeInstanceOf(PermanentError);
        const byId = new Map((await s.contacts()).map((c) => [c.id, c]));
        expect(byId.get(seeded)).toMatchObject({ uid: null, email: "bob@example.com" });
        expect(byId.get(mine.contactId)).toMatchObject({ uid: "u_1", email: "ann@example.com" });
      });

      it("leaves a known email and name alone when the state has null, and clears opsync's own fields", async () => {
        const { contactId } = await s.crm.upsertContact(contactState());
        await s.crm.upsertContact(contactState({ email: null, firstName: null, plan: null, mrr: null, lastPaymentAt: null }));
        const [contact] = await s.contacts();
        expect(contact).toMatchObject({ id: contactId, email: "ann@example.com", firstName: "Ann", plan: null, mrr: null, lastPaymentAt: null });
      });

      it("gives different uids different contacts, with or without email", async () => {
        const a = await s.crm.upsertContact(contactState({ uid: "u_a", email: null }));
        const b = await s.crm.upsertContact(contactState({ uid: "u_b", email: null }));
        const c = await s.crm.upsertContact(contactState({ uid: "u_c", email: "c@example.com" }));
        expect(new Set([a.contactId, b.contactId, c.contactId]).size).toBe(3);
        expect(await s.contacts()).toHaveLength(3);
      });
    });

    describe("deals", () => {
      it("upserts a deal once per key and follows stage and amount changes", async () => {
        const first = await s.crm.upsertDeal(dealState());
        const again = await s.crm.upsertDeal(dealState());
        expect(again.dealId).toBe(first.dealId);
        for (const stage of ["won", "partially_refunded", "refunded"] as const) {
          const r = await s.crm.upsertDeal(dealState({ stage, amount: 80 }));
          expect(r.dealId).toBe(first.dealId);
          const [deal] = await s.deals();
          expect(deal).toMatchObject({ stage: s.vendorStage(stage), amount: 80 });
        }
        const deals = await s.deals();
        expect(deals).toHaveLength(1);
        expect(deals[0]).toMatchObject({ key: "order:ord_1", name: "Pro plan (order ord_1)", contactIds: [] });
      });

      it("sends refund stages by the stored stage ids, never by name", async () => {
        await s.crm.upsertDeal(dealState({ stage: "refunded" }));
        const [deal] = await s.deals();
        expect(deal?.stage).toBe(s.vendorStage("refunded"));
        expect(deal?.stage).toMatch(/^\d+$/);
        await s.crm.upsertDeal(dealState({ stage: "partially_refunded" }));
        expect((await s.deals())[0]?.stage).toBe(s.vendorStage("partially_refunded"));
      });

      it("keeps separate deals for separate keys", async () => {
        const a = await s.crm.upsertDeal(dealState({ key: "order:ord_1" }));
        const b = await s.crm.upsertDeal(dealState({ key: "subscription:sub_1", stage: "won" }));
        expect(a.dealId).not.toBe(b.dealId);
        expect(await s.deals()).toHaveLength(2);
      });

      it("associates a deal with its contact once, however often it is upserted", async () => {
        const { contactId } = await s.crm.upsertContact(contactState());
        await s.crm.upsertDeal(dealState({ contactId }));
        await s.crm.upsertDeal(dealState({ contactId, stage: "won" }));
        const [deal] = await s.deals();
        expect(deal?.contactIds).toEqual([contactId]);
      });

      it("upserts the same deal concurrently into one deal", async () => {
        const results = await Promise.all((["open", "won", "won"] as const).map((stage) => s.crm.upsertDeal(dealState({ stage }))));
        expect(new Set(results.map((r) => r.dealId)).size).toBe(1);
        expect(await s.deals()).toHaveLength(1);
      });

      it("rejects a deal for a contact that does not exist as permanent", async () => {
        await expect(s.crm.upsertDeal(dealState({ contactId: "999999" }))).rejects.toBeInstanceOf(PermanentError);
      });
    });

    describe("refund stage ids not stored (setup never ran)", () => {
      let bare: CrmSubject;
      beforeEach(async () => {
        bare = await makeSubject({ refundStagesStored: false });
      });
      afterEach(async () => {
        await bare.close();
      });

      it("fails a refund deal permanently with a message naming hubspot:setup, and writes nothing", async () => {
        await bare.crm.upsertDeal(dealState({ stage: "won" }));
        const err = await bare.crm.upsertDeal(dealState({ stage: "refunded" })).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PermanentError);
        expect(err instanceof Error ? err.message : "").toContain("npm run hubspot:setup");
        expect((await bare.deals())[0]?.stage).toBe(bare.vendorStage("won"));
      });
    });
  });
}
