import { describe, expect, it } from "vitest";
import { compareWatermarks, isStale } from "../../functions/src/domain/ordering";

const w = (created: number, eventId: string, eventType = "customer.subscription.updated") => ({ created, eventId, eventType });

describe("event ordering", () => {
  it("orders by created first", () => {
    expect(compareWatermarks(w(10, "evt_b"), w(11, "evt_a"))).toBeLessThan(0);
    expect(compareWatermarks(w(12, "evt_a"), w(11, "evt_z"))).toBeGreaterThan(0);
  });
  it("breaks a same-second tie by lifecycle (created < updated < deleted), then event id", () => {
    expect(compareWatermarks(w(10, "evt_z", "customer.subscription.created"), w(10, "evt_a", "customer.subscription.updated"))).toBeLessThan(0);
    expect(compareWatermarks(w(10, "evt_a", "customer.subscription.deleted"), w(10, "evt_z", "customer.subscription.updated"))).toBeGreaterThan(0);
    expect(compareWatermarks(w(10, "evt_a"), w(10, "evt_b"))).toBeLessThan(0);
  });
  it("treats older and equal events as stale, newer as fresh, and anything as fresh without a watermark", () => {
    expect(isStale(w(9, "evt_a"), w(10, "evt_a"))).toBe(true);
    expect(isStale(w(10, "evt_a"), w(10, "evt_a"))).toBe(true);
    expect(isStale(w(11, "evt_a"), w(10, "evt_a"))).toBe(false);
    expect(isStale(w(1, "evt_a"), null)).toBe(false);
  });
});
