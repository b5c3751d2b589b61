/** Entitlements are granted while a subscription is active or trialing, and for a grace period while past_due. */
const DAY_MS = 86_400_000;

export interface EntitlementState {
  entitlements: string[];
  graceUntil: Date | null;
  pastDueSince: Date | null;
}

export function entitlementsFor(input: {
  status: string;
  granted: string[];
  eventAt: Date;
  previousPastDueSince: Date | null;
  graceDays: number;
}): EntitlementState {
  const { status, granted, eventAt, previousPastDueSince, graceDays } = input;
  if (status === "active" || status === "trialing") {
    return { entitlements: granted, graceUntil: null, pastDueSince: null };
  }
  if (status === "past_due") {
    const since = previousPastDueSince ?? eventAt;
    const graceUntil = new Date(since.getTime() + graceDays * DAY_MS);
    const inGrace = graceDays > 0 && eventAt.getTime() < graceUntil.getTime();
    return { entitlements: inGrace ? granted : [], graceUntil: inGrace ? graceUntil : null, pastDueSince: since };
  }
  return { entitlements: [], graceUntil: null, pastDueSince: null };
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}
