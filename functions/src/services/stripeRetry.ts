/**
 * Stripe reads for long runs (backfill, sweep, reconcile): a 429 or 5xx is waited out and retried, so one busy
 * second does not end an import (Stripe documents no Retry-After for 429; read limits are 25/s test, 100/s live).
 */
import { TransientError } from "../domain/errors.js";
import type { ListPageParams, StripeJson, StripeListName, StripeReadPort } from "../sinks/stripeApi.js";

export interface RetryOptions {
  attempts?: number;
  baseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withStripeRetry<T>(call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof TransientError) || attempt >= attempts) throw error;
      // Exponential from baseMs (default 500 ms), capped at 10 s; a server hint wins when there is one.
      await sleep(error.retryAfterMs ?? Math.min(10_000, (opts.baseMs ?? 500) * 2 ** (attempt - 1)));
    }
  }
}

/** Every item of one Stripe list, page by page (100 per call), each page retried on its own. */
export async function listAll(stripe: StripeReadPort, list: StripeListName, params: Omit<ListPageParams, "startingAfter">, retry?: RetryOptions): Promise<StripeJson[]> {
  const out: StripeJson[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await withStripeRetry(() => stripe.listPage(list, { ...params, ...(startingAfter ? { startingAfter } : {}) }), retry);
    out.push(...page.data);
    const last = page.data[page.data.length - 1];
    if (!page.hasMore || typeof last?.id !== "string") return out;
    startingAfter = last.id;
  }
}
