/**
 * The command registry: one file per command under commands/, each exporting a `CliCommand`. Adding one (staff,
 * apikey, token, …) is a new file and one line in COMMANDS.
 */
import type { Command } from "commander";
import { apikeyCommand } from "./commands/apikey";
import { backfillCommand } from "./commands/backfill";
import { reconcileCommand } from "./commands/reconcile";
import { replayCommand } from "./commands/replay";
import { staffCommand } from "./commands/staff";
import { statusCommand } from "./commands/status";
import { sweepEventsCommand } from "./commands/sweepEvents";
import { tokenCommand } from "./commands/token";

export interface CliCommand {
  /** Registers the command (name, arguments, options, action) on the program. */
  register(program: Command): void;
}


export const COMMANDS: readonly CliCommand[] = [statusCommand, backfillCommand, sweepEventsCommand, replayCommand, reconcileCommand, staffCommand, apikeyCommand, tokenCommand];
