import type { Command } from "commander";
import { opsStatus } from "../../../functions/src/services/status";
import { cliContext } from "../context";
import { emit } from "../output";
import type { CliCommand } from "../registry";

export const statusCommand: CliCommand = {
  register(program: Command) {
    program
      .command("status")
      .description("ledger, queue, alerts, review queue, and the last backfill / sweep / reconcile")
      .action(async (_opts: unknown, cmd: Command) => {
        const ctx = cliContext(cmd.optsWithGlobals());
        const status = await opsStatus(ctx.db);
        emit(ctx, { command: "status", project: ctx.project, ...status }, () => [
          `project ${ctx.project}${ctx.local ? " (emulators)" : ""}`,
          ...["ledger", "jobs", "alerts", "review"].map((k) => `${k}: ${Object.entries((status[k] ?? {}) as Record<string, number>).map(([s, n]) => `${s} ${n}`).join(", ")}`),
          `automation: ${(status.automation as { paused: boolean }).paused ? "PAUSED" : "running"}`,
          `backfill: ${JSON.stringify(status.backfill)}`,
          `eventSweep: ${JSON.stringify(status.eventSweep)}`,
          `reconcile: ${JSON.stringify(status.reconcile)}`,
        ]);
      });
  },
};
