/** Field-level comparison used for audit before/after and for "did anything change" decisions. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!deepEqual(a[key], b[key])) return false;
    return true;
  }
  return (a ?? null) === (b ?? null);
}

export interface FieldDiff {
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/**
 * Changed fields of `after` against `before`. Map-valued fields are compared one level down so an audit
 * entry for one new invoice names `invoices.in_123`, not the whole map.
 */
export function diffFields(
  before: object | null,
  after: object,
  ignore: readonly string[] = [],
): FieldDiff | null {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const out: FieldDiff = { before: {}, after: {} };
  const keys = new Set([...Object.keys(b), ...Object.keys(a)]);
  for (const key of keys) {
    if (ignore.includes(key)) continue;
    const bv = b[key];
    const av = a[key];
    if (deepEqual(bv, av)) continue;
    if (isPlainObject(bv) && isPlainObject(av)) {
      for (const sub of new Set([...Object.keys(bv), ...Object.keys(av)])) {
        if (deepEqual(bv[sub], av[sub])) continue;
        out.before[`${key}.${sub}`] = bv[sub] ?? null;
        out.after[`${key}.${sub}`] = av[sub] ?? null;
      }
    } else {
      out.before[key] = bv ?? null;
      out.after[key] = av ?? null;
    }
  }
  return Object.keys(out.after).length || Object.keys(out.before).length ? out : null;
}

/** Keep the `max` newest entries of a map by a numeric field. */
export function capMap<T>(map: Record<string, T>, max: number, order: (v: T) => number): Record<string, T> {
  const entries = Object.entries(map);
  if (entries.length <= max) return map;
  entries.sort((x, y) => order(y[1]) - order(x[1]));
  return Object.fromEntries(entries.slice(0, max));
}
