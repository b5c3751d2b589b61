/**
 * Who a Stripe customer is, for an import: pure decisions over what Stripe and the founder say. Sources, strongest
 * first: the mapping opsync already holds (`stripeCustomers/{cus}`), an explicit mapping file, the customer's
 * `metadata.firebaseUid`, the `client_reference_id` of their Checkout Sessions. Never email. Sources that disagree
 * are a conflict for a person, not a guess.
 */
import { z } from "zod";
import { ValidationError } from "./errors.js";
import { idSchema, isUsableId, stripeIdSchema } from "./ids.js";

const rowSchema = z.strictObject({ uid: idSchema("uid", "app"), stripeCustomerId: stripeIdSchema("stripeCustomerId", ["cus"]) });

/** At most this many rows: a mapping file is for one account's customers, not a data dump. */
export const MAPPING_MAX_ROWS = 1_000_000;

/**
 * Parses a mapping CSV (`uid,stripeCustomerId` per line; an optional header line with exactly those names; blank
 * lines and `#` comments skipped). Every value passes the id policy. A customer mapped twice to different uids, or
 * a uid given two customers, is an error naming both lines. Returns stripeCustomerId → uid.
 */
export function parseMappingCsv(text: string): Map<string, string> {
  const byCustomer = new Map<string, { uid: string; line: number }>();
  const byUid = new Map<string, { cus: string; line: number }>();
  const lines = text.split(/\r?\n/);
  if (lines.length > MAPPING_MAX_ROWS) throw new ValidationError(`mapping file has more than ${MAPPING_MAX_ROWS} lines`, "mapping");
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith("#")) return;
    const cells = trimmed.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
    if (line === 1 && cells[0] === "uid" && cells[1] === "stripeCustomerId" && cells.length === 2) return;
    if (cells.length !== 2) throw new ValidationError(`mapping line ${line}: expected 2 columns uid,stripeCustomerId, got ${cells.length}`, "mapping");
    const parsed = rowSchema.safeParse({ uid: cells[0], stripeCustomerId: cells[1] });
    if (!parsed.success) throw new ValidationError(`mapping line ${line}: ${parsed.error.issues[0]?.message ?? "invalid"}`, "mapping");
    const { uid, stripeCustomerId: cus } = parsed.data;
    const seen = byCustomer.get(cus);
    if (seen && seen.uid !== uid) throw new ValidationError(`mapping line ${line}: ${cus} is mapped to ${seen.uid} on line ${seen.line} and to ${uid} here`, "mapping");
    const other = byUid.get(uid);
    if (other && other.cus !== cus) throw new ValidationError(`mapping line ${line}: uid ${uid} is given ${other.cus} on line ${other.line} and ${cus} here`, "mapping");
    byCustomer.set(cus, { uid, line });
    byUid.set(uid, { cus, line });
  });
  return new Map([...byCustomer].map(([cus, v]) => [cus, v.uid]));
}

export type UidSource = "mapping" | "file" | "metadata" | "checkout";

export interface UidEvidence {
  mapped: string | null;
  file: string | null;
  metadata: string | null;
  /** client_reference_id of the customer's Checkout Sessions (null: not looked up). */
  checkout: string[] | null;
}

export type UidDecision =
  | { kind: "uid"; uid: string; source: UidSource }
  | { kind: "conflict"; detail: string }
  | { kind: "unknown" }
  /** Nothing so far: the Checkout Sessions must be read to decide. */
  | { kind: "need_checkout" };

export function decideUid(cus: string, e: UidEvidence): UidDecision {
  const checkout = [...new Set((e.checkout ?? []).filter((id) => isUsableId(id, "app")))];
  if (checkout.length > 1) return { kind: "conflict", detail: `Checkout Sessions of ${cus} name different uids (${checkout.join(", ")})` };
  const named: Array<[UidSource, string | null]> = [
    ["mapping", e.mapped],
    ["file", e.file],
    ["metadata", e.metadata && isUsableId(e.metadata, "app") ? e.metadata : null],
    ["checkout", checkout[0] ?? null],
  ];
  const given = named.filter((n): n is [UidSource, string] => n[1] !== null);
  const first = given[0];
  if (!first) return e.checkout === null ? { kind: "need_checkout" } : { kind: "unknown" };
  const disagree = given.find(([, uid]) => uid !== first[1]);
  if (disagree) return { kind: "conflict", detail: `${cus}: ${first[0]} says ${first[1]}, ${disagree[0]} says ${disagree[1]}` };
  return { kind: "uid", uid: first[1], source: first[0] };
}

/** The Stripe customer id an object names (an id or an expanded object), or null. */
export function customerOf(object: Record<string, unknown>): string | null {
  const c = object.customer;
  if (typeof c === "string") return c;
  if (c && typeof c === "object" && "id" in c && typeof c.id === "string") return c.id;
  return null;
}

/** Groups listed objects by the customer they name. */
export function groupByCustomer(objects: Iterable<Record<string, unknown>>): Map<string, Array<Record<string, unknown>>> {
  const out = new Map<string, Array<Record<string, unknown>>>();
  for (const o of objects) {
    const cus = customerOf(o);
    if (!cus) continue;
    const list = out.get(cus);
    if (list) list.push(o);
    else out.set(cus, [o]);
  }
  return out;
}
