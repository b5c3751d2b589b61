/**
 * The I/O of the Stripe Firebase extension's webhook handler (invertase/stripe-firebase-extensions,
 * firestore-stripe-payments/functions/src/index.ts, `handleWebhookEvents`), reproduced for the event types in the
 * bench's mix so its ack latency can be measured on the same emulator in the same run. Written from reading that
 * handler; not its code. Per event, like the extension, in order, all before the answer:
 *
 * - every event: `stripe.webhooks.constructEvent` (HMAC + JSON parse); 401 if it fails.
 * - customer.subscription.created|updated|deleted, and checkout.session.* in subscription mode: a query
 *   `customers where stripeId == <customer>` (throws "User not found!" unless exactly one), ONE Stripe API call
 *   `subscriptions.retrieve`, then one `set` of `customers/{uid}/subscriptions/{id}`. If the product has a
 *   `firebaseRole`, Auth getUser + setCustomUserClaims (the bench's products have none: not exercised).
 * - checkout.session.* in payment mode: `paymentIntents.retrieve`, then as payment_intent.* (not in the mix).
 * - invoice.*: the customer query, one `set` of `customers/{uid}/subscriptions/{sub}/invoices/{id}`, then a `set`
 *   (merge) of the line items' price refs on `customers/{uid}/payments/{payment_intent ?? invoice id}`.
 * - payment_intent.*: the customer query, then one `set` (merge) of `customers/{uid}/payments/{id}`.
 * - a handler error is answered 200 `{error}` (so Stripe never retries; the extension's behaviour), else
 *   `{received: true}`. No deduplication: a re-delivery does all of it again.
 * - log lines as the extension writes them (its logs.ts): one when it starts on an event, one per document written,
 *   one at the end (success or error). They cost the same emulator log pipeline opsync's log line does.
 *
 * Deviations, each named where it happens: collections are `bench_ext_*` (the extension's collection params);
 * `subscriptions.retrieve` sends no `expand` (the stand-in expands top-level fields only; the bench seeds the
 * subscription with its product embedded, so the answer has the shape the extension's expand gives, in the same one
 * call); period fields are read where the pinned API version has them (the extension pins 2020-08-27);
 * checkout line items (`listLineItems`, payment mode only) are not fetched — the stand-in has no such endpoint.
 */
import { Timestamp, type DocumentData, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import { getAuth } from "firebase-admin/auth";
import { logger } from "firebase-functions";
import { onRequest } from "firebase-functions/v2/https";
import Stripe from "stripe";
import { benchDb, benchEnv } from "./app.js";

const CUSTOMERS = "bench_ext_customers";
const PRODUCTS = "bench_ext_products";

/** The extension's list of event types it handles; anything else is answered `{received: true}` untouched. */
const RELEVANT = new Set([
  "product.created", "product.updated", "product.deleted", "price.created", "price.updated", "price.deleted",
  "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
  "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
  "tax_rate.created", "tax_rate.updated", "invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed",
  "invoice.upcoming", "invoice.marked_uncollectible", "invoice.payment_action_required", "payment_intent.processing",
  "payment_intent.succeeded", "payment_intent.canceled", "payment_intent.payment_failed",
]);

let client: Stripe | null = null;

/** Points the real SDK at the local Stripe stand-in (docs/local-stripe.md). */
function stripe(): Stripe {
  if (client) return client;
  const base = new URL(benchEnv("OPSYNC_BENCH_STRIPE_API_URL"));
  client = new Stripe(benchEnv("OPSYNC_BENCH_STRIPE_API_KEY"), {
    host: base.hostname,
    port: Number(base.port),
    protocol: base.protocol === "https:" ? "https" : "http",
    // The extension's SDK (stripe 8.x) did not retry by default; neither does the replica.
    maxNetworkRetries: 0,
  });
  return client;
}

type Raw = Record<string, unknown>;
const isRaw = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const idOf = (v: unknown): string | null => (typeof v === "string" ? v : isRaw(v) && typeof v.id === "string" ? v.id : null);
const ts = (seconds: number | null | undefined): Timestamp | null => (seconds ? Timestamp.fromMillis(seconds * 1000) : null);

async function customerByStripeId(stripeId: string | null): Promise<QueryDocumentSnapshot<DocumentData>> {
  const snap = await benchDb().collection(CUSTOMERS).where("stripeId", "==", stripeId).get();
  const only = snap.size === 1 ? snap.docs[0] : undefined;
  if (!only) throw new Error("User not found!");
  return only;
}

async function subscriptionChanged(subscriptionId: string, customerId: string | null, createAction: boolean): Promise<void> {
  const customerDoc = await customerByStripeId(customerId);
  const sub = await stripe().subscriptions.retrieve(subscriptionId);
  const items = sub.items.data;
  const first = items[0];
  if (!first) throw new Error(`subscription ${sub.id} has no items`);
  const product = isRaw(first.price.product) ? first.price.product : { id: idOf(first.price.product) ?? "unknown", metadata: {} };
  const metadata = isRaw(product.metadata) ? product.metadata : {};
  const role = typeof metadata.firebaseRole === "string" ? metadata.firebaseRole : null;
  const productRef = benchDb().collection(PRODUCTS).doc(String(product.id));
  const priceRef = (price: Stripe.Price) => benchDb().collection(PRODUCTS).doc(idOf(price.product) ?? "unknown").collection("prices").doc(price.id);
  const subRef = customerDoc.ref.collection("subscriptions").doc(sub.id);
  await subRef.set({
    metadata: sub.metadata,
    role,
    status: sub.status,
    stripeLink: `https://dashboard.stripe.com${sub.livemode ? "" : "/test"}/subscriptions/${sub.id}`,
    product: productRef,
    price: priceRef(first.price),
    prices: items.map((item) => priceRef(item.price)),
    quantity: first.quantity ?? null,
    items,
    cancel_at_period_end: sub.cancel_at_period_end,
    cancel_at: ts(sub.cancel_at),
    canceled_at: ts(sub.canceled_at),
    // Top-level on the subscription in the extension's API version; on the item in the pinned one.
    current_period_start: ts(first.current_period_start),
    current_period_end: ts(first.current_period_end),
    created: ts(sub.created),
    ended_at: ts(sub.ended_at),
    trial_start: ts(sub.trial_start),
    trial_end: ts(sub.trial_end),
  });
  logger.info(`replica: document written ${subRef.path}`);
  if (role) {
    const uid = customerDoc.id;
    try {
      const { customClaims } = await getAuth().getUser(uid);
      const active = sub.status === "trialing" || sub.status === "active";
      await getAuth().setCustomUserClaims(uid, { ...customClaims, stripeRole: active ? role : null });
    } catch {
      return; // the extension's choice: a deleted user ends the handler quietly
    }
  }
  if (createAction && isRaw(sub.default_payment_method)) {
    const details = sub.default_payment_method.billing_details;
    if (isRaw(details) && customerId) {
      await stripe().customers.update(customerId, { name: String(details.name ?? ""), phone: String(details.phone ?? "") });
    }
  }
}

async function invoiceRecorded(invoice: Stripe.Invoice): Promise<void> {
  const customerDoc = await customerByStripeId(idOf(invoice.customer));
  // `invoice.subscription` in the extension's API version; `parent.subscription_details` in the pinned one.
  const raw: unknown = invoice;
  const subscriptionId = (isRaw(raw) ? idOf(raw.subscription) : null) ?? idOf(invoice.parent?.subscription_details?.subscription);
  const ref = customerDoc.ref.collection("subscriptions").doc(subscriptionId ?? "none").collection("invoices").doc(invoice.id ?? "none");
  await ref.set(invoice);
  // Then, like the extension's insertInvoiceRecord, a second write: the line items' price refs on the payment record
  // (`payments/{payment_intent ?? invoice id}`, merge). Lines carry `price` in the extension's API version and
  // `pricing.price_details` in the pinned one; the bench's fixtures send no lines (Stripe always does): then [] .
  const prices = (invoice.lines?.data ?? []).flatMap((line) => {
    const legacy: unknown = line;
    const price = isRaw(legacy) && isRaw(legacy.price) ? legacy.price : null;
    const details = line.pricing?.price_details;
    const priceId = idOf(price) ?? idOf(details?.price);
    const productId = idOf(price?.product) ?? idOf(details?.product);
    return priceId && productId ? [benchDb().collection(PRODUCTS).doc(productId).collection("prices").doc(priceId)] : [];
  });
  const paymentIntent = isRaw(raw) ? idOf(raw.payment_intent) : null;
  const paymentRef = customerDoc.ref.collection("payments").doc(paymentIntent ?? invoice.id ?? "none");
  await paymentRef.set({ prices }, { merge: true });
  logger.info(`replica: document written ${ref.path}`);
}

async function paymentRecorded(payment: Stripe.PaymentIntent): Promise<void> {
  const customerDoc = await customerByStripeId(idOf(payment.customer));
  const ref = customerDoc.ref.collection("payments").doc(payment.id);
  await ref.set(payment, { merge: true });
  logger.info(`replica: document written ${ref.path}`);
}

async function handle(event: Stripe.Event): Promise<void> {
  switch (event.type) {
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted":
      return subscriptionChanged(event.data.object.id, idOf(event.data.object.customer), event.type === "customer.subscription.created");
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
    case "checkout.session.async_payment_failed": {
      const session = event.data.object;
      if (session.mode === "subscription") {
        await subscriptionChanged(idOf(session.subscription) ?? "none", idOf(session.customer), true);
      } else {
        await paymentRecorded(await stripe().paymentIntents.retrieve(idOf(session.payment_intent) ?? "none"));
      }
      if (session.tax_id_collection?.enabled && session.customer_details) {
        const snap = await benchDb().collection(CUSTOMERS).where("stripeId", "==", idOf(session.customer)).get();
        const only = snap.size === 1 ? snap.docs[0] : undefined;
        if (only) await only.ref.set({ ...session.customer_details }, { merge: true });
      }
      return;
    }
    case "invoice.paid":
    case "invoice.payment_succeeded":
    case "invoice.payment_failed":
    case "invoice.upcoming":
    case "invoice.marked_uncollectible":
    case "invoice.payment_action_required":
      return invoiceRecorded(event.data.object);
    case "payment_intent.processing":
    case "payment_intent.succeeded":
    case "payment_intent.canceled":
    case "payment_intent.payment_failed":
      return paymentRecorded(event.data.object);
    default:
      // Products, prices and tax rates: not in the bench's mix, so not reproduced.
      throw new Error(`the replica does not reproduce ${event.type}`);
  }
}

export const benchExtensionWebhook = onRequest({ cors: false, concurrency: 80, timeoutSeconds: 30, memory: "256MiB" }, async (req, res) => {
  let event: Stripe.Event;
  try {
    event = stripe().webhooks.constructEvent(req.rawBody ?? Buffer.alloc(0), req.headers["stripe-signature"] ?? "", benchEnv("OPSYNC_BENCH_STRIPE_WEBHOOK_SECRET"));
  } catch {
    res.status(401).send("Webhook Error: Invalid Secret");
    return;
  }
  if (RELEVANT.has(event.type)) {
    logger.info(`replica: handling event ${event.id} (${event.type})`);
    try {
      await handle(event);
      logger.info(`replica: event ${event.id} (${event.type}) handled`);
    } catch (error) {
      logger.error(`replica: event ${event.id} (${event.type}) failed`, error);
      res.json({ error: "Webhook handler failed. View function logs in Firebase.", detail: error instanceof Error ? error.message : String(error) });
      return;
    }
  }
  res.json({ received: true });
});
