import { describe, expect, it } from "vitest";
import { allowedNext, refundStatus, transition } from "../../functions/src/domain/orders";
import { ORDER_STATUSES } from "../../functions/src/domain/model";

describe("order state machine", () => {
  it("follows the happy path pending_payment -> paid -> in_fulfillment -> completed", () => {
    expect(transition("pending_payment", "paid")).toEqual({ kind: "moved", from: "pending_payment", to: "paid" });
    expect(transition("paid", "in_fulfillment").kind).toBe("moved");
    expect(transition("in_fulfillment", "completed").kind).toBe("moved");
  });
  it("creates an order in any state when none exists yet", () => {
    for (const to of ORDER_STATUSES) expect(transition(null, to).kind).toBe("moved");
  });
  it("refuses illegal moves with a reason naming both states", () => {
    const r = transition("refunded", "paid");
    expect(r.kind).toBe("illegal");
    if (r.kind === "illegal") expect(r.reason).toContain("refunded to paid");
    expect(transition("pending_payment", "completed").kind).toBe("illegal");
    expect(transition("canceled", "paid").kind).toBe("illegal");
    expect(transition("paid", "pending_payment").kind).toBe("illegal");
  });
  it("treats a repeat of the current state as unchanged", () => {
    for (const s of ORDER_STATUSES) expect(transition(s, s)).toEqual({ kind: "unchanged" });
  });
  it("has final states with no way out", () => {
    expect(allowedNext("refunded")).toEqual([]);
    expect(allowedNext("canceled")).toEqual([]);
  });
  it("derives refund status from amounts", () => {
    expect(refundStatus(5000, 0)).toBeNull();
    expect(refundStatus(5000, 1000)).toBe("partially_refunded");
    expect(refundStatus(5000, 5000)).toBe("refunded");
    expect(refundStatus(null, 100)).toBe("partially_refunded");
  });
});
