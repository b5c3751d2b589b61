/**
 * `ops/hubspot`: what `npm run hubspot:setup` found or created in the HubSpot portal that the adapter needs by id
 * (the refund deal stages). Written by setup, read lazily by the CRM adapter through a function the composition root
 * passes in, so sinks never import the store.
 */
import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import type { RefundStageIds } from "../domain/syncModel.js";
import { COL } from "./paths.js";

export const HUBSPOT_SETTINGS_DOC = `${COL.ops}/hubspot`;

const settingsSchema = z.object({
  pipelineId: z.string().min(1),
  stages: z.object({ refunded: z.string().min(1), partially_refunded: z.string().min(1) }),
});

/** The stored stage ids, or null when setup never ran (or the document is not in the expected shape). */
export async function readRefundStageIds(db: Firestore): Promise<RefundStageIds | null> {
  const snap = await db.doc(HUBSPOT_SETTINGS_DOC).get();
  const parsed = settingsSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : null;
}

export async function writeRefundStageIds(db: Firestore, ids: RefundStageIds, at = new Date()): Promise<void> {
  await db.doc(HUBSPOT_SETTINGS_DOC).set({ pipelineId: ids.pipelineId, stages: { ...ids.stages }, checkedAt: Timestamp.fromDate(at) }, { merge: true });
}
