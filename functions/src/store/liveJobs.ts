/**
 * Writes planned jobs in the caller's transaction. Jobs that sync state (domain/coalesce.ts) go to their one live
 * document per (kind, target): a change folds into a waiting run or asks a running one for one more run, so a burst
 * of events for one customer makes one or two vendor calls, not one per event. Other jobs keep their per-cause id.
 * Reads (the live documents) happen before any write, as a transaction requires: call before writing anything else.
 */
import { FieldValue, type DocumentSnapshot, type Firestore, type Transaction } from "firebase-admin/firestore";
import { liveJobId, planLiveWrite } from "../domain/coalesce.js";
import { jobId } from "../domain/jobIds.js";
import type { JobSpec, JobStatus } from "../domain/model.js";
import { jobRef, newJobDoc, type JobDoc } from "./jobs.js";

export interface PlannedJobs {
  ids: string[];
  /** Writes the jobs; call after every read of the transaction. */
  write: () => void;
}

export async function planJobs(db: Firestore, tx: Transaction, specs: JobSpec[], causeKey: string, cause: JobDoc["cause"], at: Date): Promise<PlannedJobs> {
  const ids = specs.map((spec) => liveJobId(spec) ?? jobId(causeKey, spec));
  const liveIds = [...new Set(specs.map((s) => liveJobId(s)).filter((id): id is string => id !== null))];
  const snaps = liveIds.length ? await tx.getAll(...liveIds.map((id) => jobRef(db, id))) : [];
  const live = new Map<string, DocumentSnapshot>(liveIds.map((id, i) => [id, snaps[i] as DocumentSnapshot]));
  const write = () => {
    const seen = new Set<string>();
    specs.forEach((spec, i) => {
      const id = ids[i] ?? "";
      if (seen.has(id)) return;
      seen.add(id);
      const snap = live.get(id);
      if (!snap) {
        tx.set(jobRef(db, id), newJobDoc(id, spec, cause, at));
        return;
      }
      const existing = snap.exists ? { status: snap.get("status") as JobStatus } : null;
      const decision = planLiveWrite(existing, spec.kind, at);
      if (decision.action === "start") {
        // A dead job revived keeps its incident: its success is what resolves it.
        const incidentId: unknown = snap.exists ? snap.get("incidentId") : null;
        tx.set(jobRef(db, id), { ...newJobDoc(id, spec, cause, at, decision.nextAttemptAt), coalesced: 0, rerunRequested: false, ...(typeof incidentId === "string" ? { incidentId } : {}) });
        return;
      }
      const folded = { cause, reason: spec.reason, coalesced: FieldValue.increment(1), updatedAt: at };
      tx.update(jobRef(db, id), decision.action === "rerun" ? { ...folded, rerunRequested: true } : folded);
    });
  };
  return { ids: [...new Set(ids)], write };
}
