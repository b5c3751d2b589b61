/**
 * Backfill against the local Stripe stand-in and the real Firestore emulator: 1,000 existing customers with
 * subscriptions, killed midway and resumed, re-run as a no-op, a mapping file, Checkout attribution, and an
 * email-only customer held for review (never matched by email).
 */
import { describe, expect, it } from "vitest";
import { parseMappingCsv } from "../../functions/src/domain/importMapping";
import { runBackfill, type BackfillProgress } from "../../functions/src/services/backfill";
import { stripeReadClient } from "../../functions/src/sinks/stripeApi";
import type { StripeServer } from "../vendors/stripeServer";
import { countDocs, testDb } from "../support/firestore";
import { account, jsonCheckout, jsonCustomer, jsonSubscription, PRO, useStripeStandIn } from "../support/stripeAccount";

const KEY = "sk_test_backfill";
let stripe: StripeServer;
useStripeStandIn(KEY, (s) => (stripe = s));

const deps = () => ({ db: testDb(), stripe: stripeReadClient({ secretKey: KEY, host: "127.0.0.1", port: stripe.port, protocol: "http" }), graceDays: 3 });

describe("backfill", () => {
  it("imports 1,000 customers with subscriptions, resumes after a kill, and a second run changes nothing", async () => {
    stripe.seedObjects(account({ count: 1000, prefix: "k" }));
    const db = testDb();
    const seen: BackfillProgress[] = [];
    const stop = new AbortController();
    const first = await runBackfill(deps(), {
      signal: stop.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.done === 250) stop.abort();
      },
    });
    expect(first.status).toBe("aborted");
    expect(first.customers).toBe(250);
    expect(seen.some((p) => p.phase === "listing")).toBe(true);
    expect((await db.doc("ops/backfill").get()).get("status")).toBe("aborted");

    const second = await runBackfill(deps());
    expect(second).toMatchObject({ resumed: true, status: "done", customers: 1000, imported: 1000, review: 0, conflicts: 0, runId: first.runId });
    expect(await countDocs(db, "customers")).toBe(1000);
    const c = (await db.doc("customers/u_k7").get()).data();
    expect(c).toMatchObject({ stripeCustomerId: "cus_k7", subscriptionStatus: "active", plan: "pro", entitlements: ["api", "reports"] });
    expect((await db.doc("stripeCustomers/cus_k7").get()).get("uid")).toBe("u_k7");
    const jobs = await db.collection("syncJobs").where("target.uid", "==", "u_k7").get();
    expect(jobs.docs.map((d) => d.get("kind")).sort()).toEqual(["auth.claims.update", "crm.contact.upsert", "crm.deal.upsert"]);

    const before = { jobs: await countDocs(db, "syncJobs"), audit: await countDocs(db, "auditLog") };
    const third = await runBackfill(deps());
    expect(third).toMatchObject({ resumed: false, status: "done", customers: 1000, imported: 0, unchanged: 1000, jobs: 0 });
    expect({ jobs: await countDocs(db, "syncJobs"), audit: await countDocs(db, "auditLog") }).toEqual(before);
  });

  it("maps by file and by Checkout client_reference_id, holds an email-only customer for review, and --no-sync plans no jobs", async () => {
    stripe.seedObjects([
      jsonCustomer({ id: "cus_file", email: "file@example.com" }, 1_780_000_001),
      jsonSubscription({ id: "sub_file", customer: "cus_file", status: "active", price: PRO }, 1_780_000_001),
      jsonCustomer({ id: "cus_checkout", email: "co@example.com" }, 1_780_000_002),
      jsonCheckout({ id: "cs_co", mode: "subscription", customer: "cus_checkout", clientReferenceId: "u_checkout" }, 1_780_000_002),
      // Same email as a Firebase user who exists: still never matched by email.
      jsonCustomer({ id: "cus_email", email: "file@example.com" }, 1_780_000_003),
    ]);
    const mapping = parseMappingCsv("uid,stripeCustomerId\nu_file,cus_file\n");
    const report = await runBackfill(deps(), { mapping, noSync: true });
    expect(report).toMatchObject({ status: "done", customers: 3, imported: 2, review: 1, jobs: 0 });
    const db = testDb();
    expect((await db.doc("customers/u_file").get()).get("subscriptionStatus")).toBe("active");
    expect((await db.doc("customers/u_checkout").get()).get("stripeCustomerId")).toBe("cus_checkout");
    const held = (await db.doc("reviewQueue/backfill_cus_email").get()).data();
    expect(held).toMatchObject({ reason: "unmapped_customer", status: "open", stripeCustomerId: "cus_email", known: { email: "file@example.com" } });
    expect(await countDocs(db, "syncJobs")).toBe(0);
    expect((await db.doc("customers/u_file").get()).get("sync")).toEqual({});
  });

  it("rejects a mapping file with a bad id or a customer mapped twice, naming the line", () => {
    expect(() => parseMappingCsv("u1,cus_1\nu/2,cus_2\n")).toThrow(/line 2: uid must not contain/);
    expect(() => parseMappingCsv("u1,cus_1\nu2,cus_1\n")).toThrow(/line 2: cus_1 is mapped to u1 on line 1/);
  });
});
