/**
 * The stand-ins' failure switches over HTTP (`/__control`), as a developer uses them while `npm start` runs.
 * Each stand-in runs in-process on a free port.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startHubspotServer, type HubspotServer } from "../vendors/hubspotServer";
import { startSlackServer, type SlackServer } from "../vendors/slackServer";
import { startZendeskServer, type ZendeskServer } from "../vendors/zendeskServer";

async function control(base: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}/__control`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, json: await res.json() };
}

interface Target {
  name: string;
  base(): string;
  /** One ordinary API call; resolves to its status, or "reset" when the connection was dropped. */
  call(): Promise<{ status: number | "reset"; retryAfter: string | null }>;
  okStatus: number;
  downStatus: number | "reset";
  revokedStatus: number;
  reset(): void;
}

let hubspot: HubspotServer;
let zendesk: ZendeskServer;
let slack: SlackServer;

async function outcome(req: Promise<Response>): Promise<{ status: number | "reset"; retryAfter: string | null }> {
  try {
    const res = await req;
    await res.text();
    return { status: res.status, retryAfter: res.headers.get("retry-after") };
  } catch {
    return { status: "reset", retryAfter: null };
  }
}

const targets: Target[] = [
  {
    name: "HubSpot",
    base: () => hubspot.url,
    call: () => outcome(fetch(`${hubspot.url}/crm/v3/pipelines/deals/default/stages`, { headers: { authorization: `Bearer ${hubspot.token}` }, signal: AbortSignal.timeout(5000) })),
    okStatus: 200,
    downStatus: 503,
    revokedStatus: 401,
    reset: () => hubspot.reset(),
  },
  {
    name: "Zendesk",
    base: () => zendesk.url,
    call: () =>
      outcome(
        fetch(`${zendesk.url}/api/v2/tickets.json?external_id=x`, {
          headers: { authorization: `Basic ${Buffer.from(`${zendesk.email}/token:${zendesk.token}`).toString("base64")}` },
          signal: AbortSignal.timeout(5000),
        }),
      ),
    okStatus: 200,
    downStatus: "reset",
    revokedStatus: 401,
    reset: () => zendesk.reset(),
  },
  {
    name: "Slack",
    base: () => slack.baseUrl,
    call: () => outcome(fetch(slack.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "hi" }), signal: AbortSignal.timeout(5000) })),
    okStatus: 200,
    downStatus: "reset",
    revokedStatus: 403,
    reset: () => slack.reset(),
  },
];

beforeAll(async () => {
  [hubspot, zendesk, slack] = await Promise.all([startHubspotServer(), startZendeskServer(), startSlackServer({ perSecond: Infinity })]);
});
afterAll(async () => {
  await Promise.all([hubspot.close(), zendesk.close(), slack.close()]);
});

describe.each(targets)("$name /__control", (t) => {
  beforeEach(() => t.reset());

  it("GET shows the switches; an empty POST changes nothing", async () => {
    const idle = { mode: "up", pendingFailures: [], latencyMs: 0, rateLimit: null, auth: "ok" };
    expect(await control(t.base())).toEqual({ status: 200, json: idle });
    expect(await control(t.base(), {})).toEqual({ status: 200, json: idle });
  });

  it("failNext + status (+ retryAfterSeconds) fails exactly that many calls", async () => {
    const set = await control(t.base(), { failNext: 2, status: 503, retryAfterSeconds: 4 });
    expect(set.json).toMatchObject({ pendingFailures: [{ status: 503, retryAfterSeconds: 4 }, { status: 503, retryAfterSeconds: 4 }] });
    expect(await t.call()).toEqual({ status: 503, retryAfter: "4" });
    expect((await t.call()).status).toBe(503);
    expect((await t.call()).status).toBe(t.okStatus);
  });

  it("mode down, then up; /__control answers while down", async () => {
    await control(t.base(), { mode: "down" });
    expect((await t.call()).status).toBe(t.downStatus);
    expect((await control(t.base())).json).toMatchObject({ mode: "down" });
    await control(t.base(), { mode: "up" });
    expect((await t.call()).status).toBe(t.okStatus);
  });

  it("latencyMs delays answers", async () => {
    await control(t.base(), { latencyMs: 300 });
    const started = Date.now();
    expect((await t.call()).status).toBe(t.okStatus);
    // A lower bound only: a loaded machine can be slower, never faster.
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it("rateLimit answers 429 with Retry-After until lifted", async () => {
    await control(t.base(), { rateLimit: { retryAfterSeconds: 30 } });
    const limited = await t.call();
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect((await control(t.base())).json).toMatchObject({ rateLimit: { retryAfterSeconds: expect.any(Number) } });
    await control(t.base(), { rateLimit: null });
    expect((await t.call()).status).toBe(t.okStatus);
  });

  it("auth revoked refuses every call until ok", async () => {
    await control(t.base(), { auth: "revoked" });
    expect((await t.call()).status).toBe(t.revokedStatus);
    await control(t.base(), { auth: "ok" });
    expect((await t.call()).status).toBe(t.okStatus);
  });

  it("reset clears every switch", async () => {
    await control(t.base(), { mode: "down", latencyMs: 50, failNext: 1, status: 500, auth: "revoked", rateLimit: { retryAfterSeconds: 9 } });
    expect((await control(t.base(), { reset: true })).json).toEqual({ mode: "up", pendingFailures: [], latencyMs: 0, rateLimit: null, auth: "ok" });
    expect((await t.call()).status).toBe(t.okStatus);
  });

  it("refuses unknown fields and invalid values with 400, changing nothing", async () => {
    for (const bad of [{ mode: "sideways" }, { failNext: 1 }, { fialNext: 1, status: 500 }, { latencyMs: -1 }]) {
      const res = await control(t.base(), bad);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ error: "invalid control body" });
    }
    expect((await control(t.base())).json).toMatchObject({ mode: "up", pendingFailures: [] });
  });
});
