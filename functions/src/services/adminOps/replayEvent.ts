/** Admin operation `replayEvent`: fetch a Stripe event from the API and put it through the webhook's path (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import { AdminError, isDryRun } from "../../domain/adminOps.js";
import { TransientError } from "../../domain/errors.js";
import type { LedgerStatus } from "../../domain/model.js";
import { log } from "../../log.js";
import { readLedgerStatus } from "../../store/adminReads.js";
import { ingestReplay, REPLAYABLE_STATUSES } from "../../store/ingest.js";
import { COL } from "../../store/paths.js";
import { checkStripeEvent } from "../stripeWebhook.js";
import { auditEntry } from "./audit.js";
import { conflict, notFound } from "./errors.js";
import type { AdminDeps, Handler } from "./types.js";
import { audit } from "../../store/audit.js";

const alreadyRecorded = (eventId: string, status: string) =>
  conflict(`event ${eventId} is already ${status}; replaying cannot change it`);

/** The event from the Stripe API; 404 when Stripe has none, 503 when Stripe cannot answer now. */
async function fetchStripeEvent(deps: AdminDeps, eventId: string): Promise<Record<string, unknown>> {
  let event: Record<string, unknown> | null;
  try {
    event = await deps.stripe.retrieveEvent(eventId);
  } catch (error) {
    if (error instanceof TransientError) {
      throw new AdminError("unavailable", `the Stripe API could not be reached (${error.message}); retry in a moment`);
    }
    throw error;
  }
  if (!event) throw notFound(`event ${eventId} not found (Stripe keeps events 30 days)`);
  return event;
}

export const replayEvent: Handler<"replayEvent"> = async ({ deps, caller, now }, input) => {
  const { db } = deps;
  const fetched = await fetchStripeEvent(deps, input.eventId);
  const recorded = await readLedgerStatus(db, input.eventId);
  const ledger = recorded ? { status: recorded.status as LedgerStatus, reason: recorded.reason } : null;
  // The same path as a webhook delivery: envelope, mode check, normalization (then the ingest transaction).
  const checked = checkStripeEvent(fetched, deps.acceptLivemode);
  const envelope = checked.event;
  const event = {
    eventId: input.eventId,
    type: envelope?.type ?? (typeof fetched.type === "string" ? fetched.type : null),
    created: envelope ? new Date(envelope.created * 1000).toISOString() : null,
    objectId: envelope?.data.object.id ?? null,
    objectType: envelope?.data.object.object ?? null,
    livemode: envelope?.livemode ?? null,
    apiVersion: envelope?.api_version ?? null,
  };
  const replayable = REPLAYABLE_STATUSES.includes(ledger?.status ?? null);

  if (isDryRun("replayEvent", input)) {
    const normalized = checked.ok
      ? checked.normalized.outcome === "normalized"
        ? { outcome: "normalized", reason: null }
        : { outcome: checked.normalized.outcome, reason: checked.normalized.reason }
      : null;
    const why = !replayable
      ? `already ${ledger?.status ?? "recorded"}; replaying cannot change it`
      : !checked.ok
        ? checked.problem
        : ledger
          ? `the ledger says ${ledger.status}; the event would be run again and that outcome overwritten`
          : "not in the ledger; the event would be recorded as if Stripe had delivered it";
    return {
      outcome: "dry_run",
      result: { operation: "replayEvent", dryRun: true, event, ledger, normalized, wouldReprocess: replayable && checked.ok, why },
    };
  }

  if (ledger && !replayable) throw alreadyRecorded(input.eventId, ledger.status);
  if (!checked.ok) throw conflict(checked.problem);
  const result = await ingestReplay(db, checked.event, checked.normalized, { graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) });
  // Recorded by a delivery (or another replay) between the read above and the transaction.
  if (result.duplicate) throw alreadyRecorded(input.eventId, result.status);
  log.eventRecorded({ eventId: input.eventId, type: checked.event.type, status: result.status, duplicate: false, attempts: result.attempts, reason: result.reason });
  const before = { status: result.previous, reason: result.previous ? (ledger?.reason ?? null) : null };
  const after = { status: result.status, reason: result.reason };
  await audit(db, 
    auditEntry(caller, "replayEvent", { outcome: "applied", target: `${COL.stripeEvents}/${input.eventId}`, before, after, at: now }),
  );
  return { outcome: "applied", result: { operation: "replayEvent", dryRun: false, event, before, after } };
};
