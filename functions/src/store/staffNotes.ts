/**
 * Moves staff-only data written before `customers/{uid}/staff/notes` existed off the customer's record
 * (docs/data-model.md). Idempotent: a record with nothing staff-only is left alone.
 */
import { FieldPath, FieldValue, type Firestore } from "firebase-admin/firestore";
import { legacyStaffData } from "../domain/staffNotes.js";
import { auditIn } from "./audit.js";
import { COL, staffNotesPath } from "./paths.js";

export async function moveLegacyStaffNotes(db: Firestore, uid: string, now: Date): Promise<boolean> {
  const customerRef = db.collection(COL.customers).doc(uid);
  const notesRef = db.doc(staffNotesPath(uid));
  return db.runTransaction(async (tx) => {
    const [customer, notes] = await Promise.all([tx.get(customerRef), tx.get(notesRef)]);
    const legacy = customer.exists ? legacyStaffData(customer.data() ?? {}) : null;
    if (!legacy) return false;
    // Notes an admin already wrote in the new place win; the older text is kept in the audit entry.
    const keepsNotes = notes.exists && notes.get("internalNotes") !== undefined;
    const tickets = Object.fromEntries(Object.entries(legacy.ticketNotes).map(([key, list]) => [key, { notes: FieldValue.arrayUnion(...list) }]));
    tx.set(
      notesRef,
      {
        uid,
        ...(!keepsNotes && legacy.internalNotes !== undefined ? { internalNotes: legacy.internalNotes } : {}),
        ...(!keepsNotes && legacy.lastEditedBy !== undefined ? { lastEditedBy: legacy.lastEditedBy } : {}),
        tickets,
        // A server write (updatedAt moves), so onStaffNotesWritten does not take it for a staff edit.
        updatedAt: now,
      },
      { merge: true },
    );
    // FieldPaths: ticket keys hold ":" and "-".
    const removals: unknown[] = [];
    for (const key of Object.keys(legacy.ticketNotes)) removals.push(new FieldPath("tickets", key, "notes"), FieldValue.delete());
    tx.update(customerRef, "internalNotes", FieldValue.delete(), "lastEditedBy", FieldValue.delete(), "updatedAt", now, ...removals);
    auditIn(db, tx, {
      actor: { type: "system", id: "staffNotesMigration" },
      action: "customer.staff_notes_moved",
      target: staffNotesPath(uid),
      before: { internalNotes: legacy.internalNotes ?? null, lastEditedBy: legacy.lastEditedBy ?? null, ticketNotes: legacy.ticketNotes },
      after: { keptExistingNotes: keepsNotes, tickets: Object.keys(legacy.ticketNotes) },
      cause: { type: "migration", id: "staff-notes" },
      at: now,
    });
    return true;
  });
}

/** Every customer, in pages: returns the uids whose records were changed. */
export async function moveAllLegacyStaffNotes(db: Firestore, now: Date, pageSize = 200): Promise<string[]> {
  const moved: string[] = [];
  let last: string | null = null;
  for (;;) {
    let q = db.collection(COL.customers).orderBy(FieldPath.documentId()).limit(pageSize);
    if (last) q = q.startAfter(last);
    const page = await q.select().get();
    for (const doc of page.docs) if (await moveLegacyStaffNotes(db, doc.id, now)) moved.push(doc.id);
    if (page.size < pageSize) return moved;
    last = page.docs[page.docs.length - 1]?.id ?? null;
  }
}
