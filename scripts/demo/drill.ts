/**
 * What every drill (`npm run demo -- --scenario <name>`) uses: the running stack, local staff users per role with
 * their ID tokens, admin API calls, the vendor stand-ins' failure switches (`POST /__control`), signed deliveries,
 * and the closing "look here" list with console URLs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CONSOLE_URL, PROJECT_ID } from "../emulators";
import { localIdToken } from "../lib/localToken";
import { LOCAL_PORTS } from "../lib/localVendors";
import { checkoutSession, customer, price, stripeEvent, subscription, uniq } from "../../test/support/stripeFixtures";
import { post, type Connection, type DemoConfig, type SentEvent } from "./stack";

export { CONSOLE_URL };
export const ADMIN_API_URL = `http://127.0.0.1:5001/${PROJECT_ID}/us-central1/adminApi`;
type Role = "admin" | "support" | "finance";
type Vendor = keyof typeof LOCAL_PORTS;
type Json = Record<string, unknown>;

export interface Subscriber {
  uid: string;
  email: string;
  cus: string;
  sub: string;
}

export class Drill {
  private readonly tokens = new Map<Role, string>();

  constructor(
    readonly cfg: DemoConfig,
    readonly conn: Connection,
  ) {}

  /** The local sign-in of the drill's staff user for a role (created on first use). */
  static staffLogin(role: Role): { email: string; password: string } {
    return { email: `drill-${role}@opsync.local`, password: `drill-${role}-password` };
  }

  /** Drills break the local stand-ins; against real vendors they would break nothing (or something real). */
  requireStandIns(): void {
    if (!this.cfg.hubspot) throw new Error("drills need the local vendor stand-ins (functions/.env.local points at real vendors)");
  }

  private async token(role: Role): Promise<string> {
    const cached = this.tokens.get(role);
    if (cached) return cached;
    const { email, password } = Drill.staffLogin(role);
    const auth = this.conn.auth;
    const existing = await auth.getUserByEmail(email).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === "auth/user-not-found") return null;
      throw error;
    });
    const user = existing ?? (await auth.createUser({ email, password, displayName: `Drill ${role}` }));
    if (user.customClaims?.[role] !== true) await auth.setCustomUserClaims(user.uid, { ...(user.customClaims ?? {}), [role]: true });
    const { idToken } = await localIdToken(auth, user.uid, this.cfg.authHost);
    this.tokens.set(role, idToken);
    return idToken;
  }

  /** One admin API operation as the drill's user of that role; a non-200 answer ends the drill with its error. */
  async call(role: Role, operation: string, input: Json): Promise<Json> {
    const res = await fetch(`${ADMIN_API_URL}/v1/${operation}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await this.token(role)}` },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await res.json().catch(() => ({}))) as Json;
    if (res.status !== 200) throw new Error(`${operation} as ${role} answered ${res.status}: ${String(body.error ?? "")}`);
    return body;
  }

  async control(vendor: Vendor, body: Json): Promise<void> {
    const url = `http://127.0.0.1:${LOCAL_PORTS[vendor]}/__control`;
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
    console.log(`  ${vendor} stand-in: POST ${url} ${JSON.stringify(body)}`);
  }

  async deliver(event: SentEvent): Promise<void> {
    const d = await post(this.cfg, event);
    if (d.http !== 200) throw new Error(`delivering ${event.type} ${event.id} answered ${d.http}: ${d.error ?? ""}`);
    console.log(`  delivered ${event.type.padEnd(34)} ${event.id} → ${d.ledger}`);
  }

  /** A new paying subscriber through signed webhooks, signed up in Auth first (as an app would). */
  async subscriber(): Promise<Subscriber> {
    const uid = uniq("drill_user");
    const s: Subscriber = { uid, email: `drill.${uid.slice(-8)}@example.com`, cus: uniq("cus"), sub: uniq("sub") };
    await this.conn.auth.createUser({ uid, email: s.email, displayName: "Drill Customer" });
    const starter = price({ id: uniq("price"), lookupKey: "starter", entitlements: "projects,reports", amount: 2900 });
    await this.deliver(stripeEvent("checkout.session.completed", checkoutSession({ id: uniq("cs"), mode: "subscription", customer: s.cus, clientReferenceId: uid, subscription: s.sub, email: s.email })));
    await this.deliver(stripeEvent("customer.created", customer({ id: s.cus, email: s.email })));
    await this.deliver(stripeEvent("customer.subscription.created", subscription({ id: s.sub, customer: s.cus, status: "active", price: starter })));
    return s;
  }

  /** Polls `probe` until it answers non-null; generous deadline, the local stack shares a small machine. */
  async waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 90_000): Promise<T> {
    const started = Date.now();
    console.log(`  waiting for ${what} (up to ${timeoutMs / 1000} s)…`);
    for (;;) {
      const value = await probe();
      if (value !== null) {
        console.log(`  … after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return value;
      }
      if (Date.now() - started > timeoutMs) throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s`);
      await sleep(1_000);
    }
  }

  /** The closing list: where the console shows it, as whom to sign in, and how to undo the failure. */
  look(signInAs: Role, places: Array<[string, string]>, undo: string[]): void {
    const { email, password } = Drill.staffLogin(signInAs);
    console.log(`\nLook at it in the ops console (sign in as ${email} / ${password}):`);
    for (const [url, what] of places) console.log(`  ${url}\n      ${what}`);
    console.log("\nTo undo:");
    for (const line of undo) console.log(`  ${line}`);
  }
}

export interface Scenario {
  name: string;
  summary: string;
  run(drill: Drill): Promise<void>;
}

/** The sink row of an opsStatus answer. */
export function sinkRow(status: Json, sink: string): Json {
  const rows = Array.isArray(status.sinks) ? (status.sinks as Json[]) : [];
  return rows.find((r) => r.sink === sink) ?? {};
}
