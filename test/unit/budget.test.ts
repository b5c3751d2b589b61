/**
 * Per-vendor budgets, pure part (domain/budget.ts) and the adapters' header reports against the strict stand-ins:
 * the GCRA shape never lets opsync exceed the vendor's limit in any window, waiting jobs get distinct slots,
 * headers near the reserve hold the account, and every HubSpot / Zendesk answer reports its rate-limit headers.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  RateSignals,
  accountOf,
  bucketShape,
  holdForSignal,
  hubspotRateSignal,
  reserve,
  zendeskRateSignal,
  type RateSignal,
  type VendorLimit,
} from "../../functions/src/domain/budget";
import { HubspotCrm, HubspotTickets } from "../../functions/src/sinks/hubspot";
import type { TicketRequest } from "../../functions/src/sinks/ports";
import { ZendeskHelpdesk } from "../../functions/src/sinks/zendesk";
import { setUpHubspot } from "../support/hubspot";
import { startHubspotServer, type HubspotServer } from "../vendors/hubspotServer";
import { startZendeskServer } from "../vendors/zendeskServer";

const TICKET: TicketRequest = {
  requestId: "r1",
  subject: "s",
  body: "b",
  priority: "normal",
  tags: [],
  requester: { email: "a@example.test", name: null },
  contactId: null,
  context: { uid: "u1", stripeCustomerId: null, plan: null, subscriptionStatus: null, lastPaymentAt: null, openOrders: [] },
};

/** Greedy callers: each asks as early as the bucket allows; returns the start times of `n` requests of cost 1. */
function greedyStarts(limit: VendorLimit, n: number): number[] {
  const shape = bucketShape(limit);
  const tats: Array<number | null> = Array.from({ length: shape.shards }, () => null);
  return Array.from({ length: n }, (_, i) => {
    const shard = i % shape.shards;
    const r = reserve(tats[shard] ?? null, 1, 0, shape);
    tats[shard] = r.tat;
    return r.startAt;
  });
}

describe("vendor budgets (pure)", () => {
  it.each<[string, VendorLimit]>([
    ["HubSpot Free/Starter", { requests: 100, windowMs: 10_000 }],
    ["HubSpot Professional", { requests: 190, windowMs: 10_000 }],
    ["Zendesk Team", { requests: 200, windowMs: 60_000 }],
    ["Slack", { requests: 60, windowMs: 60_000 }],
    ["tiny", { requests: 4, windowMs: 10_000 }],
  ])("%s: greedy callers never exceed the limit in any window, and all waiting callers get distinct slots", (_name, limit) => {
    const starts = greedyStarts(limit, limit.requests * 5);
    const sorted = [...starts].sort((a, b) => a - b);
    const busiest = Math.max(...sorted.map((s) => sorted.filter((t) => t >= s && t < s + limit.windowMs).length));
    expect(busiest).toBeLessThanOrEqual(limit.requests);
    // Not much below either: at least 70 % of the limit over the long run (the paced share is 80 %).
    expect(sorted.length / ((sorted.at(-1) ?? 0) / limit.windowMs + 1)).toBeGreaterThan(limit.requests * 0.7);
    const shape = bucketShape(limit);
    const perShard = starts.filter((_, i) => i % shape.shards === 0);
    expect(new Set(perShard.filter((s) => s > 0)).size).toBe(perShard.filter((s) => s > 0).length);
  });

  it("shards a fast bucket so no document takes more than ~5 writes per second", () => {
    expect(bucketShape({ requests: 190, windowMs: 10_000 }).shards).toBe(2);
    expect(bucketShape({ requests: 100, windowMs: 10_000 }).shards).toBe(1);
    expect(bucketShape({ requests: 25, windowMs: 1_000 }).shards).toBe(3);
  });

  it("CRM and HubSpot tickets map to one account; Zendesk tickets to their own", () => {
    expect(accountOf("crm", "hubspot")).toBe("hubspot");
    expect(accountOf("helpdesk", "hubspot")).toBe("hubspot");
    expect(accountOf("helpdesk", "zendesk")).toBe("zendesk");
    expect([accountOf("notify", "hubspot"), accountOf("claims", "hubspot"), accountOf("stripe", "hubspot")]).toEqual(["slack", "auth", "stripe"]);
  });

  it("holds the account only near the reserve: rolling windows until the reserve is back, fixed windows until reset", () => {
    const rolling = (remaining: number): RateSignal => ({ remaining, max: 190, intervalMs: 10_000, resetMs: null });
    expect(holdForSignal(rolling(100))).toBeNull();
    expect(holdForSignal(rolling(20))).toBeNull();
    expect(holdForSignal(rolling(19))).toBe(250); // at least a quarter second
    expect(holdForSignal(rolling(0))).toBe(Math.ceil(20 / 0.019));
    expect(holdForSignal({ remaining: 3, max: 100, intervalMs: 60_000, resetMs: 41_000 })).toBe(41_000);
  });

  it("reads HubSpot's and Zendesk's rate-limit headers; the tighter Zendesk limit counts", () => {
    const h = (m: Record<string, string>) => (name: string) => m[name] ?? null;
    expect(hubspotRateSignal(h({ "x-hubspot-ratelimit-max": "190", "x-hubspot-ratelimit-remaining": "7", "x-hubspot-ratelimit-interval-milliseconds": "10000" }))).toEqual({
      max: 190, remaining: 7, intervalMs: 10_000, resetMs: null,
    });
    expect(hubspotRateSignal(h({ "x-hubspot-ratelimit-max": "190" }))).toBeNull();
    const zendesk = h({ "x-rate-limit": "700", "x-rate-limit-remaining": "650", "ratelimit-reset": "41", "zendesk-ratelimit-tickets-index": "total=100; remaining=3; resets=12" });
    expect(zendeskRateSignal(zendesk)).toEqual({ max: 100, remaining: 3, intervalMs: 60_000, resetMs: 12_000 });
    expect(zendeskRateSignal(h({ "x-rate-limit": "200", "x-rate-limit-remaining": "150" }))).toEqual({ max: 200, remaining: 150, intervalMs: 60_000, resetMs: null });
  });

  it("a signal is read once per account", () => {
    const signals = new RateSignals();
    signals.recorder("hubspot")({ remaining: 1, max: 10, intervalMs: 1000, resetMs: null });
    expect(signals.take("zendesk")).toBeNull();
    expect(signals.take("hubspot")).toMatchObject({ remaining: 1 });
    expect(signals.take("hubspot")).toBeNull();
  });
});

describe("HubSpot adapters report the portal's X-HubSpot-RateLimit-* headers (strict stand-in)", () => {
  let server: HubspotServer;
  beforeEach(async () => {
    server = await startHubspotServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it("contacts and tickets report into one account, counting down one portal budget", async () => {
    const config = await setUpHubspot(server, { timeoutMs: 2000 });
    server.setRateLimit(50, 10_000);
    const seen: RateSignal[] = [];
    const observeRate = (s: RateSignal | null) => {
      if (s) seen.push(s);
    };
    const crm = new HubspotCrm({ ...config, observeRate });
    const tickets = new HubspotTickets({ ...config, observeRate });
    await crm.upsertContact({ uid: "u1", email: null, firstName: null, lastName: null, plan: null, subscriptionStatus: null, mrr: null, lastPaymentAt: null, stripeCustomerId: null, lifecycleStage: "lead" });
    await tickets.createTicket(TICKET);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.map((s) => s.remaining)).toEqual(seen.map((_, i) => 49 - i));
    expect(seen.every((s) => s.max === 50 && s.intervalMs === 10_000)).toBe(true);
  });
});

describe("the Zendesk adapter reports the account's and List Tickets' rate-limit headers (strict stand-in)", () => {
  it("the tighter of the two limits reaches the budget", async () => {
    const server = await startZendeskServer({ rateLimitPerMinute: 50 });
    try {
      const seen: RateSignal[] = [];
      const zd = new ZendeskHelpdesk({ baseUrl: server.url, email: server.email, apiToken: server.token, timeoutMs: 2000, observeRate: (s) => void (s && seen.push(s)) });
      await zd.createTicket(TICKET);
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.every((s) => s.max === 50 || s.max === 100)).toBe(true);
      expect(seen.at(-1)).toMatchObject({ max: 50, remaining: 50 - seen.length });
    } finally {
      await server.close();
    }
  });
});
