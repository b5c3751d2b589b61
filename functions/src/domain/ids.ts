/**
 * One id policy for every value that becomes (part of) a Firestore document path or map key.
 *
 * Values from outside — Stripe's `client_reference_id` (any string a Payment Link visitor types), metadata
 * (`firebaseUid`, `orderId`, `buyerUid`, `sellerUid`), admin API inputs, in-app requests — must never choose
 * where opsync writes. Firestore itself refuses `/`, `.`, `..`, `__…__` and ids over 1,500 bytes, and a `/`
 * with an even number of segments silently addresses a document deeper down. So every such value is checked
 * here first and a value that fails is reported with the field it came from, never used.
 */
import { z } from "zod";

export type IdKind = "app" | "stripe" | "document";

/** App ids: Firebase uids (≤ 128 characters), order ids, support request ids. */
export const APP_ID_MAX = 128;
/** Stripe ids are at most 255 characters (`cus_…`, `sub_…`, `cs_test_…`). */
export const STRIPE_ID_MAX = 255;
/** Ids opsync derives itself (job ids): Firestore's own limit is 1,500 bytes. */
export const DOCUMENT_ID_MAX = 1500;

/** Letters, digits and a few separators that Firebase uids in the wild use (Auth0-style `auth0|…`, emails). */
const APP_ID_CHARS = /^[A-Za-z0-9._:@|+=-]+$/;
const STRIPE_ID = /^[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+$/;
/** Printable ASCII without `/`: what opsync builds itself from validated parts. */
const DOCUMENT_ID_CHARS = /^[\x21-\x2e\x30-\x7e]+$/;
const RESERVED = /^__.*__$/;
const ONLY_DOTS = /^\.+$/;

/** Why `value` cannot be used as an id of this kind, or null when it can. */
export function idProblem(value: unknown, kind: IdKind): string | null {
  if (typeof value !== "string") return "must be a string";
  if (value.length === 0) return "must not be empty";
  const max = kind === "app" ? APP_ID_MAX : kind === "stripe" ? STRIPE_ID_MAX : DOCUMENT_ID_MAX;
  if (value.length > max) return `must be at most ${max} characters`;
  if (value.includes("/")) return 'must not contain "/"';
  if (ONLY_DOTS.test(value)) return 'must not be "." or ".."';
  if (RESERVED.test(value)) return "must not look like __reserved__";
  if (kind === "stripe") return STRIPE_ID.test(value) ? null : "must look like a Stripe id (prefix_…, letters, digits, _)";
  if (kind === "app") return APP_ID_CHARS.test(value) ? null : "may only contain letters, digits and . _ - : @ | + =";
  return DOCUMENT_ID_CHARS.test(value) ? null : "may only contain printable ASCII characters";
}

export function isUsableId(value: unknown, kind: IdKind): value is string {
  return idProblem(value, kind) === null;
}

/** A zod string that passes the id policy; the message names the field. */
export function idSchema(field: string, kind: IdKind) {
  return z.string({ error: `${field} is required (a string)` }).superRefine((value, ctx) => {
    const problem = idProblem(value, kind);
    if (problem) ctx.addIssue({ code: "custom", message: `${field} ${problem}` });
  });
}

/** A Stripe id with one of the given prefixes (`cus`, `pi`…), for inputs people type. */
export function stripeIdSchema(field: string, prefixes: readonly string[]) {
  const shape = new RegExp(`^(${prefixes.join("|")})_`);
  const expected = prefixes.map((p) => `${p}_...`).join(" or ");
  return z.string({ error: `${field} must be a string (${expected})` }).superRefine((value, ctx) => {
    const problem = idProblem(value, "stripe") ?? (shape.test(value) ? null : `must look like ${expected}`);
    if (problem) ctx.addIssue({ code: "custom", message: `${field} ${problem}` });
  });
}

export interface UnusableId {
  /** Where the value came from, as a path into the Stripe object or input (e.g. `client_reference_id`). */
  field: string;
  problem: string;
}

/** The first value in `candidates` that fails its policy; null values are absent and pass. */
export function firstUnusableId(candidates: ReadonlyArray<{ field: string; value: string | null | undefined; kind: IdKind }>): UnusableId | null {
  for (const c of candidates) {
    if (c.value === null || c.value === undefined) continue;
    const problem = idProblem(c.value, c.kind);
    if (problem) return { field: c.field, problem };
  }
  return null;
}
