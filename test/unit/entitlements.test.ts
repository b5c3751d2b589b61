import { describe, expect, it } from "vitest";
import { entitlementsFor } from "../../functions/src/domain/entitlements";

const day = 86_400_000;
const t0 = new Date("2026-01-10T00:00:00Z");

describe("entitlements", () => {
  it("grants while active or trialing", () => {
    for (const status of ["active", "trialing"]) {
      expect(entitlementsFor({ status, granted: ["a"], eventAt: t0, previousPastDueSince: null, graceDays: 3 }).entitlements).toEqual(["a"]);
    }
  });
  it("keeps entitlements during the past_due grace and records until when", () => {
    const r = entitlementsFor({ status: "past_due", granted: ["a"], eventAt: t0, previousPastDueSince: null, graceDays: 3 });
    expect(r.entitlements).toEqual(["a"]);
    expect(r.graceUntil?.getTime()).toBe(t0.getTime() + 3 * day);
    expect(r.pastDueSince).toEqual(t0);
  });
  it("revokes once the grace has run out, counting from the first past_due", () => {
    const later = new Date(t0.getTime() + 4 * day);
    const r = entitlementsFor({ status: "past_due", granted: ["a"], eventAt: later, previousPastDueSince: t0, graceDays: 3 });
    expect(r.entitlements).toEqual([]);
  });
  it("grants nothing with zero grace or for ended subscriptions", () => {
    expect(entitlementsFor({ status: "past_due", granted: ["a"], eventAt: t0, previousPastDueSince: null, graceDays: 0 }).entitlements).toEqual([]);
    for (const status of ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused"]) {
      expect(entitlementsFor({ status, granted: ["a"], eventAt: t0, previousPastDueSince: null, graceDays: 3 }).entitlements).toEqual([]);
    }
  });
});
