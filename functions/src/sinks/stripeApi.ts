/**
 * The Stripe API, read side: one event (the admin API's replayEvent), one object of the kinds opsync records (to
 * revalidate when two events cannot be ordered), event pages (the missed-event sweep) and whole lists (backfill). The
 * stripe SDK is built lazily, with the pinned API version, so operations that never call Stripe need no key. Failures
 * leave as TransientError (network, 429, 5xx: a retry may help) or PermanentError (other 4xx); an id Stripe does not
 * have (404 resource_missing; Stripe keeps events 30 days) is `null`. Everything returned is the JSON Stripe sent.
 * Framework only: no Firestore, no services.
 */
import Stripe from "stripe";
import { PermanentError, TransientError } from "../domain/errors.js";
import { STRIPE_API_VERSION } from "../domain/stripeVersion.js";

/** A Stripe object or event as Stripe rendered it (JSON). */
export type StripeJson = Record<string, unknown>;

/** The object kinds opsync records and may re-read; `checkout_session` is Stripe's `checkout.session`. */
export const STRIPE_OBJECT_KINDS = ["customer", "subscription", "invoice", "payment_intent", "charge", "refund", "dispute", "checkout_session"] as const;
export type StripeObjectKind = (typeof STRIPE_OBJECT_KINDS)[number];

export interface ListEventsParams {
  /** Event types to include (Stripe's `types[]`, at most 20). */
  types: readonly string[];
  /** Unix seconds, inclusive. */
  createdGte: number;
  /** Unix seconds, exclusive. */
  createdLt?: number;
  /** Cursor: the last event id of the previous page (pages run newest first). */
  startingAfter?: string;
  /** Page size 1–100 (default 100). */
  limit?: number;
}

export interface StripePage {
  data: StripeJson[];
  hasMore: boolean;
}

/** The lists backfill and reconciliation page through by hand (a stored cursor lets a killed run resume). */
export const STRIPE_LISTS = ["customers", "subscriptions", "invoices", "payment_intents"] as const;
export type StripeListName = (typeof STRIPE_LISTS)[number];

export interface ListPageParams {
  /** Cursor: the last id of the previous page (pages run newest first). */
  startingAfter?: string;
  /** Page size 1–100 (default 100). */
  limit?: number;
  /** Unix seconds, inclusive. */
  createdGte?: number;
  /** subscriptions: a status or `all`; invoices: `open`, `paid`, … */
  status?: string;
}

export interface ListSubscriptionsParams {
  customer?: string;
  /** `all` includes canceled subscriptions, which Stripe's default leaves out. */
  status: Stripe.SubscriptionListParams.Status;
}

/** What the admin API needs. */
export interface StripeEventsPort {
  /** The event as Stripe renders it now (JSON), or null when Stripe has no such event. */
  retrieveEvent(eventId: string): Promise<StripeJson | null>;
}

export interface StripeReadPort extends StripeEventsPort {
  /** The object as Stripe has it now; null when Stripe has no such object. A deleted customer is `{id, object, deleted: true}`. */
  retrieveObject(kind: StripeObjectKind, id: string): Promise<StripeJson | null>;
  /** One page of events, newest first; page on with `startingAfter` = the last id while `hasMore`. */
  listEvents(params: ListEventsParams): Promise<StripePage>;
  /** Every customer, newest first (the SDK pages through the list 100 at a time). */
  listCustomers(params?: { createdGte?: number }): AsyncIterable<StripeJson>;
  listSubscriptions(params: ListSubscriptionsParams): AsyncIterable<StripeJson>;
  listCheckoutSessions(params: { customer: string }): AsyncIterable<StripeJson>;
  /** One page of a list, newest first; page on with `startingAfter` = the last id while `hasMore`. */
  listPage(list: StripeListName, params: ListPageParams): Promise<StripePage>;
}

export interface StripeApiOptions {
  secretKey: string;
  host: string;
  port: number;
  protocol: "http" | "https";
  /** Automatic SDK retries of network errors and 5xx (default 1). The SDK does not retry a 429 on its own. */
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

/** `Retry-After` in ms when Stripe sent one (its docs promise none for 429: callers back off on their own). */
function retryAfterMs(error: InstanceType<typeof Stripe.errors.StripeError>): number | null {
  const raw = error.headers?.["retry-after"];
  if (raw === undefined) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

export function toStripeApiError(error: unknown, what: string): TransientError | PermanentError {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  if (error instanceof Stripe.errors.StripeError) {
    const status = error.statusCode ?? null;
    const detail = { httpStatus: status, vendorRequestId: error.requestId ?? null };
    const message = `stripe ${what} failed${status ? ` (${status})` : ""}: ${error.message}`;
    if (error instanceof Stripe.errors.StripeConnectionError || status === null || status === 429 || status >= 500) {
      return new TransientError(message, retryAfterMs(error), detail);
    }
    return new PermanentError(message, detail);
  }
  const name = error instanceof Error ? error.name : typeof error;
  return new TransientError(`stripe ${what} failed: ${name} (no response)`);
}

const isMissing = (error: unknown) => error instanceof Stripe.errors.StripeError && error.statusCode === 404 && error.code === "resource_missing";

// The SDK's typed objects are the JSON Stripe sent (plus a non-enumerable lastResponse).
const toJson = (value: unknown): StripeJson => JSON.parse(JSON.stringify(value)) as StripeJson;

/** The SDK's auto-pagination, with items as JSON and failures (on any page) as opsync's errors. */
async function* paged(list: AsyncIterable<unknown>, what: string): AsyncGenerator<StripeJson> {
  try {
    for await (const item of list) yield toJson(item);
  } catch (error) {
    throw toStripeApiError(error, what);
  }
}

const PAGE = 100;

export function stripeEventsClient(options: StripeApiOptions): StripeReadPort {
  const stripe = new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    host: options.host,
    port: options.port,
    protocol: options.protocol,
    maxNetworkRetries: options.maxNetworkRetries ?? 1,
    timeout: options.timeoutMs ?? 20_000,
    telemetry: false,
  });

  const retrievers: Record<StripeObjectKind, (id: string) => Promise<unknown>> = {
    customer: (id) => stripe.customers.retrieve(id),
    subscription: (id) => stripe.subscriptions.retrieve(id),
    invoice: (id) => stripe.invoices.retrieve(id),
    payment_intent: (id) => stripe.paymentIntents.retrieve(id),
    charge: (id) => stripe.charges.retrieve(id),
    refund: (id) => stripe.refunds.retrieve(id),
    dispute: (id) => stripe.disputes.retrieve(id),
    checkout_session: (id) => stripe.checkout.sessions.retrieve(id),
  };

  type Common = { limit: number; starting_after?: string; created?: { gte: number } };
  type Page = { data: unknown[]; has_more: boolean };
  const listers: Record<StripeListName, (common: Common, status: string | undefined) => Promise<Page>> = {
    customers: (common) => stripe.customers.list(common),
    subscriptions: (common, status) => stripe.subscriptions.list({ ...common, ...(status ? { status: status as Stripe.SubscriptionListParams.Status } : {}) }),
    invoices: (common, status) => stripe.invoices.list({ ...common, ...(status ? { status: status as Stripe.InvoiceListParams.Status } : {}) }),
    payment_intents: (common) => stripe.paymentIntents.list(common),
  };

  return {
    async retrieveEvent(eventId) {
      try {
        return toJson(await stripe.events.retrieve(eventId));
      } catch (error) {
        if (isMissing(error)) return null;
        throw toStripeApiError(error, "GET /v1/events/{id}");
      }
    },
    async retrieveObject(kind, id) {
      try {
        return toJson(await retrievers[kind](id));
      } catch (error) {
        if (isMissing(error)) return null;
        throw toStripeApiError(error, `retrieve ${kind}`);
      }
    },
    async listEvents(params) {
      try {
        const page = await stripe.events.list({
          types: [...params.types],
          created: { gte: params.createdGte, ...(params.createdLt !== undefined ? { lt: params.createdLt } : {}) },
          limit: params.limit ?? PAGE,
          ...(params.startingAfter !== undefined ? { starting_after: params.startingAfter } : {}),
        });
        return { data: page.data.map(toJson), hasMore: page.has_more };
      } catch (error) {
        throw toStripeApiError(error, "GET /v1/events");
      }
    },
    listCustomers(params = {}) {
      const created = params.createdGte !== undefined ? { created: { gte: params.createdGte } } : {};
      return paged(stripe.customers.list({ limit: PAGE, ...created }), "GET /v1/customers");
    },
    listSubscriptions(params) {
      const customer = params.customer !== undefined ? { customer: params.customer } : {};
      return paged(stripe.subscriptions.list({ limit: PAGE, status: params.status, ...customer }), "GET /v1/subscriptions");
    },
    listCheckoutSessions(params) {
      return paged(stripe.checkout.sessions.list({ limit: PAGE, customer: params.customer }), "GET /v1/checkout/sessions");
    },
    async listPage(list, params) {
      const common = {
        limit: params.limit ?? PAGE,
        ...(params.startingAfter !== undefined ? { starting_after: params.startingAfter } : {}),
        ...(params.createdGte !== undefined ? { created: { gte: params.createdGte } } : {}),
      };
      try {
        const page = await listers[list](common, params.status);
        return { data: page.data.map(toJson), hasMore: page.has_more };
      } catch (error) {
        throw toStripeApiError(error, `GET /v1/${list}`);
      }
    },
  };
}

/** The same client under the name of what it now is. */
export const stripeReadClient = stripeEventsClient;

/** Builds the client on first use (reading its configuration then) and reuses it while the configuration holds. */
export function lazyStripeEvents(config: () => StripeApiOptions): StripeReadPort {
  let cached: { key: string; port: StripeReadPort } | null = null;
  const client = (): StripeReadPort => {
    const options = config();
    const key = `${options.protocol}://${options.host}:${options.port}|${options.secretKey}`;
    if (!cached || cached.key !== key) cached = { key, port: stripeEventsClient(options) };
    return cached.port;
  };
  return {
    retrieveEvent: (eventId) => client().retrieveEvent(eventId),
    retrieveObject: (kind, id) => client().retrieveObject(kind, id),
    listEvents: (params) => client().listEvents(params),
    listCustomers: (params) => client().listCustomers(params),
    listSubscriptions: (params) => client().listSubscriptions(params),
    listCheckoutSessions: (params) => client().listCheckoutSessions(params),
    listPage: (list, params) => client().listPage(list, params),
  };
}

export const lazyStripeRead = lazyStripeEvents;
