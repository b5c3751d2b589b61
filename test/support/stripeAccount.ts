/** An "existing" Stripe account for backfill / reconcile tests: N customers with one subscription each, as JSON. */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startStripeServer, type StripeServer } from "../vendors/stripeServer";
import { resetFirestore } from "./firestore";
import { checkoutSession, customer, price, subscription } from "./stripeFixtures";

export type StripeJsonObject = Record<string, unknown> & { id: string; object: string };

const asJson = (o: object): StripeJsonObject => JSON.parse(JSON.stringify(o)) as StripeJsonObject;

export const PRO = price({ id: "price_pro", lookupKey: "pro", entitlements: "reports,api", supportTier: "priority", amount: 4900 });

export interface AccountOptions {
  /** Customers whose uid is in metadata.firebaseUid (`u_<i>`), default all. */
  count: number;
  /** Id prefix, so tests sharing an emulator do not collide. */
  prefix: string;
  /** Base `created` (seconds); customer i is created at base + i. */
  created?: number;
}

export function account(o: AccountOptions): StripeJsonObject[] {
  const base = o.created ?? 1_780_000_000;
  const out: StripeJsonObject[] = [];
  for (let i = 0; i < o.count; i++) {
    const cus = `cus_${o.prefix}${i}`;
    out.push(asJson({ ...customer({ id: cus, uid: `u_${o.prefix}${i}`, email: `${o.prefix}${i}@example.com` }), created: base + i }));
    out.push(asJson({ ...subscription({ id: `sub_${o.prefix}${i}`, customer: cus, status: "active", price: PRO }), created: base + i }));
  }
  return out;
}

export const jsonCustomer = (c: Parameters<typeof customer>[0], created: number): StripeJsonObject => asJson({ ...customer(c), created });
export const jsonSubscription = (s: Parameters<typeof subscription>[0], created: number): StripeJsonObject => asJson({ ...subscription(s), created });
export const jsonCheckout = (s: Parameters<typeof checkoutSession>[0], created: number): StripeJsonObject => asJson({ ...checkoutSession(s), created });

/**
 * One local Stripe stand-in for a test file (no read limit), handed to `use` once started; Firestore and the
 * stand-in are emptied before each test.
 */
export function useStripeStandIn(secretKey: string, use: (server: StripeServer) => void): void {
  let server: StripeServer | null = null;
  beforeAll(async () => {
    server = await startStripeServer({ secretKey, readsPerSecond: null });
    use(server);
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    await resetFirestore();
    server?.reset();
  });
}
