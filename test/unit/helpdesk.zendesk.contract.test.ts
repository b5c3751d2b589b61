/** The shared HelpdeskPort contract, run against the Zendesk adapter and the local Zendesk server. */
import { describe, expect, it } from "vitest";
import { TransientError } from "../../functions/src/domain/errors";
import { CRM_CONTACT_TAG_PREFIX, ZendeskHelpdesk } from "../../functions/src/sinks/zendesk";
import { helpdeskContract, ticketRequest, type HelpdeskSubject } from "../contract/helpdesk.contract";
import { startZendeskServer } from "../vendors/zendeskServer";

async function zendeskSubject(): Promise<HelpdeskSubject> {
  const server = await startZendeskServer();
  let n = 500;
  return {
    helpdesk: new ZendeskHelpdesk({ baseUrl: server.url, email: server.email, apiToken: server.token, timeoutMs: 2000 }),
    // opsync passes the CRM (HubSpot) contact id; Zendesk records it as a `crm_contact_<id>` tag.
    makeContact: async () => String(++n),
    tickets: async () =>
      server.tickets().map((t) => ({
        id: String(t.id),
        requestId: t.external_id ?? "",
        subject: t.subject,
        priority: t.priority ?? "",
        tags: t.tags.filter((tag) => !tag.startsWith(CRM_CONTACT_TAG_PREFIX)),
        contactIds: t.tags.filter((tag) => tag.startsWith(CRM_CONTACT_TAG_PREFIX)).map((tag) => tag.slice(CRM_CONTACT_TAG_PREFIX.length)),
      })),
    vendorPriority: (p) => p,
    close: () => server.close(),
  };
}

helpdeskContract("zendesk + local Zendesk server", zendeskSubject);

describe("Zendesk stand-in strictness, seen through the adapter", () => {
  it("answers IdempotentRequestError to a reused key with different parameters; the adapter resolves it by external_id", async () => {
    const server = await startZendeskServer();
    try {
      const zd = new ZendeskHelpdesk({ baseUrl: server.url, email: server.email, apiToken: server.token, timeoutMs: 2000, lookupByExternalId: false });
      const base = ticketRequest();
      const first = await zd.createTicket(base);
      const again = await zd.createTicket({ ...base, subject: "Rebuilt on retry" });
      expect(again).toEqual({ ticketId: first.ticketId, created: false });
      const posts = server.requests.filter((r) => r.method === "POST");
      expect(posts.map((r) => r.status)).toEqual([201, 400]);
      expect(posts[1]?.body).toMatchObject({ ticket: { subject: "Rebuilt on retry" } });
      expect(server.tickets()).toHaveLength(1);
      const raw = await fetch(`${server.url}/api/v2/tickets.json`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from(`${server.email}/token:${server.token}`).toString("base64")}`, "content-type": "application/json", "idempotency-key": base.requestId },
        body: JSON.stringify({ ticket: { subject: "Other", comment: { body: "x" } } }),
      });
      expect(raw.status).toBe(400);
      expect(await raw.json()).toMatchObject({ error: "IdempotentRequestError" });
    } finally {
      await server.close();
    }
  });

  it("limits List Tickets on its own (Zendesk-RateLimit-tickets-index); the adapter gets a TransientError with retryAfterMs", async () => {
    const server = await startZendeskServer({ ticketListPerMinute: 2 });
    try {
      const zd = new ZendeskHelpdesk({ baseUrl: server.url, email: server.email, apiToken: server.token, timeoutMs: 2000 });
      await zd.createTicket(ticketRequest({ requestId: "a" }));
      await zd.createTicket(ticketRequest({ requestId: "b" }));
      const list = server.requests.find((r) => r.method === "GET");
      expect(list?.status).toBe(200);
      const err = await zd.createTicket(ticketRequest({ requestId: "c" })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientError);
      expect(err).toMatchObject({ httpStatus: 429 });
      expect(err instanceof TransientError ? err.retryAfterMs : 0).toBeGreaterThan(0);
      expect(server.tickets()).toHaveLength(2);
      const res = await fetch(`${server.url}/api/v2/tickets.json?external_id=a`, {
        headers: { authorization: `Basic ${Buffer.from(`${server.email}/token:${server.token}`).toString("base64")}` },
      });
      expect(res.status).toBe(429);
      expect(res.headers.get("zendesk-ratelimit-tickets-index")).toMatch(/^total=2; remaining=0; resets=\d+$/);
    } finally {
      await server.close();
    }
  });
});
