/** Admin operation `sweepEvents`: dry run lists the Stripe events the ledger lacks; confirmed, they are applied. */
import { jsonSafe } from "../../domain/adminOps.js";
import { sweepEvents } from "../eventSweep.js";
import type { Handler } from "./types.js";
import { auditEntry } from "./audit.js";
import { audit } from "../../store/audit.js";

export const sweepEventsOp: Handler<"sweepEvents"> = async ({ deps, caller, now }, input) => {
  const dryRun = input.confirm !== true;
  const report = await sweepEvents(
    { db: deps.db, stripe: deps.stripe, graceDays: deps.graceDays, acceptLivemode: deps.acceptLivemode, ...(deps.now ? { now: deps.now } : {}) },
    { ...(input.since ? { since: new Date(input.since) } : {}), dryRun },
  );
  if (dryRun) return { outcome: "dry_run", result: { operation: "sweepEvents", ...report } };
  const after = { from: report.from, until: report.until, listed: report.listed, applied: report.applied, recorded: report.recorded };
  await audit(deps.db, auditEntry(caller, "sweepEvents", { outcome: "applied", target: "ops/eventSweep", before: null, after, at: now }));
  return { outcome: "applied", result: jsonSafe({ operation: "sweepEvents", ...report }) as Record<string, unknown> };
};
