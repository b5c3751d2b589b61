import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PermanentError, TransientError } from "../../functions/src/domain/errors";
import {
  HUBSPOT_DEAL_STAGES,
  HubspotCrm,
  REQUIRED_HUBSPOT_SCOPES,
  checkHubspotScopes,
  ensureHubspotProperties,
} from "../../functions/src/sinks/hubspot";
import { MemoryCrm } from "../../functions/src/sinks/memory";
import { contactState, crmContract, dealState, type ContactView, type CrmSubject, type DealView } from "../contract/crm.contract";
import { ALL_SCOPES, startHubspotServer, type HubspotObject, type HubspotServer } from "../vendors/hubspotServer";

const orNull = (v: string | undefined) => (v === undefined || v === "" ? null : v);
const numOrNull = (v: string | undefined) => (v === undefined || v === "" ? null : Number(v));

function contactView(o: HubspotObject): ContactView {
  const p = o.properties;
  return {
    id: o.id,
    uid: orNull(p.opsync_uid),
    email: orNull(p.email),
    firstName: orNull(p.firstname),
    lastName: orNull(p.lastname),
    plan: orNull(p.opsync_plan),
    subscriptionStatus: orNull(p.opsync_subscription_status),
    mrr: numOrNull(p.opsync_mrr),
    lastPaymentAt: orNull(p.opsync_last_payment_at),
    stripeCustomerId: orNull(p.opsync_stripe_customer_id),
  };
}

function dealView(server: HubspotServer, o: HubspotObject): DealView {
  const contactIds = server
    .associations()
    .filter((a) => a.fromType === "deals" && a.fromId === o.id && a.toType === "contacts")
    .map((a) => a.toId);
  const p = o.properties;
  return { id: o.id, key: p.opsync_deal_key ?? "", name: p.dealname ?? "", stage: p.dealstage ?? "", amount: numOrNull(p.amount), contactIds };
}

/** Creates a contact over HTTP, the way a form or an import would, outside opsync. */
async function createContactDirectly(server: HubspotServer, properties: Record<string, string>): Promise<string> {
  const res = await fetch(`${server.url}/crm/v3/objects/contacts`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    body: JSON.stringify({ properties }),
  });
  expect(res.status).toBe(201);
  const body: unknown = await res.json();
  if (typeof body !== "object" || body === null || !("id" in body) || typeof body.id !== "string") throw new Error("no id");
  return body.id;
}

async function hubspotSubject(): Promise<CrmSubject> {
  const server = await startHubspotServer();
  const config = { accessToken: server.token, basePath: server.url };
  await ensureHubspotProperties(config);
  return {
    crm: new HubspotCrm(config),
    seedContact: (seed) =>
      createContactDirectly(server, {
        email: seed.email,
        ...(seed.uid ? { opsync_uid: seed.uid } : {}),
        ...(seed.firstName ? { firstname: seed.firstName } : {}),
      }),
    contacts: async () => server.contacts().map(contactView),
    deals: async () => server.deals().map((d) => dealView(server, d)),
    vendorStage: (stage) => HUBSPOT_DEAL_STAGES[stage],
    close: () => server.close(),
  };
}

async function memorySubject(): Promise<CrmSubject> {
  const crm = new MemoryCrm();
  return {
    crm,
    seedContact: async (seed) => crm.seedContact(seed),
    contacts: async () =>
      crm.contacts().map((c) => ({
        id: c.id,
        uid: c.uid,
        email: c.email,
        firstName: c.firstName,
        lastName: c.lastName,
        plan: c.plan,
        subscriptionStatus: c.subscriptionStatus,
        mrr: c.mrr,
        lastPaymentAt: c.lastPaymentAt?.toISOString() ?? null,
        stripeCustomerId: c.stripeCustomerId,
      })),
    deals: async () => crm.deals().map((d) => ({ id: d.id, key: d.key, name: d.name, stage: d.stage, amount: d.amount, contactIds: d.contactIds })),
    vendorStage: (stage) => stage,
    close: async () => {},
  };
}

crmContract("hubspot adapter + local HubSpot server", hubspotSubject);
crmContract("memory fake", memorySubject);

/** Runs `fn`, expecting it to reject, and returns the error for inspection. */
async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("HubSpot CRM adapter (HubSpot specifics)", () => {
  let server: HubspotServer;
  let crm: HubspotCrm;
  let config: { accessToken: string; basePath: string };

  beforeEach(async () => {
    server = await startHubspotServer();
    config = { accessToken: server.token, basePath: server.url };
    await ensureHubspotProperties(config);
    server.requests.length = 0;
    crm = new HubspotCrm(config);
  });
  afterEach(async () => {
    await server.close();
  });

  it("upserts contacts by batch/upsert keyed on opsync_uid, with opsync's properties", async () => {
    await crm.upsertContact(contactState());
    const [req] = server.requests;
    expect(req).toMatchObject({ method: "POST", path: "/crm/v3/objects/contacts/batch/upsert", status: 200 });
    expect(req?.body).toEqual({
      inputs: [
        {
          id: "u_1",
          idProperty: "opsync_uid",
          properties: {
            email: "ann@example.com",
            firstname: "Ann",
            lastname: "Lee",
            lifecyclestage: "customer",
            opsync_plan: "pro",
            opsync_subscription_status: "active",
            opsync_mrr: "49.5",
            opsync_last_payment_at: "2026-11-20T10:00:00.000Z",
            opsync_stripe_customer_id: "cus_1",
          },
        },
      ],
    });
  });

  it("links on the duplicate-email 409 with a PATCH, never a create", async () => {
    const existing = await createContactDirectly(server, { email: "ann@example.com" });
    server.requests.length = 0;
    const { contactId } = await crm.upsertContact(contactState());
    expect(contactId).toBe(existing);
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "POST /crm/v3/objects/contacts/batch/upsert 409",
      `GET /crm/v3/objects/contacts/${existing} 200`,
      `PATCH /crm/v3/objects/contacts/${existing} 200`,
    ]);
  });

  it("sends deals on opsync_deal_key with HubSpot stages, the default pipeline and a v4 default association", async () => {
    const { contactId } = await crm.upsertContact(contactState());
    server.requests.length = 0;
    const { dealId } = await crm.upsertDeal(dealState({ stage: "canceled", contactId }));
    const [upsert, associate] = server.requests;
    expect(upsert?.body).toEqual({
      inputs: [
        {
          id: "order:ord_1",
          idProperty: "opsync_deal_key",
          properties: { dealname: "Pro plan (order ord_1)", amount: "99", dealstage: "closedlost", pipeline: "default", deal_currency_code: "USD" },
        },
      ],
    });
    expect(associate).toMatchObject({ method: "PUT", path: `/crm/v4/objects/deals/${dealId}/associations/default/contacts/${contactId}`, status: 200 });
  });

  it("maps 429 with Retry-After to TransientError with retryAfterMs and HubSpot's correlation id", async () => {
    server.failNext(1, 429, { retryAfterSeconds: 7 });
    const err = await failure(() => crm.upsertContact(contactState()));
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ retryAfterMs: 7000, httpStatus: 429, vendorRequestId: server.requests[0]?.correlationId });
  });

  it("answers the server's own sliding-window limit with a TransientError that says when to retry", async () => {
    server.setRateLimit(2, 60_000);
    await crm.upsertContact(contactState({ uid: "u_a", email: null }));
    await crm.upsertContact(contactState({ uid: "u_b", email: null }));
    const err = await failure(() => crm.upsertContact(contactState({ uid: "u_c", email: null })));
    expect(err).toBeInstanceOf(TransientError);
    const retryAfterMs = err instanceof TransientError ? err.retryAfterMs : null;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(server.contacts()).toHaveLength(2);
  });

  it("maps 503 and 500 to TransientError", async () => {
    server.failNext(1, 503);
    expect(await failure(() => crm.upsertContact(contactState()))).toMatchObject({ name: "TransientError", httpStatus: 503 });
    server.failNext(1, 500);
    expect(await failure(() => crm.upsertDeal(dealState()))).toMatchObject({ name: "TransientError", httpStatus: 500 });
    server.setDown(true);
    expect(await failure(() => crm.upsertContact(contactState()))).toBeInstanceOf(TransientError);
    server.setDown(false);
    await expect(crm.upsertContact(contactState())).resolves.toHaveProperty("contactId");
  });

  it("maps 400 to PermanentError with the status and HubSpot's correlation id", async () => {
    server.failNext(1, 400);
    const err = await failure(() => crm.upsertDeal(dealState()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ httpStatus: 400, vendorRequestId: server.requests[0]?.correlationId });
    expect(server.requests[0]?.correlationId).toMatch(/[0-9a-f-]{36}/);
  });

  it("maps a rejected token (401) to PermanentError", async () => {
    const wrong = new HubspotCrm({ accessToken: "pat-na1-wrong", basePath: server.url });
    expect(await failure(() => wrong.upsertContact(contactState()))).toMatchObject({ name: "PermanentError", httpStatus: 401 });
  });

  it("maps a server that is not there (closed port) to TransientError without a status", async () => {
    const other = await startHubspotServer();
    await other.close();
    const down = new HubspotCrm({ accessToken: other.token, basePath: other.url });
    const err = await failure(() => down.upsertContact(contactState()));
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ httpStatus: null });
  });

  it("gives up on a hung call after timeoutMs with a TransientError", async () => {
    server.setLatency(500);
    const slow = new HubspotCrm({ ...config, timeoutMs: 50 });
    const err = await failure(() => slow.upsertContact(contactState()));
    expect(err).toBeInstanceOf(TransientError);
    expect(err instanceof Error ? err.message : "").toMatch(/timed out/);
  });

  it("fails permanently when the unique properties were never created (setup not run)", async () => {
    const bare = await startHubspotServer();
    try {
      const err = await failure(() => new HubspotCrm({ accessToken: bare.token, basePath: bare.url }).upsertContact(contactState()));
      expect(err).toMatchObject({ name: "PermanentError", httpStatus: 400 });
    } finally {
      await bare.close();
    }
  });

  it("keeps personal data out of error messages", async () => {
    const other = await crm.upsertContact(contactState({ uid: "u_other" }));
    const err = await failure(() => crm.upsertContact(contactState({ uid: "u_1" })));
    expect(err).toBeInstanceOf(PermanentError);
    const message = err instanceof Error ? err.message : "";
    expect(message).toContain(other.contactId);
    expect(message).not.toContain("ann@example.com");
  });
});

describe("HubSpot setup: ensureHubspotProperties and checkHubspotScopes", () => {
  let server: HubspotServer;
  beforeEach(async () => {
    server = await startHubspotServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it("creates the custom properties once; a second run finds them all", async () => {
    const config = { accessToken: server.token, basePath: server.url };
    const first = await ensureHubspotProperties(config);
    expect(first.existing).toEqual([]);
    expect(first.created).toEqual([
      "contacts.opsync_uid",
      "contacts.opsync_plan",
      "contacts.opsync_subscription_status",
      "contacts.opsync_mrr",
      "contacts.opsync_last_payment_at",
      "contacts.opsync_stripe_customer_id",
      "deals.opsync_deal_key",
      "tickets.opsync_request_id",
      "tickets.opsync_tags",
    ]);
    const unique = (type: "contacts" | "deals" | "tickets") =>
      server.properties(type).filter((p) => p.hasUniqueValue).map((p) => p.name);
    expect([unique("contacts"), unique("deals"), unique("tickets")]).toEqual([["opsync_uid"], ["opsync_deal_key"], ["opsync_request_id"]]);
    expect(server.properties("contacts").find((p) => p.name === "opsync_last_payment_at")).toMatchObject({ type: "datetime" });

    const second = await ensureHubspotProperties(config);
    expect(second).toEqual({ created: [], existing: first.created });
  });

  it("fails permanently when an id property exists but is not unique", async () => {
    const res = await fetch(`${server.url}/crm/v3/properties/contacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "opsync_uid", label: "uid", type: "string", fieldType: "text", groupName: "contactinformation" }),
    });
    expect(res.status).toBe(201);
    const err = await failure(() => ensureHubspotProperties({ accessToken: server.token, basePath: server.url }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err instanceof Error ? err.message : "").toContain("contacts.opsync_uid");
  });

  it("names the scopes the token lacks, and never logs the token in the request path", async () => {
    const config = { accessToken: server.token, basePath: server.url };
    expect(await checkHubspotScopes(config)).toMatchObject({ ok: true, missing: [] });
    server.setScopes(ALL_SCOPES.filter((s) => s !== "tickets" && s !== "crm.schemas.deals.write"));
    const result = await checkHubspotScopes(config);
    expect(result).toMatchObject({ ok: false, missing: ["tickets", "crm.schemas.deals.write"] });
    expect(REQUIRED_HUBSPOT_SCOPES).toEqual(expect.arrayContaining(result.missing));
    expect(server.requests.map((r) => r.path)).toEqual(["/oauth/v1/access-tokens/<redacted>", "/oauth/v1/access-tokens/<redacted>"]);
  });

  it("reports an unknown token as a permanent failure", async () => {
    const err = await failure(() => checkHubspotScopes({ accessToken: "pat-na1-unknown", basePath: server.url }));
    expect(err).toMatchObject({ name: "PermanentError", httpStatus: 404 });
  });
});
