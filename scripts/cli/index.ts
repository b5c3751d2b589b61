/**
 * `npm run opsync -- <command>`: the operator's CLI. Global options: --project (a `demo-*` project uses the local
 * emulators that `npm start` runs; any other project uses application default credentials), --json, --verbose, --stripe-key,
 * --stripe-url. Exit 0 when the job was done; otherwise one line naming the reason on stderr and exit 1.
 */
import "./quietLogs";
import { Command, CommanderError } from "commander";
import { CliError } from "./context";
import { COMMANDS } from "./registry";

export function buildProgram(): Command {
  const program = new Command("opsync")
    .description("Operate opsync: import, sweep, replay, reconcile; staff, API keys, local tokens")
    .option("--project <id>", "Firebase project id (demo-* uses the local emulators)", process.env.GCLOUD_PROJECT ?? "demo-opsync")
    .option("--json", "machine-readable output on stdout", false)
    .option("--verbose", "also print the structured log lines of the operations (stderr)", false)
    .option("--stripe-key <key>", "Stripe secret or restricted key (default STRIPE_SECRET_KEY, or functions/.secret.local on the emulators)")
    .option("--stripe-url <url>", "Stripe API base URL (default STRIPE_API_BASE_URL of the project's params)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  for (const command of COMMANDS) command.register(program);
  return program;
}

async function main(): Promise<number> {
  try {
    await buildProgram().parseAsync(process.argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`opsync: ${error instanceof CliError ? "" : "failed: "}${message.split("\n")[0]}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
