/**
 * The signed-event mix: chains of deliveries, a chain being one customer's (or one order's) events, sent strictly in
 * order. Subscription lifecycles (checkout, subscription created, invoice paid, subscription updated), marketplace
 * payments, and ~10% duplicate re-deliveries later in the same chain. Structure seeded, ids fresh every build.
 */
import { performance } from "node:perf_hooks";
import { checkoutSession, invoice, paymentIntent, price, stripeEvent, subscription, uniq, type FixtureEvent } from "../../test/support/stripeFixtures";

/** Small deterministic PRNG so the workload's structure is the same run to run (ids are random). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type DeliveryKind =
  | "checkout.session.completed"
  | "customer.subscription.created"
  | "invoice.paid"
  | "customer.subscription.updated"
  | "payment_intent.succeeded";

export const DELIVERY_KINDS: readonly DeliveryKind[] = [
  "checkout.session.completed",
  "customer.subscription.created",
  "invoice.paid",
  "customer.subscription.updated",
  "payment_intent.succeeded",
];

/** One of the fixture events this bench sends (FixtureEvent<T> is invariant in T, hence the mapped union). */
export type BenchEvent = { [K in DeliveryKind]: FixtureEvent<K> }[DeliveryKind];

export interface Delivery {
  event: BenchEvent;
  kind: DeliveryKind;
  /** A re-delivery of an event already sent earlier in the same chain. */
  redelivery: boolean;
  /** The customer's uid (subscription lifecycles), so a reader can check customers/{uid}. */
  uid: string | null;
}

export interface CustomerIds {
  uid: string;
  cus: string;
  sub: string;
}

/** A marketplace buyer: the app's user and the Stripe customer their payments carry. */
export interface BuyerIds {
  uid: string;
  cus: string;
}

export interface Workload {
  chains: Delivery[][];
  deliveries: number;
  customers: CustomerIds[];
  buyers: BuyerIds[];
  lifecycleEvents: number;
  marketplace: number;
  redeliveries: number;
  /** Distinct event ids; each should end up as exactly one stripeEvents ledger doc. */
  distinctEvents: number;
  eventIdPrefix: string;
}

const BASIC = price({ id: "price_basic", lookupKey: "basic", entitlements: "reports", amount: 900 });
const PRO = price({ id: "price_pro", lookupKey: "pro", entitlements: "reports,export", supportTier: "priority", amount: 2900 });

export function customerChain(tag: string, index: number, created: number): { chain: Delivery[]; ids: CustomerIds } {
  const ids: CustomerIds = { uid: uniq("user"), cus: uniq("cus"), sub: uniq("sub") };
  const evt = (k: number) => ({ id: uniq(`evt_${tag}`), created: created + k });
  // Half the subscriptions carry the uid in metadata (subscription_data.metadata); the rest resolve via the mapping.
  const uidMeta = index % 2 === 0 ? { uid: ids.uid } : {};
  const variant = index % 3;
  const periodEnd = Math.floor(Date.now() / 1000) + 30 * 86400;
  const sub = (p = BASIC, extra: { cancelAtPeriodEnd?: boolean; periodEnd?: number } = {}) =>
    subscription({ id: ids.sub, customer: ids.cus, status: "active", price: p, periodEnd, ...uidMeta, ...extra });
  const d = <K extends DeliveryKind>(kind: K, event: FixtureEvent<K>): Delivery => ({ kind, event: event as BenchEvent, redelivery: false, uid: ids.uid });
  const chain: Delivery[] = [
    d(
      "checkout.session.completed",
      stripeEvent(
        "checkout.session.completed",
        checkoutSession({ id: uniq("cs"), mode: "subscription", customer: ids.cus, clientReferenceId: ids.uid, subscription: ids.sub, amount: 900, email: `${ids.uid}@example.com` }),
        evt(0),
      ),
    ),
    d("customer.subscription.created", stripeEvent("customer.subscription.created", sub(), evt(1))),
    d(
      "invoice.paid",
      stripeEvent(
        "invoice.paid",
        invoice({ id: uniq("in"), customer: ids.cus, subscription: ids.sub, status: "paid", amount: 900, billingReason: "subscription_create", ...uidMeta }),
        evt(2),
      ),
    ),
    d(
      "customer.subscription.updated",
      variant === 0
        ? // Upgrade: plan and entitlements change (CRM deal + claims jobs).
          stripeEvent("customer.subscription.updated", sub(PRO), { ...evt(3), previous: { items: { data: [{ price: { id: "price_basic" } }] } } })
        : variant === 1
          ? // Cancel at period end.
            stripeEvent("customer.subscription.updated", sub(BASIC, { cancelAtPeriodEnd: true }), { ...evt(3), previous: { cancel_at_period_end: false } })
          : // Renewal: the period moves on.
            stripeEvent("customer.subscription.updated", sub(BASIC, { periodEnd: periodEnd + 30 * 86400 }), { ...evt(3), previous: { current_period_end: periodEnd } }),
    ),
  ];
  return { chain, ids };
}

/**
 * One marketplace payment. The buyer is a signed-up user with a Stripe customer (as the extension creates for every
 * user), so the extension replica records the payment under them instead of stopping at "User not found!".
 */
export function marketplaceChain(tag: string, created: number, amount: number): { chain: Delivery[]; buyer: BuyerIds } {
  const orderId = uniq("ord");
  const buyer = { uid: uniq("user"), cus: uniq("cus") };
  const pi = paymentIntent({ id: uniq("pi"), customer: buyer.cus, status: "succeeded", amount, metadata: { orderId, buyerUid: buyer.uid, sellerUid: uniq("seller") } });
  return { chain: [{ kind: "payment_intent.succeeded", redelivery: false, uid: null, event: stripeEvent("payment_intent.succeeded", pi, { id: uniq(`evt_${tag}`), created }) }], buyer };
}

function shuffle<T>(items: T[], rand: () => number): void {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rand() * (i + 1));
    const a = items[i];
    const b = items[j];
    if (a !== undefined && b !== undefined) {
      items[i] = b;
      items[j] = a;
    }
  }
}

export function buildWorkload(tag: string, deliveries: number, seed: number): Workload {
  const rand = prng(seed);
  const customerCount = Math.max(1, Math.round(deliveries / 6));
  const redeliveries = Math.round(deliveries / 10);
  const marketplace = Math.max(0, deliveries - 4 * customerCount - redeliveries);
  // Every chain's events are a few seconds apart, an hour ago: `created` orders them, the signature time is now.
  const created = Math.floor(Date.now() / 1000) - 3600;

  const chains: Delivery[][] = [];
  const customers: CustomerIds[] = [];
  for (let i = 0; i < customerCount; i += 1) {
    const { chain, ids } = customerChain(tag, i, created);
    chains.push(chain);
    customers.push(ids);
  }
  const buyers: BuyerIds[] = [];
  for (let i = 0; i < marketplace; i += 1) {
    const { chain, buyer } = marketplaceChain(tag, created, 1000 + Math.floor(rand() * 20_000));
    chains.push(chain);
    buyers.push(buyer);
  }

  // Re-deliveries: a copy of an event already sent, later in the same chain (Stripe retrying a lost ack).
  const originals: Array<{ chain: Delivery[]; index: number }> = [];
  for (const chain of chains) chain.forEach((_, index) => originals.push({ chain, index }));
  shuffle(originals, rand);
  const picked = originals.slice(0, Math.min(redeliveries, originals.length));
  for (const { chain, index } of picked) {
    const original = chain[index];
    if (!original) continue;
    const at = index + 1 + Math.floor(rand() * (chain.length - index));
    chain.splice(at, 0, { ...original, redelivery: true });
  }
  shuffle(chains, rand); // interleave customers and orders
  const total = chains.reduce((n, c) => n + c.length, 0);
  return {
    chains,
    deliveries: total,
    customers,
    buyers,
    lifecycleEvents: 4 * customerCount,
    marketplace,
    redeliveries: picked.length,
    distinctEvents: total - picked.length,
    eventIdPrefix: `evt_${tag}_`,
  };
}

/**
 * A burst for the worker-pool warm-up: one single-event chain per slot (a customer's checkout, which every target
 * handles fully), sent at once, so the functions emulator spawns that many workers of the target.
 */
export function poolBurst(tag: string, slots: number): Workload {
  const created = Math.floor(Date.now() / 1000) - 3600;
  const made = Array.from({ length: slots }, (_, i) => customerChain(tag, i, created));
  const chains = made.map((m) => m.chain.slice(0, 1));
  return { chains, deliveries: slots, customers: made.map((m) => m.ids), buyers: [], lifecycleEvents: slots, marketplace: 0, redeliveries: 0, distinctEvents: slots, eventIdPrefix: `evt_${tag}_` };
}

/**
 * Slots for the pool warm-up before a round at concurrency c: a few more than c, because the emulator marks a
 * worker idle only after the response is piped, so a chain's next request can briefly find every worker busy.
 */
export const warmSlots = (c: number): number => c + Math.ceil(c / 4) + 1;

/** Runs chains with at most `concurrency` in flight; each chain's items strictly in order. Returns wall ms. */
export async function runChains<T>(chains: T[][], concurrency: number, step: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const chain = chains[next];
      next += 1;
      if (!chain) return;
      for (const item of chain) await step(item);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, chains.length) }, worker));
  return performance.now() - started;
}
