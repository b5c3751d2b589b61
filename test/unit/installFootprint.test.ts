/**
 * `.npmrc` makes the optional native `re2` fail to build at once (README "The local loop"); that is only safe while
 * no Hosting rewrite, redirect or header uses a `regex` pattern (superstatic needs re2 for those).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);

function regexKeys(value: unknown, path = "hosting"): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => regexKeys(v, `${path}[${i}]`));
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => (k === "regex" ? [`${path}.${k}`] : regexKeys(v, `${path}.${k}`)));
}

describe("install footprint", () => {
  it("firebase.json's Hosting config uses globs only, so the stubbed-out re2 is never needed", () => {
    // The bench's config (firebase.bench.local.json, generated, git-ignored) copies firebase.json's Hosting block.
    const config = JSON.parse(readFileSync(new URL("firebase.json", root), "utf8")) as { hosting?: unknown };
    expect(config.hosting).toBeDefined();
    expect(regexKeys(config.hosting)).toEqual([]);
  });

  it(".npmrc keeps the lockfile's peer-dependency mode and skips re2's native build", () => {
    const npmrc = readFileSync(new URL(".npmrc", root), "utf8").split("\n").map((l) => l.trim());
    expect(npmrc).toContain("legacy-peer-deps=true");
    expect(npmrc.some((l) => /^nodedir=\/nonexistent/.test(l))).toBe(true);
  });
});
