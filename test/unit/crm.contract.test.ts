import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PermanentError, TransientError } from "../../functions/src/domain/errors";
import { DEFAULT_PIPELINE_STAGES, HubspotCrm } from "../../functions/src/sinks/hubspot";
import { MEMORY_REFUND_STAGES, MemoryCrm } from "../fakes/memorySinks";
import type { DealStage, RefundStageIds } from "../../functions/src/sinks/ports";
import { contactState, crmContract, dealState, type ContactView, type CrmSubject, type DealView, type SubjectOptions } from "../contract/crm.contract";
import { setUpHubspot } from "../support/hubspot";
import { startHubspotServer, type HubspotObject, type HubspotServer } from "../vendors/hubspotServer";

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
    lifecycleStage: orNull(p.lifecyclestage),
  };
}

function stageId(ids: RefundStageIds | null, stage: DealStage): string {
  if (stage === "refunded" || stage === "partially_refunded") return ids?.stages[stage] ?? "<not stored>";
  return DEFAULT_PIPELINE_STAGES[stage];
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

async function hubspotSubject(opts: SubjectOptions = {}): Promise<CrmSubject> {
  const server = await startHubspotServer();
  const prepared = await setUpHubspot(server);
  const ids = opts.refundStagesStored === false ? null : await prepared.refundStages();
  return {
    crm: new HubspotCrm({ ...prepared, refundStages: async () => ids }),
    seedContact: (seed) =>
      createContactDirectly(server, {
        email: seed.email,
        ...(seed.uid ? { opsync_uid: seed.uid } : {}),
        ...(seed.firstName ? { firstname: seed.firstName } : {}),
      }),
    contacts: async () => server.contacts().map(contactView),
    deals: async () => server.deals().map((d) => dealView(server, d)),
    vendorStage: (stage) => stageId(ids, stage),
    rateLimitNext: (seconds) => server.failNext(1, 429, { retryAfterSeconds: seconds }),
    close: () => server.close(),
  };
}

async function memorySubject(opts: SubjectOptions = {}): Promise<CrmSubject> {
  const ids = opts.refundStagesStored === false ? null : MEMORY_REFUND_STAGES;
  const crm = new MemoryCrm({ refundStages: async () => ids });
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
        lifecycleStage: c.lifecycleStage,
      })),
    deals: async () => crm.deals().map((d) => ({ id: d.id, key: d.key, name: d.name, stage: d.vendorStage, amount: d.amount, contactIds: d.contactIds })),
    vendorStage: (stage) => stageId(ids, stage),
    rateLimitNext: (seconds) => crm.failNext(new TransientError("rate limited", seconds * 1000)),
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
  let config: Awaited<ReturnType<typeof setUpHubspot>>;

  beforeEach(async () => {
    server = await startHubspotServer();
    config = await setUpHubspot(server);
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
    const wrong = new HubspotCrm({ ...config, accessToken: "pat-na1-wrong" });
    expect(await failure(() => wrong.upsertContact(contactState()))).toMatchObject({ name: "PermanentError", httpStatus: 401 });
  });

  it("maps a server that is not there (closed port) to TransientError without a status", async () => {
    const other = await startHubspotServer();
    await other.close();
    const down = new HubspotCrm({ ...config, accessToken: other.token, basePath: other.url });
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
      const err = await failure(() => new HubspotCrm({ ...config, accessToken: bare.token, basePath: bare.url }).upsertContact(contactState()));
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


describe("HubSpot CRM adapter against a strict portal", () => {
  let server: HubspotServer;
  let config: Awaited<ReturnType<typeof setUpHubspot>>;
  beforeEach(async () => {
    server = await startHubspotServer();
    config = await setUpHubspot(server);
    server.requests.length = 0;
  });
  afterEach(async () => {
    await server.close();
  });

  it("never sends a stage name: the stand-in refuses one with HubSpot's 400, the adapter sends the generated id", async () => {
    const res = await fetch(`${server.url}/crm/v3/objects/deals/batch/upsert`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: JSON.stringify({ inputs: [{ id: "k1", idProperty: "opsync_deal_key", properties: { dealstage: "opsync_refunded", pipeline: "default" } }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: "error", category: "VALIDATION_ERROR", message: expect.stringContaining("was not one of the allowed options") });
    server.requests.length = 0;
    await new HubspotCrm(config).upsertDeal(dealState({ stage: "refunded" }));
    const sent = server.requests.find((r) => r.path === "/crm/v3/objects/deals/batch/upsert" && r.status === 200);
    const ids = await config.refundStages();
    expect(JSON.stringify(sent?.body)).toContain(`"dealstage":"${ids?.stages.refunded}"`);
    expect(JSON.stringify(server.requests.map((r) => r.body))).not.toMatch(/"dealstage":"(opsync_)?refunded"/);
  });

  it("does not send a backward lifecyclestage (a lead state after customer sends none)", async () => {
    const crm = new HubspotCrm(config);
    await crm.upsertContact(contactState({ lifecycleStage: "customer" }));
    server.requests.length = 0;
    await crm.upsertContact(contactState({ lifecycleStage: "lead", subscriptionStatus: "canceled" }));
    const bodies = JSON.stringify(server.requests.map((r) => r.body));
    expect(bodies).not.toContain("lifecyclestage");
    expect(server.contacts()[0]?.properties).toMatchObject({ lifecyclestage: "customer", opsync_subscription_status: "canceled" });
  });

  it("answers 207 for a partly failed batch and the adapter counts the succeeded input", async () => {
    const crm = new HubspotCrm(config);
    await crm.upsertContact(contactState({ uid: "u_other", email: "taken@example.com" }));
    server.requests.length = 0;
    const outcomes = await crm.upsertContacts([contactState({ uid: "u_a", email: "a@example.com" }), contactState({ uid: "u_b", email: "taken@example.com" })]);
    expect(server.requests[0]).toMatchObject({ path: "/crm/v3/objects/contacts/batch/upsert", status: 207 });
    expect(outcomes.filter((o) => "contactId" in o)).toHaveLength(1);
  });

  it("two concurrent raw upserts of one new unique value: one creates, the other gets the unique-value conflict", async () => {
    const upsert = () =>
      fetch(`${server.url}/crm/v3/objects/contacts/batch/upsert`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
        body: JSON.stringify({ inputs: [{ id: "u_race", idProperty: "opsync_uid", properties: {} }] }),
      });
    const statuses = (await Promise.all([upsert(), upsert()])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    expect(server.contacts()).toHaveLength(1);
  });

  it("refuses an upsert by a property that is not unique", async () => {
    const res = await fetch(`${server.url}/crm/v3/objects/contacts/batch/upsert`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: JSON.stringify({ inputs: [{ id: "pro", idProperty: "opsync_plan", properties: {} }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: "Unable to perform update/upsert by non-unique opsync_plan property" });
  });
});
