/**
 * Keeps the documentation a founder follows in step with the code: the admin operations in the docs' tables, the
 * params in the deploy guide, the docs index, and the Cloud Monitoring files (every log-metric filter names a log
 * message the code emits and fields that message carries; every alert policy names a defined metric).
 */
import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ADMIN_OPERATION_NAMES } from "../../functions/src/domain/adminOps";

const ROOT = resolve(__dirname, "../..");
const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");
const MONITORING = resolve(ROOT, "deploy/monitoring");

/** The operation names in a markdown table's first column (`| \`name\` | …`). */
function tableOperations(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(heading);
  expect(start, `heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(start).split("\n").slice(1);
  const table = lines.slice(lines.findIndex((l) => l.startsWith("|")));
  const rows = table.slice(0, table.findIndex((l) => !l.startsWith("|")) >>> 0);
  return rows.map((l) => /^\|\s*`([A-Za-z]+)`/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
}

/** The log messages functions/src/log.ts emits, each with the field names its call passes. */
function emittedLogs(): Map<string, string> {
  const source = read("functions/src/log.ts");
  const out = new Map<string, string>();
  // One property of `log` per message: `fn: (params…) => entry(severity, "message_name", fields)`. Its text
  // (parameter types included) and the code's `log.fn(…)` calls (for free-form fields) hold what the message carries.
  const calls = sourceFiles(resolve(ROOT, "functions/src")).map((f) => readFileSync(f, "utf8")).join("\n");
  const parts = source.split(/\n {2}([A-Za-z]+): \(/);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const fn = parts[i] ?? "";
    const body = parts[i + 1] ?? "";
    const name = /entry\([^,]+,\s*"([a-z_]+)"/.exec(body)?.[1];
    const uses = [...calls.matchAll(new RegExp(`log\\.${fn}\\([^;]*`, "g"))].map((m) => m[0]).join("\n");
    if (name) out.set(name, `${body}\n${uses}`);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(resolve(dir, e.name)) : e.name.endsWith(".ts") ? [resolve(dir, e.name)] : [],
  );
}

const jsonFiles = (dir: string) =>
  readdirSync(resolve(MONITORING, dir))
    .filter((f) => f.endsWith(".json"))
    .map((f) => ({ file: `${dir}/${f}`, name: f.replace(/\.json$/, ""), body: JSON.parse(readFileSync(resolve(MONITORING, dir, f), "utf8")) as Record<string, unknown> }));

describe("docs match the code", () => {
  it("every admin operation is in the roles tables of docs/admin-api.md and docs/security.md, and nothing else is", () => {
    const expected = [...ADMIN_OPERATION_NAMES].sort();
    expect(tableOperations(read("docs/admin-api.md"), "## Operations and roles").sort()).toEqual(expected);
    expect(tableOperations(read("docs/security.md"), "## The admin API (server)").sort()).toEqual(expected);
  });

  it("docs/deploy.md names every param and secret functions/src/config/ defines", () => {
    const configDir = resolve(ROOT, "functions/src/config");
    const config = readdirSync(configDir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => read(`functions/src/config/${f}`))
      .join("\n");
    const params = [...config.matchAll(/define(?:String|Int|Secret|Boolean|List)\("([A-Z_]+)"/g)].map((m) => m[1]);
    expect(params.length).toBeGreaterThan(15);
    const deploy = read("docs/deploy.md");
    expect(params.filter((p) => !deploy.includes(`\`${p}\``))).toEqual([]);
  });

  it("README's docs list links every file in docs/", () => {
    const readme = read("README.md");
    const docs = readdirSync(resolve(ROOT, "docs")).filter((f) => f.endsWith(".md"));
    expect(docs.filter((f) => !readme.includes(`](docs/${f})`))).toEqual([]);
  });

  it("every log-based metric filters on a log message the code emits, by fields that message carries", () => {
    const logs = emittedLogs();
    expect(logs.size).toBeGreaterThan(10);
    const metrics = jsonFiles("metrics");
    expect(metrics.length).toBeGreaterThan(5);
    for (const { file, body } of metrics) {
      const filter = String(body.filter);
      const names = [...filter.matchAll(/jsonPayload\.message="([a-z_]+)"/g)].map((m) => m[1] ?? "");
      expect(names, `${file} names a message`).toHaveLength(1);
      const call = logs.get(names[0] ?? "");
      expect(call, `${file}: "${names[0]}" is not a message in functions/src/log.ts`).toBeDefined();
      const fields = [...`${filter} ${JSON.stringify(body.labelExtractors ?? {})}`.matchAll(/jsonPayload\.([A-Za-z]+)/g)].map((m) => m[1] ?? "").filter((f) => f !== "message");
      for (const field of fields) expect(call, `${file}: ${names[0]} carries no field "${field}"`).toMatch(new RegExp(`\\b${field}\\??\\s*[:,)}]`));
      for (const key of Object.keys((body.labelExtractors ?? {}) as object)) {
        expect((body.metricDescriptor as { labels?: Array<{ key: string }> }).labels?.map((l) => l.key), `${file} declares label ${key}`).toContain(key);
      }
    }
  });

  it("every alert policy names metrics defined in deploy/monitoring/metrics, and each metric is in docs/deploy.md", () => {
    const defined = new Set(jsonFiles("metrics").map((m) => m.name));
    const deploy = read("docs/deploy.md");
    for (const name of defined) expect(deploy, `docs/deploy.md lists ${name}`).toContain(`\`${name}\``);
    for (const { file, name, body } of jsonFiles("policies")) {
      expect(deploy, `docs/deploy.md lists policy ${name}`).toContain(`\`${name}\``);
      const used = [...JSON.stringify(body).matchAll(/logging\.googleapis\.com\/user\/([a-z_]+)/g)].map((m) => m[1] ?? "");
      expect(used.length, `${file} names a metric`).toBeGreaterThan(0);
      for (const metric of used) expect(defined.has(metric), `${file}: unknown metric ${metric}`).toBe(true);
    }
  });
});
