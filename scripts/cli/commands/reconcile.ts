import type { Command } from "commander";
import { z } from "zod";
import { reconcile } from "../../../functions/src/services/reconcile";
import { CliError, cliContext } from "../context";
import { emit, progressLine } from "../output";
import type { CliCommand } from "../registry";

const optionsSchema = z.strictObject({ fix: z.boolean() });

/** Drift is a finding, not a failure: exit 0 whenever the run finished, with the report on stdout. */
export const reconcileCommand: CliCommand = {
  register(program: Command) {
    program
      .command("reconcile")
      .description("compare Stripe ↔ Firestore ↔ HubSpot ↔ Auth claims and report drift by kind and customer")
      .option("--fix", "repair what was found through the normal paths (sync jobs, re-derivation, review queue)", false)
      .action(async (raw: unknown, cmd: Command) => {
        const ctx = cliContext(cmd.optsWithGlobals());
        const opts = optionsSchema.safeParse(raw);
        if (!opts.success) throw new CliError(opts.error.issues[0]?.message ?? "invalid options");
        const bar = progressLine("reconcile: customers", { json: ctx.json });
        const report = await reconcile(
          { db: ctx.db, stripe: ctx.stripe(), crm: ctx.crmRead(), claims: ctx.claimsRead(), graceDays: ctx.graceDays },
          { fix: opts.data.fix, onProgress: (p) => bar.update(p.done, p.phase === "listing" ? "listing Stripe customers, subscriptions, invoices and payment intents…" : p.phase === "orders" ? `orders; drift ${p.drift}` : `drift ${p.drift}`) },
        );
        bar.finish();
        emit(ctx, { command: "reconcile", ...report }, () => [
          `reconcile ${report.runId} ${report.status}: ${report.checked} customers and ${report.checkedOrders} orders checked, ${report.driftTotal} differences${report.fix ? `, ${report.fixed} repaired (${report.jobs} sync jobs planned)` : ""}`,
          ...Object.entries(report.drift).map(([kind, n]) => `  ${kind}: ${n}`),
          ...report.findings.slice(0, 50).map((f) => `  ${f.kind} ${f.uid ?? "-"} ${f.stripeCustomerId ?? "-"}${f.field ? ` ${f.field}: expected ${JSON.stringify(f.expected)}, found ${JSON.stringify(f.found)}` : ""}`),
          ...(report.findings.length > 50 ? [`  … ${report.driftTotal - 50} more in ops/reconcile/runs/${report.runId}`] : []),
          ...(report.awaitingReview ? [`${report.awaitingReview} Stripe customer(s) wait in reviewQueue for a uid`] : []),
          ...(report.driftTotal && !report.fix ? ["run `opsync reconcile --fix` to repair"] : []),
        ]);
      });
  },
};
