/** How commands talk: a JSON document on stdout with --json, else short human lines; progress on stderr. */
import type { CliContext } from "./context";

export function emit(ctx: Pick<CliContext, "json">, result: Record<string, unknown>, human: () => string[]): void {
  if (ctx.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${human().join("\n")}\n`);
}

/**
 * A one-line progress display on stderr: redrawn in place on a terminal, else at most one line per `every` steps
 * (logs and CI stay readable). Silent with --json unless stderr is a terminal.
 */
export function progressLine(label: string, opts: { json: boolean; every?: number }) {
  const tty = process.stderr.isTTY === true;
  let lastPrinted = -1;
  return {
    update(done: number, detail: string, total: number | null = null) {
      if (opts.json && !tty) return;
      const text = `${label} ${done}${total ? `/${total}` : ""} ${detail}`;
      if (tty) process.stderr.write(`\r${text.padEnd(80)}`);
      else if (lastPrinted < 0 || done - lastPrinted >= (opts.every ?? 100)) {
        lastPrinted = done;
        process.stderr.write(`${text}\n`);
      }
    },
    finish() {
      if (tty && !(opts.json && !tty)) process.stderr.write("\n");
    },
  };
}
