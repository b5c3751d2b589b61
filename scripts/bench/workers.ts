/**
 * Functions emulator worker processes (Linux /proc): one Node process per in-flight invocation of a function,
 * spawned on demand. Watching them shows cold starts that land inside a measured round. Only one emulator suite can
 * hold the ports (the bench runs in its own network namespace), so every functionsEmulatorRuntime process seen
 * belongs to it.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { deliverAll, WARMUP_TIMEOUT_MS, type Target } from "./http";
import { poolBurst, warmSlots, type Workload } from "./workload";

export class WorkerWatch {
  private readonly seen = new Map<number, string>();
  private timer: NodeJS.Timeout | null = null;
  readonly available = existsSync("/proc/self/cmdline");

  start(): void {
    if (!this.available) return;
    this.scan();
    this.timer = setInterval(() => this.scan(), 200);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private scan(): void {
    let entries: string[];
    try {
      entries = readdirSync("/proc");
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (this.seen.has(pid)) continue;
      try {
        if (!readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("functionsEmulatorRuntime")) continue;
        const target = readFileSync(`/proc/${entry}/environ`, "utf8")
          .split("\0")
          .find((kv) => kv.startsWith("FUNCTION_TARGET="));
        this.seen.set(pid, target?.slice("FUNCTION_TARGET=".length) ?? "?");
      } catch {
        // exited between readdir and read
      }
    }
  }

  /** Worker processes ever seen, by function. */
  spawned(): Record<string, number> {
    this.scan();
    const counts: Record<string, number> = {};
    for (const target of this.seen.values()) counts[target] = (counts[target] ?? 0) + 1;
    return counts;
  }

  /**
   * CPU time (user + system, ms) used so far by this function's worker processes that are still alive. A difference
   * over a round, divided by its deliveries, is the function's own CPU per request: process accounting, so it
   * holds on a loaded machine where wall-clock latencies stretch with everyone else's work.
   */
  cpuMs(target: string): number {
    this.scan();
    let ms = 0;
    for (const [pid, t] of this.seen) if (t === target) ms += processCpuMs(pid);
    return ms;
  }

  alive(target: string): number {
    let n = 0;
    for (const [pid, t] of this.seen) if (t === target && existsSync(`/proc/${pid}`)) n += 1;
    return n;
  }
}

/** Linux reports process CPU in clock ticks; USER_HZ is 100 on every mainstream kernel build. */
const TICKS_PER_SECOND = 100;

/** utime + stime of a process in ms (0 once it has exited). Fields 14 and 15 of /proc/<pid>/stat, after the `(comm)`. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Pids of the emulators' own processes: the Firestore emulator (Java) and the firebase CLI (functions emulator, hub). */
export function emulatorPids(): { firestore: number[]; cli: number[] } {
  const out = { firestore: [] as number[], cli: [] as number[] };
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd.includes("CloudFirestore") || cmd.includes("cloud-firestore-emulator")) out.firestore.push(Number(entry));
      else if (/node_modules\/\.bin\/firebase\0|firebase-tools\/lib\/bin\/firebase/.test(cmd) && cmd.includes("emulators:")) out.cli.push(Number(entry));
    } catch {
      // exited
    }
  }
  return out;
}

export function spawnedSince(before: Record<string, number>, after: Record<string, number>, target: string): number {
  return (after[target] ?? 0) - (before[target] ?? 0);
}

/**
 * Warm-up of one target's worker pool before a round at concurrency c > 1: simultaneous bursts that grow by WARM_STEP
 * until warmSlots(c), then repeat at warmSlots(c) until two bursts in a row spawn no new worker, so every worker has
 * also served requests (a worker's first request pays for lazy module loading and its Firestore channel). Growing in
 * steps matters on 2 cores: ~40 workers started at once do not come up within the emulator's 30 s start timeout, and
 * the emulator then leaves those requests unanswered. Without /proc: the ramp plus three bursts.
 * `prepare` runs before each burst is sent (the extension replica needs its customers seeded).
 */
const WARM_STEP = 6;
const WARM_MAX_BURSTS = 16;

export async function warmPool(
  target: Target,
  secret: string,
  watch: WorkerWatch,
  c: number,
  prepare: (w: Workload) => Promise<void>,
): Promise<{ bursts: number; events: number; bad: number; workers: number | null; settled: boolean }> {
  const slots = warmSlots(c);
  const workersNow = () => watch.spawned()[target.fn] ?? 0;
  const needStable = watch.available ? 2 : 3;
  let size = Math.min(slots, (watch.available ? workersNow() : 1) + WARM_STEP);
  let bursts = 0;
  let events = 0;
  let bad = 0;
  let stable = 0;
  while (bursts < WARM_MAX_BURSTS && stable < needStable) {
    const before = workersNow();
    const burst = poolBurst(`pw${target.name}${c}b${bursts}`, size);
    await prepare(burst);
    const { samples } = await deliverAll(target, secret, burst.chains, size, WARMUP_TIMEOUT_MS);
    bursts += 1;
    events += samples.length;
    bad += samples.filter((s) => s.verdict === "bad").length;
    if (size < slots) {
      size = Math.min(slots, Math.max(size, watch.available ? workersNow() : size) + WARM_STEP);
      continue;
    }
    stable = watch.available && workersNow() > before ? 0 : stable + 1;
  }
  return { bursts, events, bad, workers: watch.available ? workersNow() : null, settled: stable >= needStable };
}
