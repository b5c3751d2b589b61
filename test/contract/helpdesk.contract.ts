/**
 * The HelpdeskPort contract: every helpdesk implementation (HubSpot tickets against the local HubSpot server,
 * the in-memory fake) creates at most one ticket per request id, whatever retries and races happen.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HelpdeskPort, TicketRequest } from "../../functions/src/sinks/ports";

export interface TicketView {
  id: string;
  requestId: string;
  subject: string;
  /** The vendor's own priority value; compare with `vendorPriority(...)`. */
  priority: string;
  tags: string[];
  contactIds: string[];
}

export interface HelpdeskSubject {
  helpdesk: HelpdeskPort;
  /** A contact (in the vendor) that tickets can be linked to. */
  makeContact(): Promise<string>;
  tickets(): Promise<TicketView[]>;
  vendorPriority(priority: TicketRequest["priority"]): string;
  close(): Promise<void>;
}

export function ticketRequest(overrides: Partial<TicketRequest> = {}): TicketRequest {
  return {
    requestId: "req_1",
    subject: "Charged twice",
    body: "I see two charges for November.",
    priority: "high",
    tags: ["billing", "opsync"],
    requester: { email: "ann@example.com", name: "Ann Lee" },
    contactId: null,
    context: {
      uid: "u_1",
      stripeCustomerId: "cus_1",
      plan: "pro",
      subscriptionStatus: "active",
      lastPaymentAt: new Date("2026-11-20T10:00:00.000Z"),
      openOrders: ["ord_1"],
    },
    ...overrides,
  };
}

export function helpdeskContract(name: string, makeSubject: () => Promise<HelpdeskSubject>): void {
  describe(`HelpdeskPort contract: ${name}`, () => {
    let s: HelpdeskSubject;
    beforeEach(async () => {
      s = await makeSubject();
    });
    afterEach(async () => {
      await s.close();
    });

    it("creates a ticket with subject, priority, tags and the contact link", async () => {
      const contactId = await s.makeContact();
      const r = await s.helpdesk.createTicket(ticketRequest({ contactId }));
      expect(r.created).toBe(true);
      const tickets = await s.tickets();
      expect(tickets).toHaveLength(1);
      expect(tickets[0]).toMatchObject({
        id: r.ticketId,
        requestId: "req_1",
        subject: "Charged twice",
        priority: s.vendorPriority("high"),
        tags: ["billing", "opsync"],
        contactIds: [contactId],
      });
    });

    it("returns the same ticket with created:false for a repeated request id, without rewriting it", async () => {
      const first = await s.helpdesk.createTicket(ticketRequest());
      const second = await s.helpdesk.createTicket(ticketRequest({ subject: "Changed on retry", priority: "low" }));
      expect(second).toEqual({ ticketId: first.ticketId, created: false });
      const tickets = await s.tickets();
      expect(tickets).toHaveLength(1);
      expect(tickets[0]).toMatchObject({ subject: "Charged twice", priority: s.vendorPriority("high") });
    });

    it("creates one ticket when the same request id arrives concurrently", async () => {
      const results = await Promise.all([1, 2, 3].map(() => s.helpdesk.createTicket(ticketRequest())));
      expect(new Set(results.map((r) => r.ticketId)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(await s.tickets()).toHaveLength(1);
    });

    it("creates separate tickets for separate request ids", async () => {
      const a = await s.helpdesk.createTicket(ticketRequest({ requestId: "req_a" }));
      const b = await s.helpdesk.createTicket(ticketRequest({ requestId: "req_b", priority: "urgent" }));
      expect(a.ticketId).not.toBe(b.ticketId);
      expect([a.created, b.created]).toEqual([true, true]);
      const priorities = (await s.tickets()).map((t) => t.priority).sort();
      expect(priorities).toEqual([s.vendorPriority("high"), s.vendorPriority("urgent")].sort());
    });

    it("adds a contact link on a repeat when the first attempt had none", async () => {
      const contactId = await s.makeContact();
      const first = await s.helpdesk.createTicket(ticketRequest());
      const second = await s.helpdesk.createTicket(ticketRequest({ contactId }));
      expect(second).toEqual({ ticketId: first.ticketId, created: false });
      expect((await s.tickets())[0]?.contactIds).toEqual([contactId]);
    });
  });
}
