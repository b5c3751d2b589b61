import type { Command } from "commander";
import { z } from "zod";
import { idSchema, stripeIdSchema } from "../../../functions/src/domain/ids";
import { replay, ReplayNotFound, type ReplayTarget } from "../../../functions/src/services/replay";
import { CliError, cliContext } from "../context";
import { emit } from "../output";
import type { CliCommand } from "../registry";

const iso = (flag: string) => z.iso.datetime({ offset: true, error: `${flag} must be an ISO time, e.g. 2026-11-01T00:00:00Z` });
const optionsSchema = z.strictObject({ customer: idSchema("--customer", "app").optional(), since: iso("--since").optional(), until: iso("--until").optional(), confirm: z.boolean() });

/** Exactly one of: an event id, --customer, or --since with --until. */
function target(eventId: string | undefined, o: z.infer<typeof optionsSchema>): ReplayTarget {
  const given = [eventId !== undefined, o.customer !== undefined, o.since !== undefined || o.until !== undefined].filter(Boolean).length;
  if (given !== 1) throw new CliError("replay needs exactly one of: <eventId>, --customer <uid>, --since ISO --until ISO");
  if (eventId !== undefined) {
    const id = stripeIdSchema("eventId", ["evt"]).safeParse(eventId);
    if (!id.success) throw new CliError(id.error.issues[0]?.message ?? "invalid event id");
    return { eventId: id.data };
  }
  if (o.customer) return { uid: o.customer };
  if (!o.since || !o.until) throw new CliError("--since and --until go together");
  const since = new Date(o.since);
  const until = new Date(o.until);
  if (since >= until) throw new CliError("--since must be before --until");
  return { since, until };
}

export const replayCommand: CliCommand = {
  register(program: Command) {
    program
      .command("replay [eventId]")
      .description("re-apply events from the ledger (dry run unless --confirm): one event, a customer, or a time range")
      .option("--customer <uid>", "rebuild this customer's record from every event the ledger holds for them")
      .option("--since <ISO>", "start of a time range (event created)")
      .option("--until <ISO>", "end of the time range (exclusive)")
      .option("--confirm", "write the result (without it: dry run, nothing changes)", false)
      .action(async (eventId: string | undefined, raw: unknown, cmd: Command) => {
        const ctx = cliContext(cmd.optsWithGlobals());
        const opts = optionsSchema.safeParse(raw);
        if (!opts.success) throw new CliError(opts.error.issues[0]?.message ?? "invalid options");
        const t = target(eventId, opts.data);
        let report;
        try {
          report = await replay({ db: ctx.db, graceDays: ctx.graceDays }, t, { dryRun: !opts.data.confirm });
        } catch (error) {
          if (error instanceof ReplayNotFound) throw new CliError(error.message);
          throw error;
        }
        const changed = report.customers.filter((c) => c.changed).length;
        emit(ctx, { command: "replay", ...report }, () => [
          `replay${report.dryRun ? " (dry run: add --confirm to write)" : ""}: ${report.customers.length} customers rebuilt, ${changed} ${report.dryRun ? "would change" : "changed"}, ${report.rerun.length} entries run again, ${report.skipped.length} skipped`,
          ...report.customers.filter((c) => c.diff).map((c) => `  ${c.uid}: ${Object.keys(c.diff?.after ?? {}).join(", ")}`),
          ...report.skipped.slice(0, 20).map((s) => `  skipped ${s.eventId}: ${s.why}`),
        ]);
      });
  },
};
