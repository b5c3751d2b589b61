/** The admin HTTP API on the Functions emulator, with real ID tokens issued by the Auth emulator. */
import { getAuth } from "firebase-admin/auth";
import { describe, expect, it } from "vitest";
import { testDb } from "../support/firestore";
import { uniq } from "../support/stripeFixtures";
import { until } from "../support/wait";

const API = "http://127.0.0.1:5001/demo-opsync/us-central1/adminApi";
const AUTH = "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key";

async function idTokenFor(claims: Record<string, unknown>): Promise<{ uid: string; token: string }> {
  const uid = uniq("staff");
  await getAuth().createUser({ uid, email: `${uid}@example.com`, password: "correct-horse-battery" });
  await getAuth().setCustomUserClaims(uid, claims);
  return { uid, token: await signIn(uid) };
}

async function signIn(uid: string): Promise<string> {
  const email = `${uid}@example.com`;
  const res = await fetch(AUTH, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct-horse-battery", returnSecureToken: true }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { idToken?: string };
  if (!body.idToken) throw new Error(`Auth emulator sign-in failed: ${res.status}`);
  return body.idToken;
}

/** The `iat` of an ID token (seconds), read without verifying: the function under test verifies it. */
function issuedAt(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { iat?: number };
  return Number(payload.iat);
}

async function revokedSecond(uid: string): Promise<number> {
  const user = await getAuth().getUser(uid);
  return Math.floor(Date.parse(user.tokensValidAfterTime ?? "") / 1000);
}

async function call(operation: string, body: unknown, token?: string) {
  const res = await fetch(`${API}/v1/${operation}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("adminApi on the emulators", () => {
  const db = testDb();

  it("verifies real ID tokens: 401 without, 403 for a customer, 200 for support, 400 naming an unknown field", async () => {
    const customer = await idTokenFor({});
    const support = await idTokenFor({ support: true });
    // onUserCreated gives the new user a canonical record; the summary reads it.
    await until(async () => (await db.doc(`customers/${customer.uid}`).get()).exists, (exists) => exists);
    expect((await call("customerSummary", { uid: customer.uid })).status).toBe(401);
    expect((await call("customerSummary", { uid: customer.uid }, "not-a-token")).status).toBe(401);
    expect((await call("customerSummary", { uid: customer.uid }, customer.token)).status).toBe(403);
    const ok = await call("customerSummary", { uid: customer.uid }, support.token);
    expect(ok.status).toBe(200);
    const unknown = await call("customerSummary", { uid: customer.uid, extra: 1 }, support.token);
    expect(unknown.status).toBe(400);
    expect(String(unknown.body.error)).toContain("extra");
    const audit = await db.collection("auditLog").where("actor.id", "==", customer.uid).get();
    expect(audit.docs.some((d) => d.get("outcome") === "denied")).toBe(true);
  });

  it("refuses a token minted in the same second as the revocation of its sessions (401); a later sign-in works", async () => {
    const staff = await idTokenFor({ support: true });
    await until(async () => (await db.doc(`customers/${staff.uid}`).get()).exists, (exists) => exists);
    // Sign in, then revoke at once: usually the same second; try again on the rare second boundary. A
    // revocation in the account's creation second cannot be told from the creation itself (docs/security.md),
    // so the attempt must fall in a later second.
    const createdSecond = Math.floor(new Date((await getAuth().getUser(staff.uid)).metadata.creationTime).getTime() / 1000);
    let sameSecond: { token: string; second: number } | null = null;
    for (let attempt = 0; attempt < 10 && !sameSecond; attempt++) {
      if (Math.floor(Date.now() / 1000) <= createdSecond) await new Promise((r) => setTimeout(r, 400));
      const token = await signIn(staff.uid);
      await getAuth().revokeRefreshTokens(staff.uid);
      const second = await revokedSecond(staff.uid);
      if (issuedAt(token) === second && second > createdSecond) sameSecond = { token, second };
    }
    expect(sameSecond, "no sign-in fell in the same second as its revocation in 10 tries").not.toBeNull();
    const refused = await call("customerSummary", { uid: staff.uid }, sameSecond?.token);
    expect(refused).toMatchObject({ status: 401, body: { error: "this session was revoked; sign in again" } });

    // A session begun after the revocation second is valid again.
    const fresh = await until(
      () => signIn(staff.uid),
      (token) => issuedAt(token) > (sameSecond?.second ?? 0),
      10_000,
      200,
    );
    expect((await call("customerSummary", { uid: staff.uid }, fresh)).status).toBe(200);
  });
});
