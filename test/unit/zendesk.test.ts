import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PermanentError, TransientError } from "../../functions/src/domain/errors";
import type { TicketRequest } from "../../functions/src/sinks/ports";
import { ZendeskHelpdesk, formatTicketBody, zendeskTags, type ZendeskOptions } from "../../functions/src/sinks/zendesk";
import { startZendeskServer, type ZendeskServer } from "../vendors/zendeskServer";

function ticket(overrides: Partial<TicketRequest> = {}): TicketRequest {
  return {
    requestId: "req_001",
    subject: "Charged twice for March",
    body: "I see two charges on my card for the Pro plan.",
    priority: "high",
    tags: ["billing", "Double Charge"],
    requester: { email: "ada@example.com", name: "Ada Lovelace" },
    contactId: "hs_501",
    context: {
      uid: "uid_ada",
      stripeCustomerId: "cus_ada",
      plan: "pro",
      subscriptionStatus: "past_due",
      lastPaymentAt: new Date("2024-03-01T09:30:00Z"),
      openOrders: ["ord_1", "ord_2"],
    },
    ...overrides,
  };
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

async function closedPortUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("ZendeskHelpdesk against the local Zendesk server", () => {
  let server: ZendeskServer;
  const adapter = (opts: Partial<ZendeskOptions> = {}) =>
    new ZendeskHelpdesk({ baseUrl: server.url, email: server.email, apiToken: server.token, timeoutMs: 2000, ...opts });

  beforeAll(async () => {
    server = await startZendeskServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  it("creates a ticket with subject, priority, tags, external_id, requester and the billing context", async () => {
    const zd = adapter();
    expect(zd.name).toBe("zendesk");
    const result = await zd.createTicket(ticket());
    const [t, ...rest] = server.tickets();
    expect(rest).toEqual([]);
    expect(t).toBeDefined();
    if (!t) return;
    expect(result).toEqual({ ticketId: String(t.id), created: true });
    expect(t.subject).toBe("Charged twice for March");
    expect(t.priority).toBe("high");
    expect(t.tags).toEqual(["billing", "double_charge", "crm_contact_hs_501"]);
    expect(t.external_id).toBe("req_001");
    expect(t.requester).toMatchObject({ email: "ada@example.com", name: "Ada Lovelace" });
    expect(t.comments).toHaveLength(1);
    expect(t.comments[0]?.public).toBe(false);
    const body = t.description;
    expect(body).toContain("I see two charges on my card");
    expect(body).toContain("Plan: pro");
    expect(body).toContain("Subscription status: past_due");
    expect(body).toContain("Last payment: 2024-03-01 09:30 UTC");
    expect(body).toContain("Open orders (2): ord_1, ord_2");
    expect(body).toContain("Firebase uid: uid_ada");
    expect(body).toContain("Stripe customer: cus_ada");
    expect(body).toContain("CRM contact: hs_501");

    const post = server.requests.find((r) => r.method === "POST");
    expect(post?.headers["idempotency-key"]).toBe("req_001");
    expect(post?.headers.authorization).toBe(`Basic ${Buffer.from(`${server.email}/token:${server.token}`).toString("base64")}`);
  });

  it("formats missing context readably and leaves out a requester without email", async () => {
    const req = ticket({
      requester: { email: null, name: "Guest" },
      contactId: null,
      context: { uid: null, stripeCustomerId: null, plan: null, subscriptionStatus: null, lastPaymentAt: null, openOrders: [] },
    });
    const body = formatTicketBody(req);
    expect(body).toContain("Plan: none");
    expect(body).toContain("Last payment: unknown");
    expect(body).toContain("Open orders: none");
    expect(body).toContain("Firebase uid: unknown");
    expect(body).toContain("Requester: Guest");
    expect(body).not.toContain("CRM contact");
    expect(formatTicketBody(req)).toBe(body);
    await adapter().createTicket(req);
    const post = server.requests.find((r) => r.method === "POST");
    expect(JSON.stringify(post?.body)).not.toContain("requester");
    expect(zendeskTags([" A b ", "a_b", ""])).toEqual(["a_b"]);
  });

  it("creates one ticket for the same requestId twice; the second answer is created:false", async () => {
    const zd = adapter();
    const first = await zd.createTicket(ticket());
    const second = await zd.createTicket(ticket());
    expect(first.created).toBe(true);
    expect(second).toEqual({ ticketId: first.ticketId, created: false });
    expect(server.tickets()).toHaveLength(1);
  });

  it("relies on Zendesk's Idempotency-Key replay (x-idempotency-lookup: hit) without the lookup", async () => {
    const zd = adapter({ lookupByExternalId: false });
    const first = await zd.createTicket(ticket());
    const second = await zd.createTicket(ticket());
    expect(first.created).toBe(true);
    expect(second).toEqual({ ticketId: first.ticketId, created: false });
    expect(server.tickets()).toHaveLength(1);
    expect(server.requests.map((r) => r.method)).toEqual(["POST", "POST"]);
  });

  it("creates one ticket when two attempts race (both lookups miss, the key dedupes)", async () => {
    server.setLatency(30);
    const zd = adapter();
    const results = await Promise.all([zd.createTicket(ticket()), zd.createTicket(ticket())]);
    expect(server.tickets()).toHaveLength(1);
    expect(server.requests.filter((r) => r.method === "POST")).toHaveLength(2);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(results[0]?.ticketId).toBe(results[1]?.ticketId);
  });

  it("still finds the ticket by external_id after Zendesk forgot the idempotency key", async () => {
    let clock = Date.parse("2024-03-01T00:00:00Z");
    const s = await startZendeskServer({ now: () => clock });
    try {
      const zd = new ZendeskHelpdesk({ baseUrl: s.url, email: s.email, apiToken: s.token });
      const first = await zd.createTicket(ticket());
      clock += 3 * 60 * 60 * 1000;
      expect(await zd.createTicket(ticket())).toEqual({ ticketId: first.ticketId, created: false });
      expect(s.tickets()).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it("resolves a reused key with a changed body (400) through the external_id lookup", async () => {
    const zd = adapter({ lookupByExternalId: false });
    const first = await zd.createTicket(ticket());
    const changed = ticket({ context: { ...ticket().context, openOrders: ["ord_3"] } });
    expect(await zd.createTicket(changed)).toEqual({ ticketId: first.ticketId, created: false });
    expect(server.requests.find((r) => r.status === 400)).toBeDefined();
    expect(server.tickets()).toHaveLength(1);
  });

  it("adds the CRM contact tag on a repeat only when it is missing, and rewrites nothing else", async () => {
    const zd = adapter();
    const first = await zd.createTicket(ticket({ contactId: null }));
    expect(server.tickets()[0]?.tags).toEqual(["billing", "double_charge"]);
    expect(await zd.createTicket(ticket({ subject: "Other", contactId: "501" }))).toEqual({ ticketId: first.ticketId, created: false });
    expect(server.tickets()[0]).toMatchObject({ subject: "Charged twice for March", tags: ["billing", "double_charge", "crm_contact_501"] });
    const puts = () => server.requests.filter((r) => r.method === "PUT").length;
    expect(puts()).toBe(1);
    await zd.createTicket(ticket({ contactId: "501" }));
    expect(puts()).toBe(1);
    server.failNext(1, 503, { method: "PUT" });
    const err = await caught(zd.createTicket(ticket({ contactId: "502" })));
    expect(err).toBeInstanceOf(TransientError);
    expect(err instanceof TransientError && err.message).toContain("PUT /api/v2/tickets/{id}/tags.json: HTTP 503");
    await zd.createTicket(ticket({ contactId: "502" }));
    expect(server.tickets()[0]?.tags).toContain("crm_contact_502");
  });

  it("maps 429 with Retry-After to TransientError with retryAfterMs, status and request id", async () => {
    server.failNext(1, 429, { retryAfterSeconds: 7 });
    const err = await caught(adapter().createTicket(ticket()));
    expect(err).toBeInstanceOf(TransientError);
    if (!(err instanceof TransientError)) return;
    expect(err.retryAfterMs).toBe(7000);
    expect(err.httpStatus).toBe(429);
    expect(err.vendorRequestId).toBe(server.requests[0]?.requestId);
    expect(err.vendorRequestId).toMatch(/\S/);
  });

  it("turns the server's per-minute rate limit into a TransientError with a Retry-After", async () => {
    server.setRateLimit(2);
    const zd = adapter({ lookupByExternalId: false });
    await zd.createTicket(ticket({ requestId: "a" }));
    await zd.createTicket(ticket({ requestId: "b" }));
    const err = await caught(zd.createTicket(ticket({ requestId: "c" })));
    expect(err).toBeInstanceOf(TransientError);
    if (!(err instanceof TransientError)) return;
    expect(err.httpStatus).toBe(429);
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(server.tickets()).toHaveLength(2);
  });

  it("maps 503 (with and without Retry-After) and 500 to TransientError", async () => {
    server.failNext(1, 503, { retryAfterSeconds: 2 });
    server.failNext(1, 503);
    server.failNext(1, 500);
    const zd = adapter();
    const errs = [await caught(zd.createTicket(ticket())), await caught(zd.createTicket(ticket())), await caught(zd.createTicket(ticket()))];
    for (const e of errs) expect(e).toBeInstanceOf(TransientError);
    expect(errs.map((e) => (e instanceof TransientError ? [e.httpStatus, e.retryAfterMs] : null))).toEqual([
      [503, 2000],
      [503, null],
      [500, null],
    ]);
    // After the faults the retry succeeds.
    expect((await zd.createTicket(ticket())).created).toBe(true);
  });

  it("maps 422 RecordInvalid to PermanentError with httpStatus 422 and the vendor request id", async () => {
    const err = await caught(adapter().createTicket(ticket({ subject: "  " })));
    expect(err).toBeInstanceOf(PermanentError);
    if (!(err instanceof PermanentError)) return;
    expect(err.httpStatus).toBe(422);
    expect(err.vendorRequestId).toBe(server.requests.find((r) => r.status === 422)?.requestId);
    expect(err.message).toContain("RecordInvalid");
    expect(err.message).toContain("Subject: cannot be blank");

    const bad = await caught(adapter().createTicket(ticket({ requestId: "req_p", priority: "critical" as string as TicketRequest["priority"] })));
    expect(bad).toBeInstanceOf(PermanentError);
    expect(bad instanceof PermanentError && bad.message).toContain("Priority");
    expect(server.tickets()).toEqual([]);
  });

  it("maps 401 (wrong token) to PermanentError and never puts the token in the message", async () => {
    const wrong = "zd_wrong_token_secret_42";
    const err = await caught(adapter({ apiToken: wrong }).createTicket(ticket()));
    expect(err).toBeInstanceOf(PermanentError);
    if (!(err instanceof PermanentError)) return;
    expect(err.httpStatus).toBe(401);
    expect(err.vendorRequestId).toMatch(/\S/);
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(Buffer.from(`${server.email}/token:${wrong}`).toString("base64"));
    expect(JSON.stringify(err)).not.toContain(wrong);
  });

  it("maps a closed port and a server that resets connections to TransientError", async () => {
    const closed = new ZendeskHelpdesk({ baseUrl: await closedPortUrl(), email: "a@b.c", apiToken: "tok_secret_1234" });
    const e1 = await caught(closed.createTicket(ticket()));
    expect(e1).toBeInstanceOf(TransientError);
    if (e1 instanceof TransientError) {
      expect(e1.httpStatus).toBeNull();
      expect(e1.message).toMatch(/network error/);
      expect(e1.message).not.toContain("tok_secret_1234");
    }
    server.setDown(true);
    expect(await caught(adapter().createTicket(ticket()))).toBeInstanceOf(TransientError);
    server.setDown(false);
    expect((await adapter().createTicket(ticket())).created).toBe(true);
  });

  it("maps a timeout to TransientError; the retry after a slow success does not duplicate", async () => {
    server.setLatency(400);
    const zd = adapter({ timeoutMs: 100, lookupByExternalId: false });
    const err = await caught(zd.createTicket(ticket()));
    expect(err).toBeInstanceOf(TransientError);
    expect(err instanceof TransientError && err.message).toContain("timed out after 100 ms");
    await sleep(500); // the server finishes the request the client gave up on
    server.setLatency(0);
    expect(server.tickets()).toHaveLength(1);
    const retry = await zd.createTicket(ticket());
    expect(retry).toEqual({ ticketId: String(server.tickets()[0]?.id), created: false });
    expect(server.tickets()).toHaveLength(1);
  });

  it("serves GET /api/v2/tickets/{id}.json and 404 for an absent ticket", async () => {
    const { ticketId } = await adapter().createTicket(ticket());
    const auth = { authorization: `Basic ${Buffer.from(`${server.email}/token:${server.token}`).toString("base64")}` };
    const ok = await fetch(`${server.url}/api/v2/tickets/${ticketId}.json`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { ticket: { external_id: string } }).ticket.external_id).toBe("req_001");
    const missing = await fetch(`${server.url}/api/v2/tickets/999999.json`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-request-id")).toMatch(/\S/);
    const search = await fetch(`${server.url}/api/v2/search.json?query=${encodeURIComponent("type:ticket external_id:req_001")}`, {
      headers: auth,
    });
    expect(((await search.json()) as { count: number }).count).toBe(1);
  });
});
