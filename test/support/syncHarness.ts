/**
 * Runs the sync queue in-process against the Firestore emulator: a dispatcher that honours delays with
 * timers (as Cloud Tasks would) and a way to wait until everything dispatched has finished.
 */
import type { Firestore, Timestamp } from "firebase-admin/firestore";
import type { SinkName } from "../../functions/src/domain/model";
import type { RetryPolicy } from "../../functions/src/domain/retry";
import { runSyncJob, type Dispatcher, type RunOutcome, type Sinks, type SyncDeps } from "../../functions/src/services/syncRunner";
import { HubspotCrm, HubspotTickets, type HubspotCrmConfig } from "../../functions/src/sinks/hubspot";
import type { ClaimsPort } from "../../functions/src/sinks/ports";
import { SlackNotifier } from "../../functions/src/sinks/slack";

export interface Harness {
  deps: SyncDeps;
  /** Every dispatch made: job id and requested delay. */
  dispatches: Array<{ jobId: string; delayMs: number }>;
  outcomes: RunOutcome[];
  /** Dispatch every job currently `pending` (what the Firestore trigger does), then wait for quiet. */
  runPending(): Promise<void>;
  idle(): Promise<void>;
}

/**
 * Resolves once `Date.now()` has passed `at`. A Node timer may fire a millisecond before the wall clock reaches its
 * time; the job would then still be `not_due` and be dispatched once more, which queue tests counting dispatches see.
 */
async function sleepUntil(at: number): Promise<void> {
  while (Date.now() <= at) await new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, at - Date.now() + 1)));
}

export function harness(db: Firestore, sinks: Sinks, policy: Partial<RetryPolicy> = {}, maxAttempts: Partial<Record<SinkName, number>> = {}): Harness {
  const inFlight = new Set<Promise<unknown>>();
  const dispatches: Harness["dispatches"] = [];
  const outcomes: RunOutcome[] = [];
  const dispatcher: Dispatcher = {
    async dispatch(jobId, delayMs) {
      dispatches.push({ jobId, delayMs });
      const p = sleepUntil(Date.now() + delayMs).then(() => runSyncJob(deps, jobId)).then(async (o) => {
        outcomes.push(o);
        // What onSyncJobWritten does when a job goes back to pending (a rerun): dispatch it for its time.
        if (o.outcome === "rerun") {
          const next = (await db.collection("syncJobs").doc(jobId).get()).get("nextAttemptAt") as Timestamp | undefined;
          await dispatcher.dispatch(jobId, Math.max(0, (next?.toMillis() ?? 0) - Date.now()));
        }
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
  };
  const deps: SyncDeps = {
    db,
    sinks,
    dispatcher,
    policy: (sink) => ({ baseMs: 20, maxMs: 300, maxAttempts: maxAttempts[sink] ?? 5, ...policy }),
    leaseMs: 10_000,
  };
  const idle = async () => {
    while (inFlight.size) await Promise.all([...inFlight]);
  };
  return {
    deps,
    dispatches,
    outcomes,
    idle,
    async runPending() {
      // Like onSyncJobWritten: each pending job is dispatched for its nextAttemptAt (coalesced jobs wait to settle).
      const pending = await db.collection("syncJobs").where("status", "==", "pending").get();
      await Promise.all(pending.docs.map((d) => dispatcher.dispatch(d.id, Math.max(0, ((d.get("nextAttemptAt") as Timestamp | undefined)?.toMillis() ?? 0) - Date.now()))));
      await idle();
    },
  };
}

/** A claims spy that accepts any uid (the queue tests do not create Auth users; the claims contract covers that). */
export class RecordingClaims implements ClaimsPort {
  readonly calls: Array<{ uid: string; entitlements: string[] }> = [];
  claims = new Map<string, Record<string, unknown>>();
  async setClaims(uid: string, owned: { entitlements: string[]; plan: string | null; supportTier: string }): Promise<void> {
    this.calls.push({ uid, entitlements: owned.entitlements });
    this.claims.set(uid, { ...(this.claims.get(uid) ?? {}), ...owned });
  }
}

/** The real adapters against the local HubSpot and Slack stand-ins, recorded claims, no Stripe; `overrides` swap any. */
export function standInSinks(crm: HubspotCrmConfig, slackUrl: string, overrides: Partial<Sinks> = {}): Sinks {
  return {
    crm: new HubspotCrm(crm),
    helpdesk: new HubspotTickets(crm),
    claims: new RecordingClaims(),
    notify: new SlackNotifier({ webhookUrl: slackUrl, timeoutMs: 2000 }),
    stripe: null,
    ...overrides,
  };
}
