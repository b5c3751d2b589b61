/**
 * Imported first by index.ts, before firebase-functions' logger captures the console: stdout carries only the
 * command's answer (scripts parse `--json`), so the services' structured INFO lines go to stderr with --verbose and
 * nowhere otherwise; warnings and errors always reach stderr.
 */
import { format } from "node:util";

const toStderr = (...args: unknown[]): void => {
  process.stderr.write(`${format(...args)}\n`);
};
const verbose = process.argv.includes("--verbose");
console.info = verbose ? toStderr : () => undefined;
console.debug = verbose ? toStderr : () => undefined;
console.log = toStderr;
