/** Firestore and Auth triggers firing for real on the emulators. */
import { getAuth } from "firebase-admin/auth";
import { describe, expect, it } from "vitest";
import { testDb } from "../support/firestore";
import { uniq } from "../support/stripeFixtures";
import { until } from "../support/wait";

describe("triggers on the emulators", () => {
  const db = testDb();

  it("a new Auth user gets a canonical customer record and a synced CRM contact", async () => {
    const uid = uniq("user");
    await getAuth().createUser({ uid, email: `${uid}@example.com`, displayName: "Grace Hopper" });
    const doc = await until(
      async () => (await db.doc(`customers/${uid}`).get()).data(),
      (d) => d?.sync?.crm?.status === "synced",
    );
    expect(doc).toMatchObject({ uid, email: `${uid}@example.com`, name: "Grace Hopper", sync: { crm: { status: "synced" } } });
    expect(doc?.crmContactId).toBeTruthy();
  });

  it("an in-app support request goes received → ticket_created → notified; an invalid one is rejected with a reason", async () => {
    const uid = uniq("user");
    const ref = db.collection("supportRequests").doc();
    await ref.set({ uid, subject: "Refund please", message: "I was charged twice.", category: "billing", createdAt: new Date() });
    const done = await until(
      async () => (await ref.get()).data(),
      (d) => d?.status === "notified",
    );
    expect(done).toMatchObject({ status: "notified", helpdesk: "hubspot" });
    expect(done?.ticketId).toBeTruthy();

    const bad = db.collection("supportRequests").doc();
    await bad.set({ uid, subject: "x", message: "y", category: "nonsense", createdAt: new Date() });
    const rejected = await until(
      async () => (await bad.get()).data(),
      (d) => d?.status === "rejected",
    );
    expect(rejected?.reason).toMatch(/category must be one of/);
  });

  it("an admin's edit of staff notes (customers/{uid}/staff/notes) is audited there, never copied to the customer's record", async () => {
    const uid = uniq("user");
    await getAuth().createUser({ uid, email: `${uid}@example.com` });
    await until(async () => (await db.doc(`customers/${uid}`).get()).exists, Boolean);
    await db.doc(`customers/${uid}/staff/notes`).set({ internalNotes: "Prefers email", lastEditedBy: "uid-admin" });
    const entries = await until(
      async () => (await db.collection("auditLog").where("target", "==", `customers/${uid}/staff/notes`).get()).docs.map((d) => d.data()),
      (e) => e.length > 0,
    );
    expect(entries).toEqual([expect.objectContaining({ action: "customer.staff_edit", actor: { type: "user", id: "uid-admin" }, after: { internalNotes: "Prefers email" } })]);
    expect((await db.doc(`customers/${uid}`).get()).get("internalNotes")).toBeUndefined();
  });
});
