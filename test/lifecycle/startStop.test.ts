/**
 * `npm start` as a newcomer runs it: "opsync ready" comes after the emulators are ready and names the console;
 * `npm test` beside it stops at once with one sentence; Ctrl-C (SIGINT to the terminal's process group) stops
 * every process the stack started, so all its ports are free again (no Firestore emulator left on 8080).
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { localPorts, takenPorts } from "../../scripts/lib/ports";

const ROOT = resolve(__dirname, "../..");
const TSX = resolve(ROOT, "node_modules/.bin/tsx");

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

describe("npm start, npm test beside it, Ctrl-C", () => {
  it("is ready after the emulators, refuses a second stack with one sentence, and stops everything on Ctrl-C", async () => {
    expect(existsSync(resolve(ROOT, "functions/lib/index.js")), "run `npm run build` first").toBe(true);
    expect(await takenPorts(), "the fixed ports must be free before the test").toEqual([]);

    // Its own process group, like a terminal's foreground job: Ctrl-C signals the whole group.
    const stack = spawn(TSX, ["scripts/start.ts"], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    stack.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    stack.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
    let exited = false;
    const exit = new Promise<void>((done) => stack.on("exit", () => ((exited = true), done())));
    try {
      await until('"opsync ready"', () => out.includes("opsync ready") || exited, 240_000);
      expect(exited, out.slice(-2000)).toBe(false);
      expect(out.indexOf("opsync ready")).toBeGreaterThan(out.indexOf("All emulators ready"));
      expect(out.slice(out.indexOf("opsync ready"))).toContain("ops console: http://127.0.0.1:5002");

      const check = await new Promise<{ code: number; stderr: string }>((done) =>
        execFile(TSX, ["scripts/checkPorts.ts"], { cwd: ROOT, timeout: 60_000 }, (error, _stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stderr })),
      );
      expect(check.code).toBe(1);
      const lines = check.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^npm test cannot run now: ports .*8080 \(firestore\).* in use, most likely by a running `npm start` .*stop it with Ctrl-C and try again\.$/);
    } finally {
      if (stack.pid !== undefined && !exited) process.kill(-stack.pid, "SIGINT");
    }
    await Promise.race([exit, sleep(120_000)]);
    expect(exited, "npm start did not exit within 120 s of Ctrl-C").toBe(true);
    const ports = localPorts();
    await until("every port of the stack to be free", async () => (await takenPorts(ports)).length === 0, 30_000);
  });
});
