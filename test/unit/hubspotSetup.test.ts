import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../functions/src/domain/errors";
import type { RefundStageIds } from "../../functions/src/domain/syncModel";
import { REQUIRED_HUBSPOT_SCOPES, checkHubspotScopes, ensureHubspotProperties } from "../../functions/src/sinks/hubspotSetup";
import { runHubspotSetup } from "../../scripts/hubspotSetup";
import { ALL_SCOPES, startHubspotServer, type HubspotServer } from "../vendors/hubspotServer";

async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("npm run hubspot:setup (runHubspotSetup) against the stand-in", () => {
  let server: HubspotServer;
  beforeEach(async () => {
    server = await startHubspotServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it("checks scopes with the v2 token-info endpoint, creates properties and refund stages, stores their ids; a rerun finds them", async () => {
    const saved: RefundStageIds[] = [];
    const lines: string[] = [];
    const deps = { config: { accessToken: server.token, basePath: server.url }, saveStages: async (ids: RefundStageIds) => void saved.push(ids), log: (l: string) => void lines.push(l) };
    expect(await runHubspotSetup(deps)).toBe(true);
    const tokenCall = server.requests[0];
    expect(tokenCall).toMatchObject({ method: "POST", path: "/oauth/v2/private-apps/get/access-token-info", status: 200, body: { tokenKey: "<redacted>" } });
    expect(server.properties("contacts").find((p) => p.name === "opsync_uid")).toMatchObject({ hasUniqueValue: true });
    const stages = server.dealStages("default");
    const refunded = stages.find((s) => s.label === "Refunded (opsync)");
    const partial = stages.find((s) => s.label === "Partially refunded (opsync)");
    expect(refunded?.id).toMatch(/^\d+$/);
    expect(saved).toEqual([{ pipelineId: "default", stages: { refunded: refunded?.id, partially_refunded: partial?.id } }]);

    expect(await runHubspotSetup(deps)).toBe(true);
    expect(saved[1]).toEqual(saved[0]);
    expect(server.dealStages("default")).toHaveLength(stages.length);
  });

  it("fails clearly on a missing scope, changing nothing", async () => {
    server.setScopes(ALL_SCOPES.filter((s) => s !== "crm.schemas.deals.write"));
    const lines: string[] = [];
    const saved: RefundStageIds[] = [];
    const ok = await runHubspotSetup({ config: { accessToken: server.token, basePath: server.url }, saveStages: async (ids) => void saved.push(ids), log: (l) => void lines.push(l) });
    expect(ok).toBe(false);
    expect(lines.join("\n")).toContain("The token lacks scopes: crm.schemas.deals.write");
    expect(saved).toEqual([]);
    expect(server.properties("contacts").some((p) => p.name === "opsync_uid")).toBe(false);
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
    expect(server.requests.map((r) => r.path)).toEqual(["/oauth/v2/private-apps/get/access-token-info", "/oauth/v2/private-apps/get/access-token-info"]);
    expect(JSON.stringify(server.requests.map((r) => r.body))).not.toContain(server.token);
  });

  it("reports an unknown token as a permanent failure", async () => {
    const err = await failure(() => checkHubspotScopes({ accessToken: "pat-na1-unknown", basePath: server.url }));
    expect(err).toMatchObject({ name: "PermanentError", httpStatus: 404 });
  });
});
