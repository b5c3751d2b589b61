/**
 * Builds the ops console (console/src, plain TypeScript + DOM and the Firebase web SDK's app/auth) into
 * console/dist, which Firebase Hosting serves (firebase.json). One minified ES module, no source maps shipped.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { build } from "esbuild";
import { REPO_ROOT } from "./lib/localSecret";

const SRC = resolve(REPO_ROOT, "console");
const OUT = resolve(SRC, "dist");

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const result = await build({
    entryPoints: [resolve(SRC, "src", "main.ts")],
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    outfile: resolve(OUT, "app.js"),
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  for (const file of ["index.html", "style.css"]) copyFileSync(resolve(SRC, file), resolve(OUT, file));
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`console built: console/dist (app.js ${Math.round(bytes / 1024)} KiB)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
