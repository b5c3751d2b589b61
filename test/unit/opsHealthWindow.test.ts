/** Health's 15-minute window: which minutes come from the rolled-up counters and which are counted live. */
import { describe, expect, it } from "vitest";
import type { MinuteCounts } from "../../functions/src/domain/alertSignals";
import { healthWindow, liveRanges, windowFigures } from "../../functions/src/domain/opsHealth";

const now = new Date("2026-03-02T10:20:30Z");
const m: MinuteCounts = { deliveries: 10, deliveriesFailed: 1, jobsSucceeded: 4, jobsDead: 2 };
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe("healthWindow", () => {
  it("is the 15 whole minutes before the current one, oldest first, plus the current minute", () => {
    const w = healthWindow(now);
    expect(w.starts).toHaveLength(15);
    expect(iso(w.starts[0] ?? null)).toBe("2026-03-02T10:05:00.000Z");
    expect(iso(w.starts[14] ?? null)).toBe("2026-03-02T10:19:00.000Z");
    expect(iso(w.currentStart)).toBe("2026-03-02T10:20:00.000Z");
  });
});

describe("liveRanges", () => {
  const { starts, currentStart } = healthWindow(now);
  const ranges = (rolled: Array<MinuteCounts | null>) => liveRanges(starts, rolled, currentStart).ranges.map((r) => [iso(r.start), iso(r.end)]);

  it("steady state: the minutes not rolled up yet and the current one are one open-ended range", () => {
    const rolled = starts.map((_, i) => (i < 13 ? m : null));
    expect(ranges(rolled)).toEqual([["2026-03-02T10:18:00.000Z", null]]);
  });

  it("all rolled up: only the current minute is counted", () => {
    expect(ranges(starts.map(() => m))).toEqual([["2026-03-02T10:20:00.000Z", null]]);
  });

  it("nothing rolled up (no sweep yet): the whole window, once", () => {
    expect(ranges(starts.map(() => null))).toEqual([["2026-03-02T10:05:00.000Z", null]]);
  });

  it("a gap in the middle is its own closed range", () => {
    const rolled = starts.map((_, i) => (i === 3 || i === 4 ? null : m));
    expect(ranges(rolled)).toEqual([
      ["2026-03-02T10:08:00.000Z", "2026-03-02T10:10:00.000Z"],
      ["2026-03-02T10:20:00.000Z", null],
    ]);
  });

  it("more than two gaps: the whole window is counted live and no rolled-up minute is used (no double count)", () => {
    const rolled = starts.map((_, i) => (i % 2 === 0 ? m : null));
    const plan = liveRanges(starts, rolled, currentStart);
    expect(plan.ranges.map((r) => [iso(r.start), iso(r.end)])).toEqual([["2026-03-02T10:05:00.000Z", null]]);
    expect(plan.rolled.every((x) => x === null)).toBe(true);
  });
});

describe("windowFigures", () => {
  it("adds the rolled-up minutes and the live counts", () => {
    expect(windowFigures([m, null, m], [{ deliveries: 3, deliveriesFailed: 0, jobsSucceeded: 1, jobsDead: 1 }])).toEqual({
      ledgerTotal: 23, ledgerFailed: 2, jobsSucceeded: 9, jobsDead: 5,
    });
  });
});
