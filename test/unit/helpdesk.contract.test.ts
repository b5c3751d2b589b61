import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PermanentError, TransientError } from "../../functions/src/domain/errors";
import { HubspotCrm, HubspotTickets } from "../../functions/src/sinks/hubspot";
import { ensureHubspotProperties } from "../../functions/src/sinks/hubspotSetup";
import { contactState } from "../contract/crm.contract";
import { MemoryHelpdesk } from "../fakes/memorySinks";
import type { TicketRequest } from "../../functions/src/sinks/ports";
import { helpdeskContract, ticketRequest, type HelpdeskSubject } from "../contract/helpdesk.contract";
import { startHubspotServer, type HubspotServer } from "../vendors/hubspotServer";

const HUBSPOT_PRIORITY: Record<TicketRequest["priority"], string> = { low: "LOW", normal: "MEDIUM", high: "HIGH", urgent: "URGENT" };

async function hubspotSubject(): Promise<HelpdeskSubject> {
  const server = await startHubspotServer();
  const config = { accessToken: server.token, basePath: server.url };
  await ensureHubspotProperties(config);
  let n = 0;
  return {
    helpdesk: new HubspotTickets(config),
    makeContact: async () => server.seed("contacts", { email: `person${++n}@example.com` }).id,
    tickets: async () =>
      server.tickets().map((t) => ({
        id: t.id,
        requestId: t.properties.opsync_request_id ?? "",
        subject: t.properties.subject ?? "",
        priority: t.properties.hs_ticket_priority ?? "",
        tags: (t.properties.opsync_tags ?? "").split(";").filter((s) => s.length > 0),
        contactIds: server
          .associations()
          .filter((a) => a.fromType === "tickets" && a.fromId === t.id && a.toType === "contacts")
          .map((a) => a.toId),
      })),
    vendorPriority: (p) => HUBSPOT_PRIORITY[p],
    close: () => server.close(),
  };
}

async function memorySubject(): Promise<HelpdeskSubject> {
  const helpdesk = new MemoryHelpdesk();
  let n = 0;
  return {
    helpdesk,
    makeContact: async () => `contact-${++n}`,
    tickets: async () => helpdesk.tickets().map(({ id, requestId, subject, priority, tags, contactIds }) => ({ id, requestId, subject, priority, tags, contactIds })),
    vendorPriority: (p) => p,
    close: async () => {},
  };
}

helpdeskContract("hubspot tickets + local HubSpot server", hubspotSubject);
helpdeskContract("memory fake", memorySubject);

async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("HubSpot tickets adapter (HubSpot specifics)", () => {
  let server: HubspotServer;
  let tickets: HubspotTickets;

  beforeEach(async () => {
    server = await startHubspotServer();
    const config = { accessToken: server.token, basePath: server.url };
    await ensureHubspotProperties(config);
    server.requests.length = 0;
    tickets = new HubspotTickets(config);
  });
  afterEach(async () => {
    await server.close();
  });

  it("is named hubspot", () => {
    expect(tickets.name).toBe("hubspot");
  });

  it("reads by opsync_request_id, then upserts with pipeline, stage, priority, tags and the billing context", async () => {
    await tickets.createTicket(ticketRequest({ priority: "normal" }));
    const [read, upsert] = server.requests;
    expect(read).toMatchObject({ method: "GET", path: "/crm/v3/objects/tickets/req_1", status: 404 });
    expect(read?.query).toMatchObject({ idProperty: "opsync_request_id" });
    expect(upsert).toMatchObject({ method: "POST", path: "/crm/v3/objects/tickets/batch/upsert", status: 200 });
    const [stored] = server.tickets();
    expect(stored?.properties).toMatchObject({
      opsync_request_id: "req_1",
      subject: "Charged twice",
      hs_ticket_priority: "MEDIUM",
      hs_pipeline: "0",
      hs_pipeline_stage: "1",
      opsync_tags: "billing;opsync",
    });
    const content = stored?.properties.content ?? "";
    expect(content).toContain("I see two charges for November.");
    expect(content).toContain("Stripe customer: cus_1");
    expect(content).toContain("Plan: pro");
    expect(content).toContain("Last payment: 2026-11-20T10:00:00.000Z");
    expect(content).toContain("Open orders: ord_1");
  });

  it("leaves a ticket an agent has moved alone on a retry", async () => {
    const { ticketId } = await tickets.createTicket(ticketRequest());
    const res = await fetch(`${server.url}/crm/v3/objects/tickets/${ticketId}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: JSON.stringify({ properties: { hs_pipeline_stage: "4" } }),
    });
    expect(res.status).toBe(200);
    expect(await tickets.createTicket(ticketRequest())).toEqual({ ticketId, created: false });
    expect(server.tickets()[0]?.properties.hs_pipeline_stage).toBe("4");
  });

  it("finishes the contact link on a retry after the association failed", async () => {
    const contactId = server.seed("contacts", { email: "ann@example.com" }).id;
    server.failNext(1, 502, { pathIncludes: "/associations/" });
    expect(await failure(() => tickets.createTicket(ticketRequest({ contactId })))).toMatchObject({ name: "TransientError", httpStatus: 502 });
    const retry = await tickets.createTicket(ticketRequest({ contactId }));
    expect(retry.created).toBe(false);
    expect(server.tickets()).toHaveLength(1);
    expect(server.associations()).toEqual([{ fromType: "tickets", fromId: retry.ticketId, toType: "contacts", toId: contactId }]);
  });

  it("maps 429 with Retry-After on the upsert to TransientError with retryAfterMs", async () => {
    server.failNext(1, 429, { retryAfterSeconds: 3, pathIncludes: "/batch/upsert" });
    const err = await failure(() => tickets.createTicket(ticketRequest()));
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ retryAfterMs: 3000, httpStatus: 429, vendorRequestId: server.requests[1]?.correlationId });
    expect(server.tickets()).toHaveLength(0);
  });

  it("maps 403 (missing scope) to PermanentError and a closed port to TransientError", async () => {
    server.failNext(1, 403);
    expect(await failure(() => tickets.createTicket(ticketRequest()))).toMatchObject({ name: "PermanentError", httpStatus: 403 });
    await server.close();
    const err = await failure(() => tickets.createTicket(ticketRequest()));
    expect(err).toBeInstanceOf(TransientError);
    server = await startHubspotServer();
  });

  it("shares one portal budget with the CRM: tickets get 429 + Retry-After once CRM calls used it up", async () => {
    const crm = new HubspotCrm({ accessToken: server.token, basePath: server.url, refundStages: async () => null });
    server.setRateLimit(2, 60_000);
    await crm.upsertContact(contactState({ uid: "u_a", email: null }));
    await crm.upsertContact(contactState({ uid: "u_b", email: null }));
    const err = await failure(() => tickets.createTicket(ticketRequest()));
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ httpStatus: 429 });
    const wait = err instanceof TransientError ? err.retryAfterMs : null;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60_000);
    expect(server.tickets()).toHaveLength(0);
  });

  it("rejects a link to a contact that does not exist as permanent", async () => {
    const err = await failure(() => tickets.createTicket(ticketRequest({ contactId: "424242" })));
    expect(err).toBeInstanceOf(PermanentError);
  });
});
