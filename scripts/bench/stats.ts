/** Percentiles, machine CPU use and table formatting for the bench's output. */
import { readFileSync } from "node:fs";

export interface Latency {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentiles (no interpolation: every value printed was measured). */
export function latency(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN;
  return { n: sorted.length, p50: rank(50), p95: rank(95), p99: rank(99), mean, max: sorted[sorted.length - 1] ?? NaN };
}

export type CpuTimes = { busy: number; total: number } | null;

/** Machine-wide CPU jiffies (all cores) from /proc/stat; null where there is no /proc. */
export function cpuTimes(): CpuTimes {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Percent of all cores busy between two cpuTimes() readings (whole machine, not just this benchmark). */
export function cpuBusy(before: CpuTimes, after: CpuTimes): number {
  if (!before || !after || after.total === before.total) return NaN;
  return (100 * (after.busy - before.busy)) / (after.total - before.total);
}

/** The 1-minute load average (other sessions share this machine; the doc quotes it with every run). */
export function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

export const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "-");
export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
export const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => "  " + cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

export type Out = (line?: string) => void;
