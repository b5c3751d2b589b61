/**
 * The layer rule lives in eslint.config.mjs; this proves it bites: each wrong arrow, written into a file of the
 * layer it would come from, is reported by eslint, and each allowed arrow is not.
 */
import { resolve } from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "../..");
const eslint = new ESLint({ cwd: ROOT });

async function layerProblems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

const WRONG: Array<[string, string, string]> = [
  ["functions/src/domain/x.ts", 'import { getDb } from "../services/runtime.js";', "domain → services"],
  ["functions/src/domain/x.ts", 'import { COL } from "../store/paths.js";', "domain → store"],
  ["functions/src/domain/x.ts", 'import { webhookConfig } from "../config.js";', "domain → config"],
  ["functions/src/store/x.ts", 'import { runSyncJob } from "../services/syncRunner.js";', "store → services"],
  ["functions/src/store/x.ts", 'import { HubspotCrm } from "../sinks/hubspot.js";', "store → sinks"],
  ["functions/src/store/x.ts", 'import { adminAppOptions } from "../config.js";', "store → config"],
  ["functions/src/sinks/x.ts", 'import { runSyncJob } from "../services/syncRunner.js";', "sinks → services"],
  ["functions/src/sinks/x.ts", 'import { newJobDoc } from "../store/jobs.js";', "sinks → store"],
  ["functions/src/sinks/x.ts", 'import { syncConfig } from "../config.js";', "sinks → config (value)"],
  ["functions/src/domain/x.ts", 'import { webhookConfig } from "../config/webhook.js";', "domain → config/<concern>"],
  ["functions/src/store/x.ts", 'import { adminAppOptions } from "../config/env.js";', "store → config/<concern>"],
  ["functions/src/store/x.ts", 'import { vendorBudgetLimits } from "../config/index.js";', "store → config/index"],
  ["functions/src/sinks/x.ts", 'import { syncConfig } from "../config/sync.js";', "sinks → config/<concern> (value)"],
  ["functions/src/config/x.ts", 'import { getDb } from "../services/runtime.js";', "config → services"],
  ["functions/src/config/x.ts", 'import { COL } from "../store/paths.js";', "config → store"],
  ["functions/src/services/x.ts", 'import { stripeWebhook } from "../triggers/stripeWebhook.js";', "services → triggers"],
  ["functions/src/services/adminOps/x.ts", 'import { adminApi } from "../../triggers/adminApi.js";', "services (nested) → triggers"],
  ["functions/src/triggers/x.ts", 'import { recordEvent } from "../store/ingest.js";', "triggers → store"],
  ["functions/src/triggers/x.ts", 'import { HubspotCrm } from "../sinks/hubspot.js";', "triggers → sinks"],
  ["functions/src/services/x.ts", 'import { MemoryCrm } from "../../../test/fakes/memorySinks.js";', "src → test fakes"],
  ["functions/src/index.ts", 'import { x } from "../../scripts/cli/registry.js";', "src → scripts"],
];

const ALLOWED: Array<[string, string, string]> = [
  ["functions/src/triggers/x.ts", 'import { applyLedgerEntry } from "../services/ledger.js";', "triggers → services"],
  ["functions/src/triggers/x.ts", 'import { COL } from "../store/paths.js";', "triggers → store/paths (document names)"],
  ["functions/src/services/x.ts", 'import { newJobDoc } from "../store/jobs.js";', "services → store"],
  ["functions/src/services/x.ts", 'import { HubspotCrm } from "../sinks/hubspot.js";', "services → sinks"],
  ["functions/src/store/x.ts", 'import { jobId } from "../domain/jobIds.js";', "store → domain"],
  ["functions/src/sinks/x.ts", 'import type { SyncConfig } from "../config.js";', "sinks → config (type only)"],
  ["functions/src/sinks/x.ts", 'import type { SyncConfig } from "../config/sync.js";', "sinks → config/<concern> (type only)"],
  ["functions/src/services/x.ts", 'import { syncConfig } from "../config/sync.js";', "services → config/<concern>"],
  ["functions/src/triggers/x.ts", 'import { hubspotToken } from "../config/sync.js";', "triggers → config/<concern> (secret binding)"],
  ["functions/src/config/x.ts", 'import { ValidationError } from "../domain/errors.js";', "config → domain"],
];

describe("the layer rule (eslint.config.mjs)", () => {
  // Loading the config and the TypeScript parser takes seconds on a loaded machine; pay it once, outside the cases.
  beforeAll(async () => {
    await layerProblems("functions/src/domain/warmup.ts", "export const warm = 1;\n");
  }, 240_000);

  it.each(WRONG)("reports %s: %s (%s)", async (file, code) => {
    const problems = await layerProblems(file, `${code}\nexport const used = [${code.match(/\{ (\w+)/)?.[1] ?? "0"}];\n`);
    expect(problems.length).toBeGreaterThan(0);
  }, 60_000);

  it.each(ALLOWED)("allows %s: %s (%s)", async (file, code) => {
    const problems = await layerProblems(file, `${code}\nexport type Used = typeof ${code.match(/\{ (?:type )?(\w+)/)?.[1]};\n`);
    expect(problems).toEqual([]);
  }, 60_000);
});
