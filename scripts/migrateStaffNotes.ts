/**
 * `npm run migrate:staff-notes -- <projectId>`: moves staff-only data that older versions wrote onto
 * `customers/{uid}` (internalNotes, lastEditedBy, tickets.<key>.notes), which the customer can read, into
 * `customers/{uid}/staff/notes`. Run once after deploying the rules and functions that use staff/notes; running it
 * again changes nothing. Uses Application Default Credentials (or FIRESTORE_EMULATOR_HOST for a local emulator).
 */
import { initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { moveAllLegacyStaffNotes } from "../functions/src/store/staffNotes";

async function main(): Promise<void> {
  const projectId = process.argv[2];
  if (!projectId) throw new Error("Usage: npm run migrate:staff-notes -- <projectId>");
  initializeApp({ projectId });
  const moved = await moveAllLegacyStaffNotes(getFirestore(), new Date());
  // Counts only: uids are enough to follow up in the audit log (action customer.staff_notes_moved).
  console.log(`staff notes moved for ${moved.length} customer(s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
