/**
 * The admin operation `opsStatus` (Health) timed at a given data size: synthetic sync jobs are added up to the wanted
 * count (a realistic mix: most succeeded, some waiting, a few dead), then the operation runs sequentially.
 */
import { performance } from "node:perf_hooks";
import type { Firestore } from "firebase-admin/firestore";
import { JOB_KINDS } from "../../functions/src/domain/model";
import { opsStatus } from "../../functions/src/services/adminOps/opsStatus";
import { latency, type Latency } from "./stats";

export interface StatusSample {
  customers: number;
  jobs: number;
  latency: Latency;
}

/** Adds `bench_job_*` documents until syncJobs holds `target` documents; returns the count. */
export async function seedJobs(db: Firestore, target: number): Promise<number> {
  const have = (await db.collection("syncJobs").count().get()).data().count;
  const writer = db.bulkWriter();
  const now = Date.now();
  for (let i = have; i < target; i++) {
    const status = i % 20 === 0 ? "dead" : i % 7 === 0 ? "pending" : "succeeded";
    const at = new Date(now - (i % 3600) * 1000);
    void writer.set(db.collection("syncJobs").doc(`bench_job_${i}`), {
      jobId: `bench_job_${i}`, kind: JOB_KINDS[i % JOB_KINDS.length], status, target: { uid: `u_bench${i % 1000}` }, idempotencyKey: `bench:${i}`,
      reason: "bench", cause: { type: "system" }, attempts: 1, nextAttemptAt: status === "pending" ? at : null, lastError: null, leaseExpiresAt: null,
      firstAttemptAt: at, completedAt: status === "succeeded" ? at : null, createdAt: at, updatedAt: at,
    });
  }
  await writer.close();
  return Math.max(have, target);
}

export async function measureOpsStatus(db: Firestore, samples: number, size: { customers: number; jobs: number }): Promise<StatusSample> {
  const ctx = () => ({ deps: { db }, caller: { uid: "bench", roles: ["admin" as const] }, now: new Date() });
  for (let i = 0; i < 2; i++) await opsStatus(ctx(), {});
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await opsStatus(ctx(), {});
    times.push(performance.now() - t0);
  }
  return { ...size, latency: latency(times) };
}
