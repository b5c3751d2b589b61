/**
 * What the Stripe extension replica needs before a workload reaches it, as a real installation would have it:
 * `customers/{uid}` with `stripeId` (the extension writes it when it creates the Stripe customer; here in
 * `bench_ext_customers`), and each subscription retrievable from the Stripe API (the local stand-in, POST /__seed),
 * seeded with its product embedded — the shape the extension's `expand: items.data.price.product` gives.
 * The products carry no `firebaseRole`, so the replica makes no Auth calls: the cheaper path for the extension.
 */
import type { Firestore } from "firebase-admin/firestore";
import type { Workload } from "./workload";

export const LOCAL_STRIPE = "http://127.0.0.1:4640";
const STAND_IN_TIMEOUT_MS = 10_000;

async function standIn(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${LOCAL_STRIPE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(STAND_IN_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Stripe stand-in ${path} answered ${res.status}: ${text.slice(0, 200)}`);
}

/**
 * The stand-in allows 25 reads/s (Stripe's test-mode limit); the replica makes one read per subscription event, so
 * the ack rounds would measure 429s. Live mode allows 100/s; the bench lifts the limit while it runs and says so.
 */
export async function setStandInRateLimit(perSecond: number | null): Promise<void> {
  await standIn("/__control", { rateLimitPerSecond: perSecond });
}

const record = (v: unknown): Record<string, unknown> | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

const SUBSCRIPTION_DEFAULTS: ReadonlyArray<[string, boolean | null]> = [
  ["cancel_at_period_end", false], ["cancel_at", null], ["canceled_at", null], ["ended_at", null], ["trial_start", null], ["trial_end", null],
];

/** The subscription object of the last subscription event in each customer's chain, product embedded. */
function subscriptionsToSeed(workload: Workload): Record<string, unknown>[] {
  const bySub = new Map<string, Record<string, unknown>>();
  for (const chain of workload.chains) {
    for (const d of chain) {
      if (d.kind !== "customer.subscription.created" && d.kind !== "customer.subscription.updated") continue;
      const sub = record(JSON.parse(JSON.stringify(d.event.data.object)));
      if (sub && typeof sub.id === "string") bySub.set(sub.id, sub);
    }
  }
  // A burst (checkout only) has no subscription event: seed what its checkout points at.
  for (const ids of workload.customers) {
    if (bySub.has(ids.sub)) continue;
    bySub.set(ids.sub, { id: ids.sub, object: "subscription", customer: ids.cus, status: "active", livemode: false, metadata: {}, created: Math.floor(Date.now() / 1000),
      items: { object: "list", data: [{ id: `si_${ids.sub}`, object: "subscription_item", quantity: 1, current_period_start: Math.floor(Date.now() / 1000), current_period_end: Math.floor(Date.now() / 1000) + 30 * 86400,
        price: { id: "price_basic", object: "price", product: "prod_basic", currency: "usd", unit_amount: 900 } }] } });
  }
  for (const sub of bySub.values()) {
    const items = record(sub.items);
    for (const item of Array.isArray(items?.data) ? items.data : []) {
      const price = record(record(item)?.price);
      if (price && typeof price.product === "string") price.product = { id: price.product, object: "product", name: price.product, metadata: {} };
    }
    if (typeof sub.created !== "number") sub.created = Math.floor(Date.now() / 1000);
    // Stripe always sends these (false / null when unset); without them the replica's write of a checkout's
    // subscription failed on `undefined` and skipped the work the real extension does.
    for (const [field, unset] of SUBSCRIPTION_DEFAULTS) if (!(field in sub)) sub[field] = unset;
  }
  return [...bySub.values()];
}

export async function prepareExtension(db: Firestore, workload: Workload): Promise<void> {
  const batch = db.batch();
  for (const ids of [...workload.customers, ...workload.buyers]) batch.set(db.collection("bench_ext_customers").doc(ids.uid), { stripeId: ids.cus, email: `${ids.uid}@example.com` });
  await batch.commit();
  const subs = subscriptionsToSeed(workload);
  for (let i = 0; i < subs.length; i += 100) await standIn("/__seed", { objects: subs.slice(i, i + 100) });
}
