/**
 * The stand-in's test-only surface: the `__seed` and `__control` bodies (zod-validated, unknown fields refused, so a
 * typo in a test or a curl fails loudly instead of seeding nothing), failure injection and Stripe's read rate limit.
 */
import { z } from "zod";
import { invalidRequest, StripeApiFailure, type StripeObject } from "./store";

const id = z.string().min(1).max(255);

const stripeObject = z.looseObject({
  id,
  object: z
    .string()
    .regex(/^[a-z][a-z_.]*$/, "a Stripe object type such as customer or checkout.session")
    .refine((o) => o !== "event", "events go in `events`")
    .refine((o) => o !== "list", "a list is not an object"),
});

const stripeEvent = z.looseObject({
  id,
  object: z.literal("event"),
  type: z.string().min(1).max(200),
  created: z.number().int().nonnegative(),
});

export const seedBody = z.strictObject({
  objects: z.array(stripeObject).max(10_000).optional(),
  events: z.array(stripeEvent).max(10_000).optional(),
});

export const controlBody = z
  .strictObject({
    /** The next N API requests fail with `status` (default 500). */
    failNext: z.number().int().min(0).max(1000).optional(),
    status: z.number().int().min(400).max(599).optional(),
    /** down: API requests get their connection reset (control and seed still answer); up: normal. */
    mode: z.enum(["down", "up"]).optional(),
    /** Added before every API answer. */
    latencyMs: z.number().int().min(0).max(30_000).optional(),
    /** Read requests per second before 429; null: unlimited. */
    rateLimitPerSecond: z.number().int().min(1).max(100_000).nullable().optional(),
    /** Clears injected failures, mode, latency and the rate window (not the data: `DELETE /__seed` does that). */
    reset: z.literal(true).optional(),
  })
  .refine((b) => b.status === undefined || b.failNext !== undefined, { path: ["status"], message: "status only goes with failNext" });

export type ControlBody = z.infer<typeof controlBody>;

/** Parses with zod; a failure is Stripe's 400 shape with `param` naming the offending field (e.g. `objects.2.id`). */
export function parseBody<T>(schema: z.ZodType<T>, raw: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw invalidRequest(`Invalid JSON body for ${what}.`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue ? [...issue.path.map(String), ...(issue.code === "unrecognized_keys" ? issue.keys : [])] : [];
  const param = path.join(".") || "body";
  throw invalidRequest(`Invalid ${what} body: ${param}: ${issue?.message ?? "invalid"}`, param);
}

export const asObject = (o: z.infer<typeof stripeObject> | z.infer<typeof stripeEvent>): StripeObject => o;

/** Stripe's answer to a read over the limit (docs.stripe.com/rate-limits: 429 with `Stripe-Rate-Limited-Reason`). */
export const rateLimited = (): StripeApiFailure =>
  new StripeApiFailure(
    429,
    { type: "invalid_request_error", code: "rate_limit", message: "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits." },
    { "stripe-rate-limited-reason": "global-rate" },
  );

export function injectedFailure(status: number): StripeApiFailure {
  if (status === 429) return rateLimited();
  if (status >= 500) return new StripeApiFailure(status, { type: "api_error", message: "An unknown error occurred (injected by the local Stripe stand-in)." });
  return invalidRequest(`Injected ${status} from the local Stripe stand-in.`, undefined, undefined, status);
}

/**
 * Sliding one-second window (not a fixed clock second, so a burst straddling a second boundary is still limited, which
 * keeps a test that sends limit+1 requests at once deterministic).
 */
export class RateWindow {
  private stamps: number[] = [];
  constructor(public perSecond: number | null) {}
  take(now = Date.now()): boolean {
    if (this.perSecond === null) return true;
    this.stamps = this.stamps.filter((t) => now - t < 1000);
    if (this.stamps.length >= this.perSecond) return false;
    this.stamps.push(now);
    return true;
  }
  clear(): void {
    this.stamps = [];
  }
}
