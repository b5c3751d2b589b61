/**
 * Calling the admin API in-process against the Firestore emulator: staff tokens per role (a fake Auth), the HTTP
 * handler with its real dependencies, and readers for the dry-run (nothing changed) and audit assertions.
 */
import type { Firestore } from "firebase-admin/firestore";
import type { AdminAuthPort, AdminUser } from "../../functions/src/services/admin";
import { handleAdminRequest, type AdminHttpDeps, type AdminHttpResponse } from "../../functions/src/services/adminHttp";
import { AuthFailureGuard } from "../../functions/src/services/adminAuthGuard";
import type { StripeReadPort } from "../../functions/src/sinks/stripeApi";
import { dumpAll } from "./firestore";

export type Role = "admin" | "support" | "finance" | "customer";
export const TOKENS: Record<Role, { token: string; uid: string; claims: Record<string, unknown> }> = {
  admin: { token: "tok-admin", uid: "u-admin", claims: { admin: true } },
  support: { token: "tok-support", uid: "u-support", claims: { support: true } },
  finance: { token: "tok-finance", uid: "u-finance", claims: { finance: true } },
  customer: { token: "tok-customer", uid: "u-customer", claims: { plan: "pro" } },
};

export class FakeAuth implements AdminAuthPort {
  users = new Map<string, AdminUser>(Object.values(TOKENS).map((t) => [t.uid, { claims: { ...t.claims }, tokensValidAfterMs: null }]));
  async getUser(uid: string) {
    return this.users.get(uid) ?? null;
  }
  async setClaims() {}
  async revokeSessions() {}
}

export function adminDeps(db: Firestore, stripe: StripeReadPort, over: Partial<AdminHttpDeps> = {}): AdminHttpDeps {
  return {
    db,
    auth: new FakeAuth(),
    rateLimitPerMinute: 1000,
    graceDays: 3,
    acceptLivemode: false,
    stripe,
    authFailures: new AuthFailureGuard({ maxFailures: 20, windowMs: 300_000 }),
    corsOrigins: [],
    verifyIdToken: async (token) => {
      const entry = Object.values(TOKENS).find((t) => t.token === token);
      if (!entry) throw Object.assign(new Error("bad token"), { code: "auth/argument-error" });
      return { uid: entry.uid, claims: { ...entry.claims } };
    },
    ...over,
  };
}

export async function callAdmin(deps: AdminHttpDeps, operation: string, body: unknown, role: Role): Promise<AdminHttpResponse> {
  return handleAdminRequest(
    {
      method: "POST",
      path: `/v1/${operation}`,
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKENS[role].token}` },
      rawBody: Buffer.from(JSON.stringify(body)),
    },
    deps,
  );
}

/** Every document except the rate-limit counters (which every call moves). */
export async function dumpExceptRateLimits(db: Firestore): Promise<Record<string, unknown>> {
  const all = await dumpAll(db);
  return Object.fromEntries(Object.entries(all).filter(([path]) => !path.startsWith("rateLimits/")));
}

export async function auditEntriesOf(db: Firestore, action: string) {
  return (await db.collection("auditLog").where("action", "==", action).get()).docs.map((d) => d.data());
}
