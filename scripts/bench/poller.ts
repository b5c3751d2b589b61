/**
 * Waits for many keys with one poll loop: every `pollMs` a single batched `check` of all keys still pending, so the
 * bench's own load (and, for a vendor, its share of the rate limit) does not grow with the number of waits.
 */
import { setTimeout as sleep } from "node:timers/promises";

export class Poller<T> {
  private readonly pending = new Map<string, { since: number; resolve: (r: { value: T; seenAt: number } | null) => void }>();
  private running = false;
  errors = 0;
  firstError: string | null = null;

  constructor(
    private readonly check: (keys: string[]) => Promise<Map<string, T>>,
    private readonly pollMs: number,
    private readonly waitMs: number,
  ) {}

  /** The value and the wall-clock time it was first seen, or null once `waitMs` have passed since `since`. */
  wait(key: string, since: number): Promise<{ value: T; seenAt: number } | null> {
    const done = new Promise<{ value: T; seenAt: number } | null>((resolve) => this.pending.set(key, { since, resolve }));
    if (!this.running) void this.loop();
    return done;
  }

  private async loop(): Promise<void> {
    this.running = true;
    while (this.pending.size) {
      const started = Date.now();
      let found = new Map<string, T>();
      try {
        found = await this.check([...this.pending.keys()]);
      } catch (err) {
        this.errors += 1;
        this.firstError ??= err instanceof Error ? err.message : String(err);
      }
      const seenAt = Date.now();
      for (const [key, p] of [...this.pending]) {
        const value = found.get(key);
        if (value !== undefined) p.resolve({ value, seenAt });
        else if (seenAt - p.since > this.waitMs) p.resolve(null);
        else continue;
        this.pending.delete(key);
      }
      await sleep(Math.max(0, this.pollMs - (Date.now() - started)));
    }
    this.running = false;
  }
}
