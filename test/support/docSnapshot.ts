/**
 * Every document in the emulator's database, as path → updateTime, in one kindless query (cheap enough to run
 * before and after each fuzzed request). Paths are relative to the database root, e.g. `customers/u1`.
 */
import { PROJECT_ID } from "./firestore";

export type DocSnapshot = Map<string, string>;

const ROOT = `projects/${PROJECT_ID}/databases/(default)/documents/`;

export async function snapshotAllDocs(): Promise<DocSnapshot> {
  const host = process.env.FIRESTORE_EMULATOR_HOST;
  if (!host) throw new Error("FIRESTORE_EMULATOR_HOST is not set; run through npm test");
  const res = await fetch(`http://${host}/v1/${ROOT.slice(0, -1)}:runQuery`, {
    method: "POST",
    headers: { Authorization: "Bearer owner", "content-type": "application/json" },
    body: JSON.stringify({ structuredQuery: { from: [{ allDescendants: true }], select: { fields: [{ fieldPath: "__name__" }] } } }),
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok) throw new Error(`listing every document failed: ${res.status} ${await res.text()}`);
  const rows = (await res.json()) as Array<{ document?: { name: string; updateTime: string } }>;
  const out: DocSnapshot = new Map();
  for (const row of rows) {
    if (row.document) out.set(row.document.name.slice(ROOT.length), row.document.updateTime);
  }
  return out;
}

/** Paths created, changed or deleted between two snapshots. */
export function changedPaths(before: DocSnapshot, after: DocSnapshot): string[] {
  const changed = new Set<string>();
  for (const [path, time] of after) if (before.get(path) !== time) changed.add(path);
  for (const path of before.keys()) if (!after.has(path)) changed.add(path);
  return [...changed].sort();
}
