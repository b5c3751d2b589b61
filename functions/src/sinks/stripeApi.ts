/**
 * The Stripe API, read side: fetch one event (`GET /v1/events/{id}`) for the admin API's replayEvent. The stripe
 * SDK is built lazily, with the pinned API version, so operations that never call Stripe need no key. Failures
 * leave as TransientError (network, 429, 5xx: a retry may help) or PermanentError (other 4xx); an event Stripe
 * does not have (404 resource_missing; Stripe keeps events 30 days) is `null`.
 */
import Stripe from "stripe";
import { PermanentError, TransientError } from "../domain/errors.js";
import { STRIPE_API_VERSION } from "../domain/stripeVersion.js";

export interface StripeEventsPort {
  /** The event as Stripe renders it now (JSON), or null when Stripe has no such event. */
  retrieveEvent(eventId: string): Promise<Record<string, unknown> | null>;
}

export interface StripeApiOptions {
  secretKey: string;
  host: string;
  port: number;
  protocol: "http" | "https";
  /** Automatic SDK retries of network errors, 429 and 5xx (default 1). */
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

export function toStripeApiError(error: unknown, what: string): TransientError | PermanentError {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  if (error instanceof Stripe.errors.StripeError) {
    const status = error.statusCode ?? null;
    const detail = { httpStatus: status, vendorRequestId: error.requestId ?? null };
    const message = `stripe ${what} failed${status ? ` (${status})` : ""}: ${error.message}`;
    if (error instanceof Stripe.errors.StripeConnectionError || status === null || status === 429 || status >= 500) {
      return new TransientError(message, null, detail);
    }
    return new PermanentError(message, detail);
  }
  const name = error instanceof Error ? error.name : typeof error;
  return new TransientError(`stripe ${what} failed: ${name} (no response)`);
}

export function stripeEventsClient(options: StripeApiOptions): StripeEventsPort {
  const stripe = new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    host: options.host,
    port: options.port,
    protocol: options.protocol,
    maxNetworkRetries: options.maxNetworkRetries ?? 1,
    timeout: options.timeoutMs ?? 20_000,
    telemetry: false,
  });
  return {
    async retrieveEvent(eventId) {
      try {
        const event = await stripe.events.retrieve(eventId);
        // The SDK's typed object is the JSON Stripe sent (plus a non-enumerable lastResponse).
        return JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
      } catch (error) {
        if (error instanceof Stripe.errors.StripeError && error.statusCode === 404 && error.code === "resource_missing") return null;
        throw toStripeApiError(error, "GET /v1/events/{id}");
      }
    },
  };
}

/** Builds the client on first use (reading its configuration then) and reuses it while the configuration holds. */
export function lazyStripeEvents(config: () => StripeApiOptions): StripeEventsPort {
  let cached: { key: string; port: StripeEventsPort } | null = null;
  return {
    retrieveEvent(eventId) {
      const options = config();
      const key = `${options.protocol}://${options.host}:${options.port}|${options.secretKey}`;
      if (!cached || cached.key !== key) cached = { key, port: stripeEventsClient(options) };
      return cached.port.retrieveEvent(eventId);
    },
  };
}
