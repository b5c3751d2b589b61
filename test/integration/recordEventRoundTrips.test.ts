/**
 * The ack path's Firestore cost, counted at the RPC layer: a new event is one `commit` (the ledger create), a
 * duplicate is that failed `commit` plus one `batchGetDocuments` (its status). docs/performance.md quotes this
 * test for "round trips per ack"; the bench only checks the outcome (ledger docs vs distinct events).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { checkStripeEvent } from "../../functions/src/services/stripeWebhook";
import { recordEvent } from "../../functions/src/store/ingest";
import { resetFirestore, testDb } from "../support/firestore";
import { customer, stripeEvent, uniq } from "../support/stripeFixtures";

const db = testDb();

/**
 * Every Firestore RPC the Node SDK makes goes through one of these two methods (unary: commit, beginTransaction,
 * rollback; streaming: batchGetDocuments, runQuery). They are internal, so not in the SDK's types.
 */
interface RpcSurface {
  request(methodName: string, ...rest: unknown[]): Promise<unknown>;
  requestStream(methodName: string, ...rest: unknown[]): Promise<unknown>;
}

function countRpcs(): { calls: string[] } {
  const surface = db as unknown as RpcSurface;
  const calls: string[] = [];
  const unary = surface.request.bind(surface);
  const stream = surface.requestStream.bind(surface);
  vi.spyOn(surface, "request").mockImplementation((methodName, ...rest) => {
    calls.push(methodName);
    return unary(methodName, ...rest);
  });
  vi.spyOn(surface, "requestStream").mockImplementation((methodName, ...rest) => {
    calls.push(methodName);
    return stream(methodName, ...rest);
  });
  return { calls };
}

function checked(event: object) {
  const result = checkStripeEvent(JSON.parse(JSON.stringify(event)), false);
  if (!result.ok) throw new Error(result.problem);
  return result;
}

describe("recordEvent round trips (the webhook's ack path)", () => {
  beforeEach(resetFirestore);
  afterEach(() => vi.restoreAllMocks());

  it("a new event costs exactly one commit; a duplicate one commit (refused) and one read", async () => {
    const { event, normalized } = checked(stripeEvent("customer.created", customer({ id: uniq("cus"), uid: uniq("user") })));
    await db.collection("stripeEvents").limit(1).get(); // opens the channel outside the count
    const rpcs = countRpcs();

    const first = await recordEvent(db, event, normalized, "webhook");
    expect(first).toEqual({ status: "received", duplicate: false });
    expect(rpcs.calls).toEqual(["commit"]);

    rpcs.calls.length = 0;
    const again = await recordEvent(db, event, normalized, "webhook");
    expect(again).toEqual({ status: "received", duplicate: true });
    expect(rpcs.calls).toEqual(["commit", "batchGetDocuments"]);
  });
});
