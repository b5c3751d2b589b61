/**
 * The latest known state of each Stripe object opsync uses, per owner (a customer or an order), each with its own
 * watermark and source. Canonical records are derived from these (deriveCustomer / deriveOrder), never patched.
 *
 * Ordering: an event replaces a snapshot only when it is certainly newer: a later `created` second, or the same
 * second and a later lifecycle step (`*.created` < `*.updated` < `*.deleted`). Stripe event ids are random, so
 * within one second and one step they say nothing: different content there is `uncertain`, and the caller asks
 * the Stripe API for the object (revalidation) instead of guessing.
 */
import { deepEqual } from "./diff.js";
import type { Subject } from "./normalize.js";

export type SnapshotSource = "event" | "api";

export interface SnapshotMark {
  /** Event `created` (seconds), or when the object was fetched from the API. */
  created: number;
  eventId: string | null;
  /** The event type, or `api.retrieve` for a fetched object. */
  eventType: string;
  source: SnapshotSource;
}

export interface Snapshot {
  subject: Subject;
  mark: SnapshotMark;
  /** Subscriptions: when this subscription was first seen `past_due` in its current spell (seconds). */
  pastDueSince: number | null;
  /** Subscriptions: the newest second it is known not to have been `past_due` (bounds the spell from below). */
  notPastDueAt?: number | null;
  /** Subscriptions: the seconds it was seen `past_due` after `notPastDueAt` (at most 20, newest kept). */
  pastDueSeen?: number[];
  /** Event types in EVENT_FACTS seen for this object (applied or not); absent when none. */
  facts?: string[];
}

/**
 * What only an event's type says, not the object Stripe returns: an API read of a session whose async payment
 * failed shows `payment_status: unpaid`, like one still waiting. Kept on the snapshot so a revalidation or a later
 * event of the same object does not forget it (the derivation still guards each with the object's status).
 */
export const EVENT_FACTS = ["checkout.session.async_payment_failed", "invoice.payment_action_required"] as const;
export type EventFact = (typeof EVENT_FACTS)[number];

const isFact = (eventType: string): eventType is EventFact => (EVENT_FACTS as readonly string[]).includes(eventType);

/**
 * Whether `fact` holds for this snapshot: its own event type, or one recorded earlier. An async payment failure is
 * final for its session; a required action is superseded by the invoice's next event, so it carries only into API reads.
 */
export function saw(s: Snapshot, fact: EventFact): boolean {
  if (s.mark.eventType === fact) return true;
  const recorded = (s.facts ?? []).includes(fact);
  return recorded && (fact === "checkout.session.async_payment_failed" || s.mark.source === "api");
}

function withFacts(s: Snapshot, previous: Snapshot | null | undefined, eventType: string): Snapshot {
  const facts = new Set([...(previous?.facts ?? []), ...(s.facts ?? [])]);
  for (const t of [previous?.mark.eventType, eventType]) if (t && isFact(t)) facts.add(t);
  return facts.size ? { ...s, facts: [...facts].sort() } : s;
}

/** The current snapshot with a fact a late or tied event carried; null when it is known already or not a fact. */
export function learnFact(current: Snapshot, eventType: string): Snapshot | null {
  if (!isFact(eventType) || saw(current, eventType)) return null;
  return withFacts(current, null, eventType);
}

/** `customers/{uid}/private/stripe` and `orders/{orderId}/private/stripe`. */
export interface SnapshotSet {
  objects: Record<string, Snapshot>;
}

export const API_EVENT_TYPE = "api.retrieve";

export type Ordering = "newer" | "older" | "same" | "uncertain";

function lifecycleRank(eventType: string): number {
  if (eventType.endsWith(".created")) return 0;
  if (eventType.endsWith(".deleted")) return 2;
  return 1;
}

/** Where `incoming` stands against the snapshot it would replace. */
export function orderAgainst(incoming: { subject: Subject; mark: SnapshotMark }, current: Snapshot | null | undefined): Ordering {
  if (!current) return "newer";
  const a = incoming.mark;
  const b = current.mark;
  if (a.eventId !== null && a.eventId === b.eventId) return "same";
  if (a.created !== b.created) return a.created > b.created ? "newer" : "older";
  if (deepEqual(incoming.subject, current.subject)) return "same";
  // An API read and an event of the same second: either may reflect the other.
  if (a.source === "api" || b.source === "api") return "uncertain";
  const rank = lifecycleRank(a.eventType) - lifecycleRank(b.eventType);
  if (rank !== 0) return rank > 0 ? "newer" : "older";
  return "uncertain";
}

/**
 * Which ended objects of one kind a set keeps (live subscriptions and the customer always stay): every one touched
 * within KEEP_RECENT_S of the kind's newest mark, so reconciliation (which compares the last 30 days of invoices and
 * payment intents) never reports a kept-then-dropped object as missing; at least KEEP_PER_KIND; never more than
 * MAX_PER_KIND, so the document stays far below Firestore's 1 MiB.
 */
const KEEP_PER_KIND = 25;
const KEEP_RECENT_S = 35 * 24 * 3600;
export const MAX_PER_KIND = 100;
const LIVE_SUBSCRIPTION = ["active", "trialing", "past_due", "unpaid", "paused", "incomplete"];

const pinned = (kind: string, s: Snapshot) => kind === "customer" || (s.subject.kind === "subscription" && LIVE_SUBSCRIPTION.includes(s.subject.status));

export function emptySet(): SnapshotSet {
  return { objects: {} };
}

/** The set with `snapshot` stored under its object id, capped so the document stays small. */
export function putSnapshot(set: SnapshotSet, snapshot: Snapshot): SnapshotSet {
  const objects = { ...set.objects, [snapshot.subject.objectId]: snapshot };
  const byKind = new Map<string, Array<[string, Snapshot]>>();
  for (const entry of Object.entries(objects)) {
    const kind = entry[1].subject.kind;
    byKind.set(kind, [...(byKind.get(kind) ?? []), entry]);
  }
  const kept: Record<string, Snapshot> = {};
  for (const [kind, entries] of byKind) {
    const rest = entries.filter(([, s]) => !pinned(kind, s)).sort(([ia, a], [ib, b]) => b.mark.created - a.mark.created || (ia < ib ? 1 : -1));
    for (const [id, s] of entries) if (pinned(kind, s)) kept[id] = s;
    const newest = rest[0]?.[1].mark.created ?? 0;
    rest.forEach(([id, s], i) => {
      if (i < KEEP_PER_KIND || (i < MAX_PER_KIND && s.mark.created >= newest - KEEP_RECENT_S)) kept[id] = s;
    });
  }
  return { objects: kept };
}

/**
 * Whether the set may have dropped objects of this kind that are still recent (it holds MAX_PER_KIND of them): an
 * object Stripe lists but the set lacks is then not evidence of a missed event.
 */
export function mayHaveDroppedRecent(set: SnapshotSet, kind: Subject["kind"]): boolean {
  let n = 0;
  for (const s of Object.values(set.objects)) if (s.subject.kind === kind && !pinned(kind, s)) n += 1;
  return n >= MAX_PER_KIND;
}

/** `pastDueSince` for a subscription snapshot that replaces `previous`. */
export function pastDueSinceFor(subject: Subject, mark: SnapshotMark, previous: Snapshot | null | undefined): number | null {
  if (subject.kind !== "subscription" || subject.status !== "past_due") return null;
  const before = previous?.subject.kind === "subscription" && previous.subject.status === "past_due" ? previous.pastDueSince : null;
  return before ?? mark.created;
}

const MAX_PAST_DUE_SEEN = 20;

/** A subscription's status seen at `created` (applied or not), folded into what is known about its past_due spell. */
function observe(s: Snapshot, status: string, created: number): Snapshot {
  let floor = s.notPastDueAt ?? null;
  let seen = s.pastDueSeen ?? [];
  if (status === "past_due") {
    if (floor === null || created >= floor) seen = [...new Set([...seen, created])].sort((a, b) => a - b).slice(-MAX_PAST_DUE_SEEN);
  } else if (floor === null || created > floor) {
    floor = created;
    // Within one second Stripe's order is unknown: a past_due of the same second still counts.
    seen = seen.filter((t) => t >= created);
  }
  const pastDue = s.subject.kind === "subscription" && s.subject.status === "past_due";
  return { ...s, notPastDueAt: floor, pastDueSeen: seen, pastDueSince: pastDue ? (seen[0] ?? s.mark.created) : null };
}

/** What a stored snapshot already says about its spell (documents written before the fields existed). */
function known(s: Snapshot): Snapshot {
  if (s.pastDueSeen !== undefined || s.subject.kind !== "subscription") return s;
  const pastDue = s.subject.status === "past_due";
  return { ...s, notPastDueAt: pastDue ? null : s.mark.created, pastDueSeen: pastDue ? [s.pastDueSince ?? s.mark.created] : [] };
}

/**
 * The snapshot an object's newer state becomes. Subscriptions also carry their past_due spell: every status seen
 * (from events applied or not) moves `notPastDueAt` (the newest second it was seen otherwise) and `pastDueSeen` (the
 * past_due seconds after it); `pastDueSince` is the earliest of those while the subscription is past_due.
 */
export function nextSnapshot(subject: Subject, mark: SnapshotMark, previous: Snapshot | null | undefined): Snapshot {
  if (subject.kind !== "subscription") return withFacts({ subject, mark, pastDueSince: null }, previous, mark.eventType);
  const base: Snapshot = previous?.subject.kind === "subscription" ? known(previous) : { subject, mark, pastDueSince: null, notPastDueAt: null, pastDueSeen: [] };
  return observe({ ...base, subject, mark }, subject.status, mark.created);
}

/**
 * What a subscription event that does not replace the snapshot (older, or a same-second tie) tells about when the
 * current past_due spell began; null when it changes nothing.
 */
export function learnPastDue(current: Snapshot, status: string, created: number): Snapshot | null {
  if (current.subject.kind !== "subscription") return null;
  const base = known(current);
  const next = observe(base, status, created);
  return next.pastDueSince === current.pastDueSince && next.notPastDueAt === base.notPastDueAt && deepEqual(next.pastDueSeen, base.pastDueSeen) ? null : next;
}

export function snapshotsOf<K extends Subject["kind"]>(set: SnapshotSet | null, kind: K): Array<Snapshot & { subject: Extract<Subject, { kind: K }> }> {
  if (!set) return [];
  return Object.values(set.objects).filter((s): s is Snapshot & { subject: Extract<Subject, { kind: K }> } => s.subject.kind === kind);
}
