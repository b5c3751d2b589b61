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

/**
 * A move derived from Stripe's payment facts: legal when the target can be reached through legal steps. Events
 * arrive in any order, so a refund can be the first news that an order was paid (pending_payment → paid →
 * partially_refunded); a move no path allows (out of refunded or canceled) stays illegal.
 */
export function transitionThrough(from: OrderStatus | null, to: OrderStatus): TransitionResult {
  const direct = transition(from, to);
  if (direct.kind !== "illegal" || from === null) return direct;
  const seen = new Set<OrderStatus>([from]);
  const queue: OrderStatus[] = [from];
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    for (const next of ALLOWED[at]) {
      if (next === to) return { kind: "moved", from, to };
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return direct;
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
