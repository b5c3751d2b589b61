/**
 * Per-object ordering of Stripe events. Stripe delivers in no guaranteed order, so every object carries a
 * watermark of the newest event applied to it; an event at or below the watermark is stale.
 *
 * Key: `created` (seconds), then a lifecycle rank (Stripe often emits `*.created` and `*.updated` in the same
 * second; `*.deleted` is always last), then the event id as the final tie-break.
 */
export interface Watermark {
  created: number;
  eventId: string;
  eventType: string;
}

function lifecycleRank(eventType: string): number {
  if (eventType.endsWith(".created")) return 0;
  if (eventType.endsWith(".deleted")) return 2;
  return 1;
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareWatermarks(a: Watermark, b: Watermark): number {
  if (a.created !== b.created) return a.created - b.created;
  const rank = lifecycleRank(a.eventType) - lifecycleRank(b.eventType);
  if (rank !== 0) return rank;
  if (a.eventId === b.eventId) return 0;
  return a.eventId < b.eventId ? -1 : 1;
}

/** True when `incoming` must not change state already derived from `current`. */
export function isStale(incoming: Watermark, current: Watermark | null | undefined): boolean {
  return current != null && compareWatermarks(incoming, current) <= 0;
}
