/**
 * The CrmPort contract: one suite that every implementation (HubSpot adapter against the local HubSpot server,
 * the in-memory fake) must pass, so the fake the queue tests use behaves like the real thing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../functions/src/domain/errors";
import type { ContactState, CrmPort, DealStage, DealState } from "../../functions/src/sinks/ports";

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
  crm: CrmPort;
  /** Creates a contact directly in the vendor, as a person or a form would, outside opsync. */
  seedContact(seed: { email: string; uid?: string; firstName?: string }): Promise<string>;
  contacts(): Promise<ContactView[]>;
  deals(): Promise<DealView[]>;
  vendorStage(stage: DealStage): string;
  close(): Promise<void>;
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

export function crmContract(name: string, makeSubject: () => Promise<CrmSubject>): void {
  describe(`CrmPort contract: ${name}`, () => {
    let s: CrmSubject;
    beforeEach(async () => {
      s = await makeSubject();
    });
    afterEach(async () => {
      await s.close();
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

      it("keeps one contact when the same uid is upserted concurrently", async () => {
        const results = await Promise.all([1, 2, 3, 4, 5].map((n) => s.crm.upsertContact(contactState({ mrr: n }))));
        expect(new Set(results.map((r) => r.contactId)).size).toBe(1);
        expect(await s.contacts()).toHaveLength(1);
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
  });
}
