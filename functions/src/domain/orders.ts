/**
 * Marketplace order state machine. Every change of `status` goes through `transition`; an illegal move is
 * reported to the caller, which records it instead of applying it.
 */
import type { OrderStatus } from "./model.js";

const ALLOWED: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ["paid", "payment_failed", "canceled"],
  payment_failed: ["paid", "canceled"],
  paid: ["in_fulfillment", "refunded", "partially_refunded"],
  in_fulfillment: ["completed", "refunded", "partially_refunded"],
  completed: ["refunded", "partially_refunded"],
  partially_refunded: ["refunded", "in_fulfillment", "completed"],
  refunded: [],
  canceled: [],
};

export type TransitionResult =
  | { kind: "unchanged" }
  | { kind: "moved"; from: OrderStatus | null; to: OrderStatus }
  | { kind: "illegal"; from: OrderStatus; to: OrderStatus; reason: string };

export function transition(from: OrderStatus | null, to: OrderStatus): TransitionResult {
  if (from === null) return { kind: "moved", from, to };
  if (from === to) return { kind: "unchanged" };
  if (ALLOWED[from].includes(to)) return { kind: "moved", from, to };
  const allowed = ALLOWED[from];
  return {
    kind: "illegal",
    from,
    to,
    reason: `order cannot move from ${from} to ${to}${allowed.length ? ` (allowed: ${allowed.join(", ")})` : " (final state)"}`,
  };
}

export function allowedNext(from: OrderStatus): readonly OrderStatus[] {
  return ALLOWED[from];
}

/** Refund state from amounts: full when everything paid is refunded. */
export function refundStatus(amount: number | null, amountRefunded: number): OrderStatus | null {
  if (amountRefunded <= 0) return null;
  if (amount !== null && amountRefunded >= amount) return "refunded";
  return "partially_refunded";
}
