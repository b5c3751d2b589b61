/**
 * The sync queue under vendor trouble on the emulators: HubSpot down during a burst of customers (nothing dead,
 * everything synced after recovery), and a revoked HubSpot token (one alert, the CRM sink paused, resumed through the
 * admin API's resumeSink once the token works again). Switches: the stand-in's POST /__control.
 */
import { getAuth } from "firebase-admin/auth";
import type { DocumentData } from "firebase-admin/firestore";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { readLocalWebhookSecret } from "../../scripts/lib/localSecret";
import { testDb } from "../support/firestore";
import { customer, signedDelivery, stripeEvent, uniq } from "../support/stripeFixtures";
import { until } from "../support/wait";

const WEBHOOK = "http://127.0.0.1:5001/demo-opsync/us-central1/stripeWebhook";
const ADMIN = "http://127.0.0.1:5001/demo-opsync/us-central1/adminApi";
const AUTH = "http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key";
const HUBSPOT_CONTROL = "http://127.0.0.1:4610/__control";
/** Customers in the outage burst: 100 took 53 s on this machine (Functions emulator, 6 dispatches/s), 200 about 2 min. */
const BURST = 200;

async function control(body: object): Promise<void> {
  const res = await fetch(HUBSPOT_CONTROL, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
}

async function adminToken(): Promise<string> {
  const uid = uniq("admin");
  await getAuth().createUser({ uid, email: `${uid}@example.com`, password: "correct-horse-battery" });
  await getAuth().setCustomUserClaims(uid, { admin: true });
  const res = await fetch(AUTH, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: `${uid}@example.com`, password: "correct-horse-battery", returnSecureToken: true }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { idToken?: string };
  if (!body.idToken) throw new Error(`sign-in failed: ${res.status}`);
  return body.idToken;
}

describe("sync queue under vendor trouble (emulators)", () => {
  const db = testDb();
  let secret = "";
  const send = async (event: object) => {
    const { body, signature } = signedDelivery(event, secret);
    const res = await fetch(WEBHOOK, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body, signal: AbortSignal.timeout(30_000) });
    expect(res.status).toBe(200);
  };
  const customers = async (uids: string[]): Promise<Array<DocumentData | undefined>> => {
    const snaps = await db.getAll(...uids.map((u) => db.doc(`customers/${u}`)));
    return snaps.map((s) => s.data());
  };
  const contactJobs = async (uids: string[]) => (await db.getAll(...uids.map((u) => db.doc(`syncJobs/live.crm.contact.upsert.${u}`)))).map((s) => s.data());

  beforeAll(() => {
    secret = readLocalWebhookSecret() ?? "";
    expect(secret).toBeTruthy();
  });
  afterEach(async () => {
    await control({ reset: true });
  });

  it(`HubSpot down during a burst of ${BURST} customers: nothing dead, everything synced after recovery`, { timeout: 420_000 }, async () => {
    await control({ mode: "down" });
    const uids = Array.from({ length: BURST }, () => uniq("burst"));
    // A few deliveries at a time: the Functions emulator starts a worker process per concurrent request.
    for (let i = 0; i < uids.length; i += 4) {
      await Promise.all(uids.slice(i, i + 4).map((uid) => send(stripeEvent("customer.created", customer({ id: uniq("cus"), uid })))));
    }
    // Some jobs meet the outage (they retry); then HubSpot comes back.
    const met503 = (jobs: Array<DocumentData | undefined>) => jobs.filter((j) => (j?.lastError as { httpStatus?: number } | null)?.httpStatus === 503).length;
    expect(met503(await until(() => contactJobs(uids), (jobs) => met503(jobs) >= 5, 120_000, 1_000))).toBeGreaterThanOrEqual(5);
    await control({ mode: "up" });
    const synced = await until(
      () => customers(uids),
      (docs) => docs.every((d) => d?.sync?.crm?.status === "synced"),
      200_000,
      2_000,
    );
    expect(synced.filter((d) => d?.sync?.crm?.status !== "synced")).toEqual([]);
    const jobs = await contactJobs(uids);
    expect(jobs.filter((j) => j?.status === "dead")).toEqual([]);
    expect(jobs.some((j) => (j?.lastError as { httpStatus?: number } | null)?.httpStatus === 503)).toBe(true);
  });

  it("a revoked HubSpot token: one alert, the CRM sink paused without spending attempts, resumed via resumeSink", { timeout: 180_000 }, async () => {
    await control({ auth: "revoked" });
    const uids = Array.from({ length: 5 }, () => uniq("revoked"));
    for (const uid of uids) await send(stripeEvent("customer.created", customer({ id: uniq("cus"), uid })));
    const paused = await until(() => contactJobs(uids), (jobs) => jobs.every((j) => j?.status === "paused"), 90_000);
    expect(paused.map((j) => [j?.status, j?.attempts])).toEqual(uids.map(() => ["paused", 0]));
    expect((await db.doc("sinkState/crm").get()).get("pausedForAuth")).toMatchObject({ httpStatus: 401 });
    const alerts = (await db.collection("alerts").where("sink", "==", "crm").where("status", "==", "open").get()).docs.map((d) => d.id);
    expect(alerts).toEqual(["auth_crm"]);

    await control({ auth: "ok" });
    const token = await adminToken();
    const res = await fetch(`${ADMIN}/v1/resumeSink`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ sink: "crm", confirm: true }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ operation: "resumeSink", wasPaused: true });
    // The five contacts, plus the admin user's own contact job when it was planned while the sink was paused.
    expect(Number(body.requeued)).toBeGreaterThanOrEqual(5);
    const synced = await until(() => customers(uids), (docs) => docs.every((d) => d?.sync?.crm?.status === "synced"), 90_000);
    expect(synced.every((d) => d?.sync?.crm?.status === "synced")).toBe(true);
    expect((await db.doc("alerts/auth_crm").get()).get("status")).toBe("resolved");
    expect((await db.doc("sinkState/crm").get()).get("pausedForAuth")).toBeNull();
  });
});
