/**
 * The command registry: one file per command under commands/, each exporting a `CliCommand`. Adding one (staff,
 * apikey, token, …) is a new file and one line in COMMANDS.
 */
import type { Command } from "commander";
import { backfillCommand } from "./commands/backfill";
import { reconcileCommand } from "./commands/reconcile";
import { replayCommand } from "./commands/replay";
import { statusCommand } from "./commands/status";
import { sweepEventsCommand } from "./commands/sweepEvents";

export interface CliCommand {
  /** Registers the command (name, arguments, options, action) on the program. */
  register(program: Command): void;
}


export const COMMANDS: readonly CliCommand[] = [statusCommand, backfillCommand, sweepEventsCommand, replayCommand, reconcileCommand];
