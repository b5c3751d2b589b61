/**
 * The console's read operations as data: `opsStatus`, `listQueue`, `findCustomer` — their strict input schemas,
 * which queue kinds each staff role works (a role that cannot act on an item does not see it), the page token of
 * `listQueue`, and how a `findCustomer` query is read. Pure: no I/O. Registered in domain/adminOps.ts.
 */
import { z } from "zod";
import { ValidationError } from "./errors.js";
import { isUsableId } from "./ids.js";
import { STAFF_ROLES, type StaffRole } from "./roles.js";

// ---- Role queues -------------------------------------------------------------------------------------------

/** Every kind of item a role queue can hold, in the order a mixed page lists them. */
export const QUEUE_KINDS = ["alert", "unmapped_customer", "failed_payment", "support_request", "refund_request", "dispute"] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

/**
 * What each role works. support: retries the dead jobs of open alerts (retryJob), maps unmapped paying customers
 * (resolveReview), follows up failed payments (resolveFailedPayment), answers support requests. finance: refunds,
 * disputes, failed payments (with amounts).
 */
export const QUEUE_KINDS_OF_ROLE: Record<StaffRole, readonly QueueKind[]> = {
  support: ["alert", "unmapped_customer", "failed_payment", "support_request"],
  finance: ["failed_payment", "refund_request", "dispute"],
  admin: QUEUE_KINDS,
};

export const QUEUE_PAGE_SIZE_MAX = 50;
export const QUEUE_PAGE_SIZE_DEFAULT = 20;

/** The kinds a caller sees: those of the roles it views the queue as (each one held by the caller). */
export function queueKindsFor(viewRoles: readonly StaffRole[]): QueueKind[] {
  return QUEUE_KINDS.filter((k) => viewRoles.some((r) => QUEUE_KINDS_OF_ROLE[r].includes(k)));
}

/** The position after the last item of a page: its kind, its sort value (ms or string) and its document id. */
export interface QueueCursor {
  kind: QueueKind;
  sort: number | string | null;
  id: string;
}

const cursorSchema = z.strictObject({
  k: z.enum(QUEUE_KINDS),
  s: z.union([z.number().finite(), z.string().max(1500), z.null()]),
  i: z.string().min(1).max(1500),
});

/** base64url of `{k, s, i}`: opaque to callers, validated when it comes back. */
export function encodePageToken(cursor: QueueCursor): string {
  const json = JSON.stringify({ k: cursor.kind, s: cursor.sort, i: cursor.id });
  return btoa(json).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodePageToken(token: string): QueueCursor {
  let raw: unknown;
  try {
    raw = JSON.parse(atob(token.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw new ValidationError("listQueue: pageToken is not a token this API issued", "pageToken");
  }
  const parsed = cursorSchema.safeParse(raw);
  if (!parsed.success || !isUsableId(parsed.data.i, "document")) {
    throw new ValidationError("listQueue: pageToken is not a token this API issued", "pageToken");
  }
  return { kind: parsed.data.k, sort: parsed.data.s, id: parsed.data.i };
}

// ---- findCustomer ------------------------------------------------------------------------------------------

/** How a findCustomer query can name a customer; several may apply (a uid may contain `@` or be all digits). */
export type LookupKind = "email" | "uid" | "stripeCustomerId" | "crmContactId";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const STRIPE_CUSTOMER = /^cus_[A-Za-z0-9]+$/;
const HUBSPOT_ID = /^[0-9]{1,20}$/;

/** The lookups a query calls for: lookup only, by exact value, never fuzzy and never merged. */
export function lookupsFor(query: string): LookupKind[] {
  const kinds: LookupKind[] = [];
  if (EMAIL.test(query)) kinds.push("email");
  if (STRIPE_CUSTOMER.test(query) && query.length <= 255) kinds.push("stripeCustomerId");
  if (HUBSPOT_ID.test(query)) kinds.push("crmContactId");
  if (isUsableId(query, "app")) kinds.push("uid");
  return kinds;
}

// ---- Input schemas -----------------------------------------------------------------------------------------

export const consoleInputSchemas = {
  opsStatus: z.strictObject({}),
  listQueue: z.strictObject({
    role: z.enum(STAFF_ROLES, { error: `role must be one of ${STAFF_ROLES.join(", ")}` }).optional(),
    kind: z.enum(QUEUE_KINDS, { error: `kind must be one of ${QUEUE_KINDS.join(", ")}` }).optional(),
    pageSize: z
      .number({ error: "pageSize must be a number" })
      .int("pageSize must be a whole number")
      .min(1, "pageSize must be at least 1")
      .max(QUEUE_PAGE_SIZE_MAX, `pageSize must be at most ${QUEUE_PAGE_SIZE_MAX}`)
      .optional(),
    pageToken: z.string({ error: "pageToken must be a string" }).min(1, "pageToken must not be empty").max(4000, "pageToken is too long").optional(),
  }),
  findCustomer: z.strictObject({
    query: z
      .string({ error: "query is required (an email, uid, Stripe customer id or HubSpot contact id)" })
      .trim()
      .min(1, "query must not be empty")
      .max(320, "query must be at most 320 characters"),
  }),
};
