/** Admin operation `retryJob`: put a dead sync job back to pending (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import { readJob } from "../../store/adminReads.js";
import { retryDeadJob } from "../../store/jobQueue.js";
import { COL } from "../../store/paths.js";
import { actorOf, auditEntry } from "./audit.js";
import { conflict, notFound } from "./errors.js";
import type { Handler } from "./types.js";
import { audit } from "../../store/audit.js";

export const retryJob: Handler<"retryJob"> = async ({ deps, caller, now }, input) => {
  const job = await readJob(deps.db, input.jobId);
  if (!job) throw notFound(`no sync job ${COL.syncJobs}/${input.jobId}`);
  const status = String(job.status);
  if (status !== "dead") throw conflict(`job ${input.jobId} is ${status}; only dead jobs can be retried`);
  const before = { status: "dead", attempts: job.attempts ?? null, deadReason: job.deadReason ?? null };
  const retried = await retryDeadJob(deps.db, input.jobId, actorOf(caller), now);
  if (!retried) throw conflict(`job ${input.jobId} changed while retrying; read it again`);
  const after = { status: "pending", attempts: 0 };
  await audit(deps.db, auditEntry(caller, "retryJob", { outcome: "applied", target: `${COL.syncJobs}/${input.jobId}`, before, after, at: now }));
  return { outcome: "applied", result: { operation: "retryJob", jobId: input.jobId, retried: true, before, after } };
};
