/**
 * firestore.indexes.json holds an index for every query the code makes; a test fails when a query lacks one.
 *
 * A small static analyser reads functions/src/**\/*.ts, finds Firestore query chains
 * (`.collection(X)` / `.collectionGroup(X)` followed by `.where(...)` / `.orderBy(...)` / `.limit(...)` …), resolves
 * X from string literals and `const NAME = { key: "value" }` maps (functions/src/store/paths.ts' COL…), and
 * derives the composite index each query needs under Firestore's rules:
 *   - Firestore keeps a single-field index (ascending, descending, array-contains) on every field, so a query on one
 *     field (equality, range, `!=`, `in`, orderBy, or a range plus an orderBy on that same field) needs nothing.
 *   - Equality-only filters on several fields (`==`, `in`, `array-contains`, `array-contains-any`) are served by
 *     merging single-field indexes: no composite index needed (one may still be declared, for speed).
 *   - A composite index IS needed when equality filters are combined with a range / inequality filter or an orderBy
 *     on another field, when a query orders by two fields, or filters by range on two fields. Its fields are the
 *     equality fields (any order), then the orderBy fields in order, then the range fields not ordered explicitly
 *     (Firestore's implicit order: by field path), with the query's directions. A trailing ascending orderBy on
 *     the document id (`__name__`) is implicit in every index.
 * A chain the analyser cannot resolve (a query built in a variable, a field that is not a literal…) is reported and
 * fails the test until it is described in DYNAMIC_QUERIES below. Indexes declared but used by no query also fail
 * (unless listed in KEPT_INDEXES with a reason), so the file does not collect stale indexes.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// ---- Model ---------------------------------------------------------------------------------------------------
type Direction = "ASCENDING" | "DESCENDING";
type Clause =
  | { kind: "where"; field: string; op: string }
  | { kind: "orderBy"; field: string; direction: Direction };

interface FoundQuery {
  file: string;
  line: number;
  collection: string;
  scope: "COLLECTION" | "COLLECTION_GROUP";
  clauses: Clause[];
  text: string;
}

interface Unresolved {
  file: string;
  line: number;
  why: string;
  text: string;
}

interface IndexField {
  fieldPath: string;
  order?: Direction;
  arrayConfig?: "CONTAINS";
}

interface IndexSpec {
  collectionGroup: string;
  queryScope: "COLLECTION" | "COLLECTION_GROUP";
  fields: IndexField[];
}

/** What a query needs: `composite` null when single-field indexes (or merging them) serve it. */
interface IndexNeed {
  composite: IndexSpec | null;
  /** The equality fields, for queries served by merging (a declared composite index may still serve them). */
  equality: { field: string; contains: boolean }[];
  /** Range / orderBy fields in index order. */
  ordered: { field: string; direction: Direction }[];
}

const EQUALITY_OPS = new Set(["==", "in", "array-contains", "array-contains-any"]);
const RANGE_OPS = new Set(["<", "<=", ">", ">=", "!=", "not-in"]);
const CHAIN_METHODS = new Set([
  "where",
  "orderBy",
  "limit",
  "limitToLast",
  "offset",
  "startAt",
  "startAfter",
  "endAt",
  "endBefore",
  "select",
  "withConverter",
]);

// ---- Lexing helpers ---------------------------------------------------------------------------------------------
/** The source with comments blanked out (same length, newlines kept), so positions and line numbers still hold. */
function blankComments(src: string): string {
  const out = src.split("");
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (c === "/" && next === "/") {
      const end = src.indexOf("\n", i);
      const stop = end === -1 ? src.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end === -1 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      i = skipString(src, i);
    } else {
      i++;
    }
  }
  return out.join("");
}

/** Index just past the string literal starting at `start` (template `${…}` parts are skipped as a whole). */
function skipString(src: string, start: number): number {
  const quote = src[start];
  let i = start + 1;
  while (i < src.length) {
    const c = src[i];
    if (c === "\\") i += 2;
    else if (c === quote) return i + 1;
    else if (quote === "`" && c === "$" && src[i + 1] === "{") i = matchClose(src, i + 1, "{", "}") + 1;
    else i++;
  }
  return i;
}

/** Index of the bracket closing the one at `open`. */
function matchClose(src: string, open: number, openCh: string, closeCh: string): number {
  let depth = 0;
  let i = open;
  while (i < src.length) {
    const c = src[i];
    if (c === '"' || c === "'" || c === "`") {
      i = skipString(src, i);
      continue;
    }
    if (c === openCh || (openCh === "(" && (c === "[" || c === "{"))) depth++;
    else if (c === closeCh || (openCh === "(" && (c === "]" || c === "}"))) depth--;
    if (depth === 0) return i;
    i++;
  }
  throw new Error(`unbalanced ${openCh} at ${open}`);
}

/** Top-level comma-separated arguments of a call's argument text. */
function splitArgs(args: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (c === '"' || c === "'" || c === "`") {
      i = skipString(args, i) - 1;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = args.slice(start).trim();
  if (last) parts.push(last);
  return parts;
}

/** A plain string literal's value, or null. */
function literal(expr: string): string | null {
  const m = /^(["'`])((?:\\.|(?!\1)[^\\$])*)\1$/.exec(expr.trim());
  return m ? (m[2] ?? "") : null;
}

// ---- Constants ---------------------------------------------------------------------------------------------------
/** `export const NAME = { key: "value", … }` maps of a module, as "NAME.key" → "value". */
function readConstantMaps(src: string): Map<string, string> {
  const out = new Map<string, string>();
  const clean = blankComments(src);
  for (const m of clean.matchAll(/(?:export\s+)?const\s+(\w+)\s*=\s*\{([^{}]*)\}/g)) {
    for (const entry of (m[2] ?? "").matchAll(/(\w+)\s*:\s*(["'])([^"']*)\2/g)) {
      out.set(`${m[1]}.${entry[1]}`, entry[3] ?? "");
    }
  }
  return out;
}

/** The collection id a `.collection(arg)` names: its last path segment, or null when it is not static. */
function resolveCollection(arg: string, constants: Map<string, string>): string | null {
  const expr = arg.trim();
  const constant = constants.get(expr);
  if (constant !== undefined) return constant;
  const lit = literal(expr);
  let path: string | null = lit;
  const tpl = /^`(.*)`$/s.exec(expr);
  if (path === null && tpl) {
    path = (tpl[1] ?? "").replace(/\$\{\s*([\w.]+)\s*\}/g, (_m, name: string) => constants.get(name) ?? "\u0000");
  }
  if (path === null) return null;
  const segment = path.split("/").pop() ?? "";
  return segment && !segment.includes("\u0000") && !segment.includes("${") ? segment : null;
}

function fieldOf(expr: string): string | null {
  if (/^FieldPath\s*\.\s*documentId\s*\(\s*\)$/.test(expr.trim())) return "__name__";
  return literal(expr);
}

// ---- The scanner ---------------------------------------------------------------------------------------------------
function scanSource(
  source: string,
  file: string,
  constants: Map<string, string>,
): { queries: FoundQuery[]; unresolved: Unresolved[] } {
  const src = blankComments(source);
  const lineAt = (pos: number) => src.slice(0, pos).split("\n").length;
  const queries: FoundQuery[] = [];
  const unresolved: Unresolved[] = [];
  const chains: [number, number][] = []; // spans of the chains read (their `.where(` … are accounted for)

  for (const m of src.matchAll(/\.\s*(collection|collectionGroup)\s*\(/g)) {
    const start = m.index ?? 0;
    const open = start + m[0].length - 1;
    const close = matchClose(src, open, "(", ")");
    const arg = src.slice(open + 1, close);
    const clauses: Clause[] = [];
    const problems: string[] = [];
    let pos = close + 1;
    for (;;) {
      const call = /^\s*\.\s*(\w+)\s*\(/.exec(src.slice(pos));
      if (!call || !CHAIN_METHODS.has(call[1] ?? "")) break;
      const method = call[1] ?? "";
      const callOpen = pos + call[0].length - 1;
      const callClose = matchClose(src, callOpen, "(", ")");
      const args = splitArgs(src.slice(callOpen + 1, callClose));
      if (method === "where") {
        const field = fieldOf(args[0] ?? "");
        const op = literal(args[1] ?? "");
        if (args.length !== 3 || field === null || op === null) problems.push(`where(${args.join(", ")})`);
        else clauses.push({ kind: "where", field, op });
      } else if (method === "orderBy") {
        const field = fieldOf(args[0] ?? "");
        const dir = args[1] === undefined ? "asc" : literal(args[1]);
        if (field === null || (dir !== "asc" && dir !== "desc")) problems.push(`orderBy(${args.join(", ")})`);
        else clauses.push({ kind: "orderBy", field, direction: dir === "desc" ? "DESCENDING" : "ASCENDING" });
      }
      pos = callClose + 1;
    }
    const isQuery = clauses.length > 0 || problems.length > 0;
    if (!isQuery) continue;
    chains.push([start, pos]);
    const text = src.slice(start, pos).replace(/\s+/g, " ").trim();
    const collection = resolveCollection(arg, constants);
    if (collection === null) problems.unshift(`collection ${arg.trim()}`);
    if (problems.length > 0) {
      unresolved.push({ file, line: lineAt(start), why: `not static: ${problems.join("; ")}`, text });
      continue;
    }
    queries.push({
      file,
      line: lineAt(start),
      collection: collection ?? "",
      scope: m[1] === "collectionGroup" ? "COLLECTION_GROUP" : "COLLECTION",
      clauses,
      text,
    });
  }

  // `.where(` / `.orderBy(` on anything else (a query kept in a variable, a helper's parameter…).
  for (const m of src.matchAll(/\.\s*(where|orderBy)\s*\(/g)) {
    const at = m.index ?? 0;
    if (chains.some(([from, to]) => at >= from && at < to)) continue;
    const lineStart = src.lastIndexOf("\n", at) + 1;
    const lineEnd = src.indexOf("\n", at);
    unresolved.push({
      file,
      line: lineAt(at),
      why: `.${m[1]}() on a query the scanner cannot trace to a collection`,
      text: src.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).trim(),
    });
  }
  unresolved.sort((a, b) => a.line - b.line);
  return { queries, unresolved };
}

// ---- What a query needs ---------------------------------------------------------------------------------------------
function indexNeed(q: Pick<FoundQuery, "collection" | "scope" | "clauses">): IndexNeed {
  const wheres = q.clauses.filter((c): c is Extract<Clause, { kind: "where" }> => c.kind === "where");
  const orderBys = q.clauses.filter((c): c is Extract<Clause, { kind: "orderBy" }> => c.kind === "orderBy");
  const ordered: { field: string; direction: Direction }[] = [];
  for (const o of orderBys) if (!ordered.some((x) => x.field === o.field)) ordered.push({ field: o.field, direction: o.direction });
  const lastDirection = ordered.at(-1)?.direction ?? "ASCENDING";
  const rangeFields = [...new Set(wheres.filter((w) => RANGE_OPS.has(w.op)).map((w) => w.field))].sort();
  for (const f of rangeFields) if (!ordered.some((x) => x.field === f)) ordered.push({ field: f, direction: lastDirection });
  // Every index ends with __name__ ascending: an explicit trailing ascending order on the document id is free.
  const last = ordered.at(-1);
  if (last && last.field === "__name__" && last.direction === "ASCENDING") ordered.pop();

  const equality: { field: string; contains: boolean }[] = [];
  for (const w of wheres) {
    if (!EQUALITY_OPS.has(w.op) || ordered.some((x) => x.field === w.field)) continue;
    const contains = w.op === "array-contains" || w.op === "array-contains-any";
    if (!equality.some((e) => e.field === w.field && e.contains === contains)) equality.push({ field: w.field, contains });
  }
  equality.sort((a, b) => a.field.localeCompare(b.field));

  const needsComposite = ordered.length >= 2 || (ordered.length === 1 && equality.length > 0);
  const composite: IndexSpec | null = needsComposite
    ? {
        collectionGroup: q.collection,
        queryScope: q.scope,
        fields: [
          ...equality.map((e): IndexField => (e.contains ? { fieldPath: e.field, arrayConfig: "CONTAINS" } : { fieldPath: e.field, order: "ASCENDING" })),
          ...ordered.map((o): IndexField => ({ fieldPath: o.field, order: o.direction })),
        ],
      }
    : null;
  return { composite, equality, ordered };
}

/** Does declared index `idx` serve a query with these needs? (Equality fields in any order, then the ordered ones.) */
function serves(idx: IndexSpec, q: Pick<FoundQuery, "collection" | "scope">, need: IndexNeed): boolean {
  if (idx.collectionGroup !== q.collection || idx.queryScope !== q.scope) return false;
  const fields = [...idx.fields];
  const tail = fields.at(-1);
  if (tail?.fieldPath === "__name__") fields.pop();
  if (fields.length !== need.equality.length + need.ordered.length) return false;
  const head = fields.slice(0, need.equality.length);
  const rest = fields.slice(need.equality.length);
  const eqOk = need.equality.every((e) =>
    head.some((f) => f.fieldPath === e.field && (e.contains ? f.arrayConfig === "CONTAINS" : f.order !== undefined)),
  );
  const orderOk = need.ordered.every((o, i) => rest[i]?.fieldPath === o.field && rest[i]?.order === o.direction);
  return eqOk && orderOk;
}

// ---- The repository --------------------------------------------------------------------------------------------------
const ROOT = join(import.meta.dirname, "..", "..");
const SRC = join(ROOT, "functions", "src");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [join(dir, e.name)] : [],
  );
}

/**
 * Queries the scanner cannot read statically, described by hand: `file` and a `contains` snippet of the flagged
 * line identify it; `query` is its shape. Empty while every query is a static chain.
 */
const DYNAMIC_QUERIES: { file: string; contains: string; query: Pick<FoundQuery, "collection" | "scope" | "clauses"> }[] = [];

/** Declared indexes no scanned query needs but that are kept on purpose (e.g. for a console or client query). */
const KEPT_INDEXES: { index: string; reason: string }[] = [];

function scanRepo() {
  // Collection-name maps: functions/src/store/paths.ts first (it wins a clash), then every other module's
  // (any other module's constant maps, for queries that name a collection that way).
  const files = tsFiles(SRC);
  const pathsFile = join(SRC, "store", "paths.ts");
  const constants = new Map<string, string>();
  for (const path of [pathsFile, ...files.filter((f) => f !== pathsFile)]) {
    for (const [name, value] of readConstantMaps(readFileSync(path, "utf8"))) if (!constants.has(name)) constants.set(name, value);
  }
  const queries: FoundQuery[] = [];
  const unresolved: Unresolved[] = [];
  for (const path of files) {
    const rel = relative(ROOT, path).split("\\").join("/");
    const found = scanSource(readFileSync(path, "utf8"), rel, constants);
    queries.push(...found.queries);
    unresolved.push(...found.unresolved);
  }
  for (const u of unresolved) {
    const described = DYNAMIC_QUERIES.find((d) => d.file === u.file && u.text.includes(d.contains));
    if (described) queries.push({ ...described.query, file: u.file, line: u.line, text: u.text });
  }
  const undescribed = unresolved.filter((u) => !DYNAMIC_QUERIES.some((d) => d.file === u.file && u.text.includes(d.contains)));
  return { queries, unresolved: undescribed };
}

function declaredIndexes(): IndexSpec[] {
  const json = JSON.parse(readFileSync(join(ROOT, "firestore.indexes.json"), "utf8")) as { indexes: IndexSpec[] };
  return json.indexes;
}

const keyOf = (idx: IndexSpec) =>
  `${idx.collectionGroup}[${idx.queryScope}](${idx.fields.map((f) => `${f.fieldPath} ${f.arrayConfig ?? f.order}`).join(", ")})`;

// ---- Tests: the analyser on sample source ----------------------------------------------------------------------------
describe("index analyser", () => {
  const constants = readConstantMaps(`export const COL = { widgets: "widgets", orders: "orders" } as const;`);
  const scan = (src: string) => scanSource(src, "sample.ts", constants);
  const needOf = (src: string) => {
    const { queries, unresolved } = scan(src);
    expect(unresolved).toEqual([]);
    expect(queries).toHaveLength(1);
    const q = queries[0];
    if (!q) throw new Error("no query");
    return indexNeed(q);
  };

  it("flags a deliberately index-less query: equality plus orderBy on another field", () => {
    const src = `
      export async function latest(db: Firestore, owner: string) {
        return db.collection("widgets").where("owner", "==", owner).orderBy("createdAt", "desc").limit(5).get();
      }`;
    const { queries } = scan(src);
    const q = queries[0];
    if (!q) throw new Error("no query");
    const need = indexNeed(q);
    expect(need.composite).toEqual({
      collectionGroup: "widgets",
      queryScope: "COLLECTION",
      fields: [
        { fieldPath: "owner", order: "ASCENDING" },
        { fieldPath: "createdAt", order: "DESCENDING" },
      ],
    });
    const missing = (declared: IndexSpec[]) => (need.composite && !declared.some((d) => serves(d, q, need)) ? [keyOf(need.composite)] : []);
    expect(missing([])).toEqual(["widgets[COLLECTION](owner ASCENDING, createdAt DESCENDING)"]);
    // The wrong direction does not serve it; the right index does.
    const asc: IndexSpec = { collectionGroup: "widgets", queryScope: "COLLECTION", fields: [{ fieldPath: "owner", order: "ASCENDING" }, { fieldPath: "createdAt", order: "ASCENDING" }] };
    expect(missing([asc])).toHaveLength(1);
    expect(missing([need.composite as IndexSpec])).toEqual([]);
  });

  it("reads multi-line chains, COL constants, and ignores comments", () => {
    const src = `
      // db.collection("ghosts").where("a", "==", 1).orderBy("b") is only a comment
      const q = db
        .collection(COL.widgets) /* .where("x", "<", 1) */
        .where("status", "in", ["a", "b"])
        .where("dueAt", "<=", now)
        .orderBy("dueAt", "asc");`;
    const { queries, unresolved } = scan(src);
    expect(unresolved).toEqual([]);
    expect(queries.map((q) => q.collection)).toEqual(["widgets"]);
    expect(queries[0]?.line).toBe(4);
    const q = queries[0];
    if (!q) throw new Error("no query");
    expect(indexNeed(q).composite?.fields).toEqual([
      { fieldPath: "status", order: "ASCENDING" },
      { fieldPath: "dueAt", order: "ASCENDING" },
    ]);
  });

  it("needs nothing for single-field queries and equality-only queries", () => {
    expect(needOf(`db.collection("widgets").where("status", "==", "open").get()`).composite).toBeNull();
    expect(needOf(`db.collection("widgets").where("at", ">", t).orderBy("at", "desc").get()`).composite).toBeNull();
    expect(needOf(`db.collection("widgets").orderBy("at").limit(3).get()`).composite).toBeNull();
    expect(needOf(`db.collection("widgets").where("a", ">", 1).where("a", "<", 9).get()`).composite).toBeNull();
    expect(needOf(`db.collection("widgets").where("status", "in", s).orderBy("status").get()`).composite).toBeNull();
    // Equality on several fields (incl. in / array-contains) is served by merging single-field indexes.
    expect(needOf(`db.collection("widgets").where("a", "==", 1).where("b", "in", [1, 2]).where("tags", "array-contains", "x").get()`).composite).toBeNull();
    // A trailing ascending order on the document id is implicit.
    expect(needOf(`db.collection("widgets").where("a", "==", 1).orderBy(FieldPath.documentId()).get()`).composite).toBeNull();
  });

  it("needs a composite index for two range fields, two orders, or array-contains with an order", () => {
    expect(needOf(`db.collection("widgets").where("b", ">", 1).where("a", "<", 2).get()`).composite?.fields).toEqual([
      { fieldPath: "a", order: "ASCENDING" },
      { fieldPath: "b", order: "ASCENDING" },
    ]);
    expect(needOf(`db.collection("widgets").orderBy("a", "desc").orderBy("b").get()`).composite?.fields).toEqual([
      { fieldPath: "a", order: "DESCENDING" },
      { fieldPath: "b", order: "ASCENDING" },
    ]);
    expect(needOf(`db.collectionGroup("widgets").where("tags", "array-contains", "x").orderBy("at", "desc").get()`).composite).toEqual({
      collectionGroup: "widgets",
      queryScope: "COLLECTION_GROUP",
      fields: [
        { fieldPath: "tags", arrayConfig: "CONTAINS" },
        { fieldPath: "at", order: "DESCENDING" },
      ],
    });
    // A range field not ordered explicitly comes after the orderBy fields.
    expect(needOf(`db.collection("widgets").where("a", "!=", 1).orderBy("b").get()`).composite?.fields).toEqual([
      { fieldPath: "b", order: "ASCENDING" },
      { fieldPath: "a", order: "ASCENDING" },
    ]);
  });

  it("uses the last path segment of a sub-collection path", () => {
    const src = "db.collection(`${COL.orders}/${id}/items`).where(\"sku\", \"==\", s).orderBy(\"at\").get()";
    expect(scan(src).queries.map((q) => q.collection)).toEqual(["items"]);
    expect(scan(`db.collection(COL.orders).doc(id).collection("items").where("a", "==", 1).get()`).queries.map((q) => q.collection)).toEqual(["items"]);
  });

  it("reports what it cannot read statically", () => {
    const { unresolved } = scan(`
      let q: Query = db.collection(COL.widgets);
      if (owner) q = q.where("owner", "==", owner);
      db.collection(name).where("a", "==", 1).get();
      db.collection("widgets").where(field, "==", 1).get();
      db.collection("widgets").where(Filter.or(Filter.where("a", "==", 1), Filter.where("b", "==", 2))).get();`);
    expect(unresolved.map((u) => u.line)).toEqual([3, 4, 5, 6]);
  });

  it("ignores chains that are not queries", () => {
    expect(scan(`await db.collection(COL.widgets).doc(id).get(); db.collection("x").add({});`).queries).toEqual([]);
  });

  it("an equality-only query is served by a declared composite index with its fields in any order", () => {
    const q = { collection: "orders", scope: "COLLECTION" as const, clauses: [{ kind: "where" as const, field: "buyerUid", op: "==" }, { kind: "where" as const, field: "status", op: "in" }] };
    const idx: IndexSpec = { collectionGroup: "orders", queryScope: "COLLECTION", fields: [{ fieldPath: "status", order: "ASCENDING" }, { fieldPath: "buyerUid", order: "ASCENDING" }] };
    expect(serves(idx, q, indexNeed(q))).toBe(true);
    expect(serves({ ...idx, queryScope: "COLLECTION_GROUP" }, q, indexNeed(q))).toBe(false);
  });
});

// ---- Tests: this repository ---------------------------------------------------------------------------------------------
describe("firestore.indexes.json", () => {
  const { queries, unresolved } = scanRepo();
  const declared = declaredIndexes();

  it("the scanner finds the code's queries", () => {
    const where = queries.map((q) => `${q.file.replace("functions/src/", "")} ${q.collection}`);
    // The queries the sync queue and the held-event release depend on must be among them.
    expect(where).toEqual(
      expect.arrayContaining([
        "store/heldEvents.ts reviewQueue",
        "store/jobQueue.ts syncJobs",
        "store/jobFinish.ts syncJobs",
        "store/syncRecords.ts orders",
      ]),
    );
    expect(queries.length).toBeGreaterThanOrEqual(6);
  });

  it("every query is readable by the scanner (or described in DYNAMIC_QUERIES)", () => {
    expect(unresolved.map((u) => `${u.file}:${u.line} ${u.why}: ${u.text}`)).toEqual([]);
  });

  it("every query that needs a composite index has one declared", () => {
    const missing = queries.flatMap((q) => {
      const need = indexNeed(q);
      if (!need.composite || declared.some((d) => serves(d, q, need))) return [];
      return [`${q.file}:${q.line} needs ${JSON.stringify({ ...need.composite })}  ← ${q.text}`];
    });
    expect(missing).toEqual([]);
  });

  it("every declared index serves a query in the code (or is kept on purpose)", () => {
    const unused = declared
      .filter((d) => !queries.some((q) => serves(d, q, indexNeed(q))))
      .map(keyOf)
      .filter((k) => !KEPT_INDEXES.some((kept) => kept.index === k));
    expect(unused).toEqual([]);
  });

  it("is well formed: composite indexes of 2+ fields, valid modes, no duplicates", () => {
    for (const idx of declared) {
      expect(typeof idx.collectionGroup).toBe("string");
      expect(["COLLECTION", "COLLECTION_GROUP"]).toContain(idx.queryScope);
      expect(idx.fields.length).toBeGreaterThanOrEqual(2);
      for (const f of idx.fields) {
        const modes = [f.order, f.arrayConfig].filter((x) => x !== undefined);
        expect(modes, `${keyOf(idx)}: ${f.fieldPath}`).toHaveLength(1);
        if (f.order) expect(["ASCENDING", "DESCENDING"]).toContain(f.order);
        if (f.arrayConfig) expect(f.arrayConfig).toBe("CONTAINS");
      }
    }
    const keys = declared.map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
