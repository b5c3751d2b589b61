/** `npm test`'s first step (pretest): stop at once, with one sentence, when a running stack holds the fixed ports. */
import { portsInUseMessage, takenPorts } from "./lib/ports";

void takenPorts().then((taken) => {
  if (taken.length) {
    console.error(portsInUseMessage(process.argv[2] ?? "npm test", taken));
    process.exitCode = 1;
  }
});
