/**
 * Staff onboarding as an operator runs it: `npm run opsync -- staff … | apikey … | token …` as a child process
 * against the emulators (Auth, Firestore, and the Functions emulator's adminApi), checked through the admin API.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { getAuth } from "firebase-admin/auth";
import { beforeAll, describe, expect, it } from "vitest";
import { testDb } from "../support/firestore";
import { uniq } from "../support/stripeFixtures";

const ROOT = resolve(__dirname, "../..");
const API = "http://127.0.0.1:5001/demo-opsync/us-central1/adminApi";

function opsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(resolve(ROOT, "node_modules/.bin/tsx"), ["scripts/cli/index.ts", "--project", "demo-opsync", ...args], { cwd: ROOT, env: process.env, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function call(operation: string, body: unknown, auth: Record<string, string>) {
  const res = await fetch(`${API}/v1/${operation}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const json = (out: { stdout: string }) => JSON.parse(out.stdout) as Record<string, unknown>;

// Each test spawns the CLI several times (a few seconds each on a loaded machine).
describe("opsync staff / apikey / token", { timeout: 300_000 }, () => {
  const db = testDb();

  // The first request loads adminApi's worker in the Functions emulator; keep that out of the timed calls.
  beforeAll(async () => {
    await call("opsStatus", {}, {});
  }, 120_000);

  it("the first admin in two commands: staff add creates the user and grants the role (audited as cli); token works with the admin API", async () => {
    const email = `${uniq("founder")}@example.com`;
    const added = await opsync(["--json", "staff", "add", "--email", email, "--role", "admin", "--password", "change-me-locally"]);
    expect(added.code, added.stderr).toBe(0);
    const a = json(added);
    expect(a).toMatchObject({ command: "staff add", email, created: true, role: "admin", changed: true, roles: ["admin"], password: "change-me-locally" });
    const uid = String(a.uid);
    expect((await getAuth().getUser(uid)).customClaims).toMatchObject({ admin: true });
    const audit = await db.collection("auditLog").where("target", "==", `users/${uid}`).get();
    expect(audit.docs.map((d) => [d.get("action"), d.get("actor.id"), d.get("actor.via"), d.get("outcome")])).toEqual([["admin.setRole", "cli", "cli", "applied"]]);

    const token = await opsync(["token", "--email", email]);
    expect(token.code, token.stderr).toBe(0);
    const idToken = token.stdout.trim();
    expect(idToken.split(".")).toHaveLength(3);
    const status = await call("opsStatus", {}, { authorization: `Bearer ${idToken}` });
    expect(status.status, JSON.stringify(status.body)).toBe(200);

    // Again: nothing changes, exit 0; a second role joins the first.
    const again = await opsync(["--json", "staff", "add", "--email", email, "--role", "admin"]);
    expect(json(again)).toMatchObject({ created: false, changed: false, roles: ["admin"] });
    const finance = await opsync(["staff", "add", "--email", email.toUpperCase(), "--role", "finance"]);
    expect(finance.code, finance.stderr).toBe(0);
    expect(finance.stdout).toContain("role finance granted (roles: admin, finance)");

    const list = await opsync(["--json", "staff", "list"]);
    expect(list.code, list.stderr).toBe(0);
    expect((json(list).staff as Array<Record<string, unknown>>).find((s) => s.uid === uid)).toMatchObject({ email, roles: ["admin", "finance"] });
  });

  it("staff remove takes the roles away and ends the sessions: the old token is refused", async () => {
    const email = `${uniq("agent")}@example.com`;
    expect((await opsync(["staff", "add", "--email", email, "--role", "support", "--password", "pw-support-1"])).code).toBe(0);
    const idToken = (await opsync(["token", "--email", email])).stdout.trim();
    expect((await call("opsStatus", {}, { authorization: `Bearer ${idToken}` })).status).toBe(200);
    // Revocation is by the second (docs/security.md): a token from an earlier second is the one that must stop working.
    await new Promise((r) => setTimeout(r, 1_100));
    const removed = await opsync(["--json", "staff", "remove", "--email", email]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(json(removed)).toMatchObject({ removed: ["support"], roles: [], sessionsRevoked: true });
    expect((await call("opsStatus", {}, { authorization: `Bearer ${idToken}` })).status).toBe(401);
    const list = await opsync(["--json", "staff", "list"]);
    expect((json(list).staff as Array<Record<string, unknown>>).some((s) => s.email === email)).toBe(false);
    const none = await opsync(["staff", "remove", "--email", email]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("nothing changed");
  });

  it("apikey create prints the key once; it works until apikey revoke", async () => {
    const created = await opsync(["--json", "apikey", "create", "--name", "helpdesk bot", "--role", "support"]);
    expect(created.code, created.stderr).toBe(0);
    const c = json(created);
    expect(c).toMatchObject({ command: "apikey create", role: "support", name: "helpdesk bot" });
    const apiKey = String(c.apiKey);
    expect(apiKey).toMatch(/^opk_[0-9a-f]{16}_/);
    expect((await call("opsStatus", {}, { "x-api-key": apiKey })).status).toBe(200);
    expect((await call("setRole", { uid: "x", role: "admin", enabled: true }, { "x-api-key": apiKey })).status).toBe(403);

    const list = await opsync(["apikey", "list"]);
    expect(list.stdout).toContain(`${String(c.keyId)}  support  active`);
    expect(list.stdout).not.toContain(apiKey.slice(22));

    const revoked = await opsync(["apikey", "revoke", String(c.keyId)]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await call("opsStatus", {}, { "x-api-key": apiKey })).status).toBe(401);
    const audit = await db.collection("auditLog").where("target", "==", `apiKeys/${String(c.keyId)}`).get();
    expect(audit.docs.map((d) => `${d.get("action")} by ${d.get("actor.type")}`).sort()).toEqual(["apiKey.create by cli", "apiKey.revoke by cli"]);
    const twice = await opsync(["apikey", "revoke", String(c.keyId)]);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain("already revoked");
  });

  it("refuses clearly: unknown users, bad roles, missing keys, token against a real project (exit 1, one line; usage exit 2)", async () => {
    const unknown = await opsync(["token", "--email", "nobody-here@example.com"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toMatch(/^opsync: no Firebase Auth user with email nobody-here@example\.com/);
    const badRole = await opsync(["staff", "add", "--email", "x@example.com", "--role", "owner"]);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr.trim()).toBe("opsync: --role must be one of admin, support, finance");
    const badEmail = await opsync(["staff", "add", "--email", "not-an-email", "--role", "support"]);
    expect(badEmail.code).toBe(1);
    expect(badEmail.stderr.trim()).toBe("opsync: --email must be an email address");
    const noKey = await opsync(["apikey", "revoke", "0123456789abcdef"]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr.trim()).toBe("opsync: no API key 0123456789abcdef (list them with: opsync apikey list)");
    const real = await opsync(["--project", "acme-prod", "token", "--email", "a@example.com"]);
    expect(real.code).toBe(1);
    expect(real.stderr.trim()).toMatch(/^opsync: token works on the local emulators only \(demo-\* projects\), not acme-prod/);
    const realPassword = await opsync(["--project", "acme-prod", "staff", "add", "--email", "a@example.com", "--role", "admin", "--password", "secret123"]);
    expect(realPassword.code).toBe(1);
    expect(realPassword.stderr).toContain("--password is for the local emulators only");
    const usage = await opsync(["staff", "add", "--email", "a@example.com"]);
    expect(usage.code).toBe(2);
  });
});
