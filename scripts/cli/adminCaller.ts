/**
 * The CLI as an admin API caller: operations run through the same `runAdminOperation` as the HTTP API (same
 * validation, role rules and audit entries), with the caller `cli` (actor `{type: "cli", id: "cli", via: "cli"}`).
 * Whoever runs the CLI already holds the project's credentials, so it acts as admin.
 */
import { AdminError } from "../../functions/src/domain/adminOps";
import { runAdminOperation, type AdminDeps, type AdminResult, type Caller } from "../../functions/src/services/admin";
import { firebaseAdminAuth } from "../../functions/src/services/adminDeps";
import type { StripeReadPort } from "../../functions/src/sinks/stripeApi";
import { CliError, type CliContext } from "./context";

export const CLI_CALLER: Caller = { uid: "cli", roles: ["admin"], via: "cli" };

/** Stripe is built only if an operation calls it (the staff operations never do). */
function lazyStripe(ctx: CliContext): StripeReadPort {
  return {
    retrieveEvent: (id) => ctx.stripe().retrieveEvent(id),
    retrieveObject: (kind, id) => ctx.stripe().retrieveObject(kind, id),
    listEvents: (p) => ctx.stripe().listEvents(p),
    listCustomers: (p) => ctx.stripe().listCustomers(p),
    listSubscriptions: (p) => ctx.stripe().listSubscriptions(p),
    listCheckoutSessions: (p) => ctx.stripe().listCheckoutSessions(p),
    listPage: (list, p) => ctx.stripe().listPage(list, p),
  };
}

export function cliAdminDeps(ctx: CliContext): AdminDeps {
  const limit = Number(ctx.params.get("ADMIN_RATE_LIMIT_PER_MINUTE") ?? "60");
  return {
    db: ctx.db,
    auth: firebaseAdminAuth(),
    rateLimitPerMinute: Number.isInteger(limit) && limit > 0 ? limit : 60,
    graceDays: ctx.graceDays,
    acceptLivemode: ctx.acceptLivemode,
    stripe: lazyStripe(ctx),
  };
}

/** One admin operation as `cli`; a refusal becomes the CLI's one-line error (exit 1). */
export async function runAsCli(ctx: CliContext, operation: string, input: Record<string, unknown>): Promise<AdminResult> {
  try {
    return await runAdminOperation(cliAdminDeps(ctx), CLI_CALLER, operation, input);
  } catch (error) {
    if (error instanceof AdminError) throw new CliError(`${operation}: ${error.message}`);
    throw error;
  }
}
