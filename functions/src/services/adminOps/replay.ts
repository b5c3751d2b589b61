/** Admin operation `replay`: events from the ledger by event id, customer or time range; dry run unless confirmed. */
import { AdminError, jsonSafe } from "../../domain/adminOps.js";
import { replay, ReplayNotFound, type ReplayTarget } from "../replay.js";
import type { Handler } from "./types.js";
import { auditEntry } from "./audit.js";
import { audit } from "../../store/audit.js";

export const replayOp: Handler<"replay"> = async ({ deps, caller, now }, input) => {
  const target: ReplayTarget = input.eventId
    ? { eventId: input.eventId }
    : input.uid
      ? { uid: input.uid }
      : { since: new Date(input.since ?? 0), until: new Date(input.until ?? 0) };
  const dryRun = input.confirm !== true;
  let report;
  try {
    report = await replay({ db: deps.db, graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) }, target, { dryRun });
  } catch (error) {
    if (error instanceof ReplayNotFound) throw new AdminError("not-found", error.message);
    throw error;
  }
  const result = jsonSafe({ operation: "replay", target: input.eventId ?? input.uid ?? `${input.since}..${input.until}`, ...report }) as Record<string, unknown>;
  if (dryRun) return { outcome: "dry_run", result };
  const targetPath = input.eventId ? `stripeEvents/${input.eventId}` : input.uid ? `customers/${input.uid}` : "stripeEvents";
  const after = { customers: report.customers.length, rerun: report.rerun.length, skipped: report.skipped.length };
  await audit(deps.db, auditEntry(caller, "replay", { outcome: "applied", target: targetPath, before: null, after, detail: { since: input.since ?? null, until: input.until ?? null }, at: now }));
  return { outcome: "applied", result };
};
