/**
 * Fuzzing the webhook (real signature checks, real Firestore emulator): hostile ids, metadata, envelopes,
 * encodings and sizes. For every request: never a 5xx (every input here is deterministic); a 4xx writes nothing;
 * a 200 writes only documents the event may touch (every document is listed before and after); and the
 * endpoint keeps serving. At least 500 requests per run; OPSYNC_FUZZ_REQUESTS raises it.
 */
import fc from "fast-check";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { idProblem } from "../../functions/src/domain/ids";
import { handleStripeWebhook, type WebhookResponse } from "../../functions/src/services/stripeWebhook";
import { applyRecordedEvent, recordEvent } from "../../functions/src/store/ingest";
import { TEST_SECRET, deliver } from "../support/deliver";
import { changedPaths, snapshotAllDocs } from "../support/docSnapshot";
import { resetFirestore, testDb } from "../support/firestore";
import { fuzzRequest, type FuzzRequest } from "../support/fuzzArbitraries";
import { customer, stripeEvent } from "../support/stripeFixtures";

const REQUESTS = Math.max(500, Number(process.env.OPSYNC_FUZZ_REQUESTS ?? 500));
const MAX_BODY = 262_144;

describe("webhook fuzz", () => {
  const db = testDb();

  async function send(req: FuzzRequest): Promise<WebhookResponse> {
    const json = JSON.stringify(req.event);
    const t = req.transport;
    let raw: Buffer = Buffer.from(json);
    if (t.kind === "raw") raw = t.body;
    if (t.kind === "padded") raw = Buffer.from(JSON.stringify({ ...req.event, padding: "p".repeat(t.bytes) }));
    const signature =
      t.kind === "bad-signature" ? t.header : Stripe.webhooks.generateTestHeaderString({ payload: raw.toString("utf8"), secret: TEST_SECRET });
    const headers: Record<string, string> = { "content-type": "application/json", "content-length": String(raw.length) };
    if (signature !== null) headers["stripe-signature"] = signature;
    const res = await handleStripeWebhook(
      { method: "POST", headers, rawBody: raw },
      { secrets: [TEST_SECRET], acceptLivemode: false, maxBodyBytes: MAX_BODY, record: (e, n) => recordEvent(db, e, n, "webhook") },
    );
    // What the ledger trigger then does; it must never fail on a deterministic input either.
    if (res.status === 200 && res.body.status === "received") await applyRecordedEvent(db, String(res.body.eventId), { graceDays: 3 });
    return res;
  }

  /** Strings anywhere in the payload (trimmed too): the only values an event may turn into document ids. */
  function payloadStrings(value: unknown, out = new Set<string>()): Set<string> {
    if (typeof value === "string") out.add(value).add(value.trim());
    else if (Array.isArray(value)) value.forEach((v) => payloadStrings(v, out));
    else if (value && typeof value === "object") Object.values(value).forEach((v) => payloadStrings(v, out));
    return out;
  }

  /** Uids and order ids opsync already links to Stripe objects: an event may reach them through a mapping. */
  async function knownOwners(): Promise<Set<string>> {
    const [mappings, objects] = await Promise.all([db.collection("stripeCustomers").get(), db.collection("stripeObjects").get()]);
    const out = new Set<string>();
    for (const d of [...mappings.docs, ...objects.docs]) {
      for (const f of ["uid", "orderId"]) if (typeof d.get(f) === "string") out.add(d.get(f) as string);
    }
    return out;
  }

  function allowed(path: string, event: Record<string, unknown>, strings: Set<string>, owners: Set<string>): boolean {
    const [col, id, sub, subId, ...rest] = path.split("/");
    if (!col || !id || rest.length > 0) return false;
    const appOk = idProblem(id, "app") === null && (strings.has(id) || owners.has(id));
    if (sub !== undefined) {
      const privateDoc = sub === "private" && (subId === "stripe" || (col === "customers" && subId === "billing"));
      return (col === "customers" || col === "orders") && privateDoc && appOk;
    }
    switch (col) {
      case "stripeEvents":
      case "reviewQueue":
        return id === event.id;
      case "auditLog":
      case "syncJobs":
        return idProblem(id, "document") === null;
      case "customers":
      case "orders":
        return appOk;
      case "stripeObjects":
      case "stripeCustomers":
        return idProblem(id, "stripe") === null && strings.has(id);
      default:
        return false;
    }
  }

  it(`${REQUESTS}+ hostile requests: no 5xx, 4xx writes nothing, 200 writes only allowed paths`, async () => {
    let total = 0;
    const statuses = new Map<number, number>();
    const scenario = fc.array(fuzzRequest, { minLength: 2, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(scenario, async (requests) => {
        await resetFirestore();
        for (const req of requests) {
          total += 1;
          const [before, owners] = await Promise.all([snapshotAllDocs(), knownOwners()]);
          const res = await send(req);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const changed = changedPaths(before, await snapshotAllDocs());
          expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
          if (res.status >= 400) {
            expect(changed, `a ${res.status} wrote`).toEqual([]);
            continue;
          }
          expect(res.status).toBe(200);
          const strings = payloadStrings(req.event);
          const outside = changed.filter((p) => !allowed(p, req.event, strings, owners));
          expect(outside, `event ${String(req.event.id)} wrote outside its documents`).toEqual([]);
        }
      }),
      { numRuns: Math.ceil(REQUESTS / 2), endOnFailure: true },
    );
    expect(total).toBeGreaterThanOrEqual(REQUESTS);
    // The mix is worth something only if it reached both outcomes.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(REQUESTS / 4);
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);

    // Still serving: a plain delivery is applied.
    await resetFirestore();
    const ok = await deliver(db, stripeEvent("customer.created", customer({ id: "cus_after", uid: "u-after" })));
    expect(ok).toMatchObject({ status: 200, body: { status: "applied" } });
  }, 600_000);
});
