/** `opsStatus`: the Health screen in one answer, from aggregation queries and single-document reads only. */
import type { AdminInput } from "../../domain/adminOps.js";
import { HEALTH_WINDOW_MS, shapeOpsStatus } from "../../domain/opsHealth.js";
import { readHealthFacts } from "../../store/opsHealth.js";
import type { ReadAnswer, ReadCtx } from "./consoleRead.js";

export async function opsStatus({ deps, now }: ReadCtx, _input: AdminInput<"opsStatus">): Promise<ReadAnswer> {
  const facts = await readHealthFacts(deps.db, now, HEALTH_WINDOW_MS);
  return { outcome: "read", result: shapeOpsStatus(facts, now) };
}
