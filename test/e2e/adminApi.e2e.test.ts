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
  const email = `${uid}@example.com`;
  await getAuth().createUser({ uid, email, password: "correct-horse-battery" });
  await getAuth().setCustomUserClaims(uid, claims);
  const res = await fetch(AUTH, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct-horse-battery", returnSecureToken: true }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { idToken?: string };
  if (!body.idToken) throw new Error(`Auth emulator sign-in failed: ${res.status}`);
  return { uid, token: body.idToken };
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
});
