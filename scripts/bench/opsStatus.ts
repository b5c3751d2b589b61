/**
 * The admin operation `opsStatus` (Health) timed at a given data size: synthetic sync jobs are added up to the wanted
 * count (a realistic mix: most succeeded, some waiting, a few dead), the window's minutes are rolled up as the
 * every-minute sweep does, then the operation runs sequentially. Beside it, one `count()` that matches nothing is
 * timed the same way: what a single aggregation costs the emulator at that size (it walks the collection whatever
 * the filter matches), so the ratio opsStatus / one count says how many such walks opsStatus pays.
 */
import { performance } from "node:perf_hooks";
import type { Firestore } from "firebase-admin/firestore";
import { windowMinutes } from "../../functions/src/domain/alertSignals";
import { JOB_KINDS } from "../../functions/src/domain/model";
import { opsStatus } from "../../functions/src/services/adminOps/opsStatus";
import { readMinutes } from "../../functions/src/store/opsCounters";
import { latency, type Latency } from "./stats";

export interface StatusSample {
  customers: number;
  jobs: number;
  latency: Latency;
  /** One `count()` on syncJobs matching no document, same samples. */
  oneCount: Latency;
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
  // Steady state: the sweep has rolled up every minute that ended 30 s ago (16 covers Health's 15 whole minutes).
  await readMinutes(db, windowMinutes(new Date(), 16), new Date());
  for (let i = 0; i < 2; i++) await opsStatus(ctx(), {});
  const times: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await opsStatus(ctx(), {});
    times.push(performance.now() - t0);
    const t1 = performance.now();
    await db.collection("syncJobs").where("status", "==", "bench_no_such_status").count().get();
    counts.push(performance.now() - t1);
  }
  return { ...size, latency: latency(times), oneCount: latency(counts) };
}
