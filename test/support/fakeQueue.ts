/**
 * The sync queue on a fake clock against the real Firestore emulator: tasks are (jobId, due time) pairs run in due
 * order when the test advances the clock, a stand-in for onSyncJobWritten dispatches jobs that become pending, and
 * the sweeper is `findDueJobs` at the fake time. No timers: tests say what time it is.
 */
import type { Firestore, Timestamp } from "firebase-admin/firestore";
import type { SinkName } from "../../functions/src/domain/model";
import { runSyncJob, type RunOutcome, type Sinks, type SyncDeps } from "../../functions/src/services/syncRunner";
import { findDueJobs } from "../../functions/src/store/jobQueue";

export interface FakeQueue {
  deps: SyncDeps;
  now(): Date;
  advance(ms: number): void;
  tasks: Array<{ jobId: string; at: number }>;
  outcomes: RunOutcome[];
  /** Runs once: what onSyncJobWritten does for every pending job without a task yet. */
  triggerPending(): Promise<void>;
  /** Runs every task due now (and those they schedule for now); a throwing run is a crashed worker: its task is gone. */
  runDue(): Promise<void>;
  sweep(): Promise<void>;
  /** triggerPending + runDue, then jump to the next task, until nothing is left or `maxMs` of fake time passed. */
  settle(maxMs?: number): Promise<void>;
}

export function fakeQueue(db: Firestore, sinks: Sinks, opts: { maxAttempts?: Partial<Record<SinkName, number>>; start?: number } = {}): FakeQueue {
  let clock = opts.start ?? Date.now();
  const tasks: FakeQueue["tasks"] = [];
  const outcomes: RunOutcome[] = [];
  const deps: SyncDeps = {
    db,
    sinks,
    dispatcher: {
      async dispatch(jobId, delayMs) {
        tasks.push({ jobId, at: clock + delayMs });
      },
    },
    policy: (sink) => ({ baseMs: 1_000, maxMs: 10_000, maxAttempts: opts.maxAttempts?.[sink] ?? 5 }),
    now: () => new Date(clock),
    random: () => 0.5,
    leaseMs: 60_000,
  };
  const q: FakeQueue = {
    deps,
    tasks,
    outcomes,
    now: () => new Date(clock),
    advance: (ms) => {
      clock += ms;
    },
    async triggerPending() {
      const pending = await db.collection("syncJobs").where("status", "==", "pending").get();
      for (const d of pending.docs) {
        if (tasks.some((t) => t.jobId === d.id)) continue;
        const next = (d.get("nextAttemptAt") as Timestamp | null)?.toMillis() ?? clock;
        tasks.push({ jobId: d.id, at: Math.max(clock, next) });
      }
    },
    async runDue() {
      for (;;) {
        tasks.sort((a, b) => a.at - b.at);
        const due = tasks.filter((t) => t.at <= clock);
        if (!due.length) return;
        for (const t of due) tasks.splice(tasks.indexOf(t), 1);
        await Promise.all(
          due.map(async (t) => {
            try {
              outcomes.push(await runSyncJob(deps, t.jobId));
            } catch {
              // A crashed worker: nothing recorded, the task is gone (the sweeper or the lease's end recovers it).
            }
          }),
        );
        await q.triggerPending();
      }
    },
    async sweep() {
      for (const id of await findDueJobs(db, new Date(clock), 500)) if (!tasks.some((t) => t.jobId === id)) tasks.push({ jobId: id, at: clock });
    },
    async settle(maxMs = 30 * 60_000) {
      const end = clock + maxMs;
      while (clock <= end) {
        await q.triggerPending();
        await q.runDue();
        tasks.sort((a, b) => a.at - b.at);
        const next = tasks[0]?.at;
        if (next === undefined) {
          // Nothing scheduled: what would the sweeper find a few minutes later?
          clock += 4 * 60_000;
          await q.sweep();
          if (!tasks.length) return;
        } else {
          clock = Math.max(clock, next);
        }
      }
    },
  };
  return q;
}
