import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { z } from "zod";
import { parseMappingCsv } from "../../../functions/src/domain/importMapping";
import { runBackfill } from "../../../functions/src/services/backfill";
import { CliError, cliContext } from "../context";
import { emit, progressLine } from "../output";
import type { CliCommand } from "../registry";

const optionsSchema = z.strictObject({ mapping: z.string().min(1).optional(), sync: z.boolean(), restart: z.boolean() });

export const backfillCommand: CliCommand = {
  register(program: Command) {
    program
      .command("backfill")
      .description("import existing Stripe customers, subscriptions, open invoices and recent payment intents (resumable)")
      .option("--mapping <file.csv>", "CSV of uid,stripeCustomerId for customers Stripe does not attribute")
      .option("--no-sync", "import quietly: plan no CRM / claims jobs (reconcile --fix plans them later)")
      .option("--restart", "ignore the stored cursor and start from the newest customer", false)
      .action(async (raw: unknown, cmd: Command) => {
        const ctx = cliContext(cmd.optsWithGlobals());
        const opts = optionsSchema.safeParse(raw);
        if (!opts.success) throw new CliError(opts.error.issues[0]?.message ?? "invalid options");
        let mapping: Map<string, string> | undefined;
        if (opts.data.mapping) {
          let text: string;
          try {
            text = readFileSync(opts.data.mapping, "utf8");
          } catch {
            throw new CliError(`cannot read mapping file ${opts.data.mapping}`);
          }
          try {
            mapping = parseMappingCsv(text);
          } catch (error) {
            throw new CliError(`${opts.data.mapping}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        const bar = progressLine("backfill: customers", { json: ctx.json });
        const report = await runBackfill(
          { db: ctx.db, stripe: ctx.stripe(), graceDays: ctx.graceDays },
          {
            ...(mapping ? { mapping } : {}),
            noSync: !opts.data.sync,
            restart: opts.data.restart,
            onProgress: (p) => (p.phase === "listing" ? bar.update(0, "listing subscriptions, invoices, payment intents…") : bar.update(p.done, `imported ${p.imported} review ${p.review}`)),
          },
        );
        bar.finish();
        emit(ctx, { command: "backfill", ...report }, () => [
          `backfill ${report.status}${report.resumed ? " (resumed)" : ""}: ${report.customers} customers, ${report.imported} imported, ${report.unchanged} unchanged, ${report.review} held for review, ${report.conflicts} conflicts, ${report.jobs} sync jobs planned${report.noSync ? " (--no-sync)" : ""}`,
          ...(report.review || report.conflicts ? ["see reviewQueue (reason unmapped_customer / uid_conflict); map them and run backfill again"] : []),
        ]);
      });
  },
};
