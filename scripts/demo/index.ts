/**
 * `npm run demo`: the full story (full.ts) against the running stack (`npm start`).
 * `npm run demo -- --scenario <name>`: a drill that makes one failure happen through the stand-ins and signed
 * webhooks, then prints where the ops console shows it. One file per drill, named after it.
 */
import { authRevoked } from "./auth-revoked";
import { Drill, type Scenario } from "./drill";
import { runFullDemo } from "./full";
import { hubspotDown } from "./hubspot-down";
import { refundRequest } from "./refund-request";
import { connect, loadConfig, requireStack } from "./stack";
import { unmappedPayment } from "./unmapped-payment";

const SCENARIOS: readonly Scenario[] = [hubspotDown, authRevoked, unmappedPayment, refundRequest];

function usage(): string {
  return ["usage: npm run demo [-- --scenario <name>]", "scenarios:", ...SCENARIOS.map((s) => `  ${s.name.padEnd(18)} ${s.summary}`)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage());
    return 0;
  }
  const at = argv.indexOf("--scenario");
  const name = at >= 0 ? argv[at + 1] : undefined;
  const extra = argv.filter((a, i) => !(i === at || i === at + 1));
  if ((at >= 0 && !name) || extra.length) {
    console.error(usage());
    return 2;
  }
  const scenario = name ? SCENARIOS.find((s) => s.name === name) : undefined;
  if (name && !scenario) {
    console.error(`demo: no scenario "${name}"\n${usage()}`);
    return 2;
  }
  const cfg = loadConfig();
  await requireStack(cfg);
  if (!scenario) return runFullDemo(cfg);
  console.log(`opsync drill ${scenario.name}: ${scenario.summary}\n`);
  const conn = connect(cfg, `opsync-drill-${scenario.name}`);
  try {
    await scenario.run(new Drill(cfg, conn));
  } finally {
    await conn.close();
  }
  return 0;
}

main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
