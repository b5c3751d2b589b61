/** Moving staff-only data off customers/{uid} into customers/{uid}/staff/notes (real Firestore emulator). */
import { beforeEach, describe, expect, it } from "vitest";
import { moveAllLegacyStaffNotes, moveLegacyStaffNotes } from "../../functions/src/store/staffNotes";
import { resetFirestore, testDb } from "../support/firestore";
import { audits, data } from "../support/read";
import { uniq } from "../support/stripeFixtures";

const db = testDb();
const at = new Date("2026-01-01T00:00:00Z");
const KEY = "failed-renewal:in_1";

async function legacyCustomer(uid: string) {
  await db.doc(`customers/${uid}`).set({
    uid,
    supportTier: "standard",
    internalNotes: "Founder's friend",
    lastEditedBy: "uid-admin",
    tickets: { [KEY]: { ticketId: "t-1", helpdesk: "hubspot", subject: "Renewal failed", at, notes: [{ note: "Called", by: "uid-support", at }] } },
    updatedAt: at,
  });
}

describe("staff notes migration", () => {
  beforeEach(resetFirestore);

  it("moves internalNotes, lastEditedBy and ticket notes; the customer's record keeps only what the customer may see", async () => {
    const uid = uniq("user");
    await legacyCustomer(uid);
    expect(await moveLegacyStaffNotes(db, uid, new Date())).toBe(true);

    const record = await data(db, `customers/${uid}`);
    expect(record).not.toHaveProperty("internalNotes");
    expect(record).not.toHaveProperty("lastEditedBy");
    expect((record?.tickets as Record<string, unknown>)[KEY]).toEqual({ ticketId: "t-1", helpdesk: "hubspot", subject: "Renewal failed", at: expect.anything() });
    expect(await data(db, `customers/${uid}/staff/notes`)).toMatchObject({
      uid,
      internalNotes: "Founder's friend",
      lastEditedBy: "uid-admin",
      tickets: { [KEY]: { notes: [{ note: "Called", by: "uid-support" }] } },
    });
    expect((await audits(db)).filter((a) => a.action === "customer.staff_notes_moved")).toHaveLength(1);
    // Again: nothing left to move, nothing written.
    expect(await moveLegacyStaffNotes(db, uid, new Date())).toBe(false);
    expect((await audits(db)).filter((a) => a.action === "customer.staff_notes_moved")).toHaveLength(1);
  });

  it("notes an admin already wrote in staff/notes win (the older text is kept in the audit entry)", async () => {
    const uid = uniq("user");
    await legacyCustomer(uid);
    await db.doc(`customers/${uid}/staff/notes`).set({ internalNotes: "Newer note", lastEditedBy: "uid-admin-2" });
    expect(await moveLegacyStaffNotes(db, uid, new Date())).toBe(true);
    expect(await data(db, `customers/${uid}/staff/notes`)).toMatchObject({ internalNotes: "Newer note", lastEditedBy: "uid-admin-2" });
    const [entry] = (await audits(db)).filter((a) => a.action === "customer.staff_notes_moved");
    expect(entry).toMatchObject({ before: { internalNotes: "Founder's friend" }, after: { keptExistingNotes: true } });
  });

  it("walks every customer in pages and touches only those with staff data", async () => {
    const legacy = [uniq("user"), uniq("user"), uniq("user")];
    for (const uid of legacy) await legacyCustomer(uid);
    const clean = uniq("user");
    await db.doc(`customers/${clean}`).set({ uid: clean, supportTier: "free", tickets: {}, updatedAt: at });
    expect((await moveAllLegacyStaffNotes(db, new Date(), 2)).sort()).toEqual([...legacy].sort());
    expect(await data(db, `customers/${clean}`)).toEqual({ uid: clean, supportTier: "free", tickets: {}, updatedAt: expect.anything() });
    expect(await data(db, `customers/${clean}/staff/notes`)).toBeUndefined();
  });
});
