/** The id policy: whatever it accepts is a safe single-segment Firestore document id; hostile values are named. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstUnusableId, idProblem, idSchema, stripeIdSchema, type IdKind } from "../../functions/src/domain/ids";

const KINDS: IdKind[] = ["app", "stripe", "document"];
const HOSTILE = ["a/b", "../admin", "/x", "x/", "a//b", ".", "..", "...", "__reserved__", "__proto__", "", "x".repeat(1600), "\ud800", "u1/private/billing"];

/** Firestore's own rules for a document id (plus: a single path segment). */
function firestoreAccepts(id: string): boolean {
  return id.length > 0 && !id.includes("/") && id !== "." && id !== ".." && !/^__.*__$/.test(id) && Buffer.byteLength(id, "utf8") <= 1500 && !/[\uD800-\uDFFF]/.test(id.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));
}

describe("id policy", () => {
  it.each(KINDS)("%s: anything accepted is a single, valid Firestore document id", (kind) => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 1600 }), fc.constantFrom(...HOSTILE), fc.stringMatching(/^[a-z]{1,8}_[A-Za-z0-9_]{1,40}$/)), (id) => {
        if (idProblem(id, kind) === null) expect(firestoreAccepts(id)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it.each(HOSTILE)("rejects %j for every kind", (id) => {
    for (const kind of KINDS) expect(idProblem(id, kind)).not.toBeNull();
  });

  it("accepts the ids people and Stripe really use", () => {
    for (const uid of ["Xk3pQ9aZ0bT1mN2oP4qR5sT6uV7w", "auth0|5f2b", "u-123", "dee@example.com", "google-oauth2:1234"]) expect(idProblem(uid, "app")).toBeNull();
    for (const id of ["cus_NffrFeUfNV2Hib", "cs_test_a1B2c3", "sub_sched_1Mr3", "in_1MtHbELkdIwHu7ixl4OzzPMv", "evt_1"]) expect(idProblem(id, "stripe")).toBeNull();
    expect(idProblem("evt_1.crm.contact.upsert.u-1", "document")).toBeNull();
  });

  it("names the field and the problem", () => {
    expect(firstUnusableId([{ field: "client_reference_id", value: "u1/private/billing", kind: "app" }])).toEqual({
      field: "client_reference_id",
      problem: 'must not contain "/"',
    });
    expect(firstUnusableId([{ field: "metadata.orderId", value: null, kind: "app" }])).toBeNull();
    expect(idSchema("uid", "app").safeParse("__x__").error?.issues[0]?.message).toBe("uid must not look like __reserved__");
    expect(stripeIdSchema("chargeId", ["ch", "py"]).safeParse("pi_1").error?.issues[0]?.message).toBe("chargeId must look like ch_... or py_...");
    expect(stripeIdSchema("chargeId", ["ch", "py"]).safeParse("ch_1").success).toBe(true);
  });
});
