import type { Command } from "commander";
import { z } from "zod";
import { sweepEvents } from "../../../functions/src/services/eventSweep";
import { CliError, cliContext } from "../context";
import { emit } from "../output";
import type { CliCommand } from "../registry";

const optionsSchema = z.strictObject({ since: z.iso.datetime({ offset: true, error: "--since must be an ISO time, e.g. 2026-11-01T00:00:00Z" }).optional(), dryRun: z.boolean() });

export const sweepEventsCommand: CliCommand = {
  register(program: Command) {
    program
      .command("sweep-events")
      .description("apply Stripe events the ledger lacks (missed webhook deliveries, at most 30 days back)")
      .option("--since <ISO>", "look back from here instead of the last sweep's high-water mark")
      .option("--dry-run", "only list what would be applied", false)
      .action(async (raw: unknown, cmd: Command) => {
        const ctx = cliContext(cmd.optsWithGlobals());
        const opts = optionsSchema.safeParse(raw);
        if (!opts.success) throw new CliError(opts.error.issues[0]?.message ?? "invalid options");
        const report = await sweepEvents(
          { db: ctx.db, stripe: ctx.stripe(), graceDays: ctx.graceDays, acceptLivemode: ctx.acceptLivemode },
          { ...(opts.data.since ? { since: new Date(opts.data.since) } : {}), dryRun: opts.data.dryRun },
        );
        emit(ctx, { command: "sweep-events", ...report }, () => [
          `sweep ${report.from} → ${report.until}: ${report.listed} events listed, ${report.skipped} already in the ledger, ${report.dryRun ? `${report.missing.length} would be applied` : `${report.applied} applied`}`,
          ...Object.entries(report.recorded).map(([status, n]) => `  ${n} recorded as ${status} (read stripeEvents for the reason)`),
        ]);
      });
  },
};
