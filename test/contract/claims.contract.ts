/** One contract for every ClaimsPort: the Firebase Auth adapter (Auth emulator) and the in-memory fake. */
import { describe, expect, it } from "vitest";
import { PermanentError } from "../../functions/src/domain/errors";
import type { ClaimsPort } from "../../functions/src/sinks/ports";

export interface ClaimsSubject {
  claims: ClaimsPort;
  addUser(uid: string, claims?: Record<string, unknown>): Promise<void>;
  claimsOf(uid: string): Promise<Record<string, unknown> | null>;
}

export function claimsContract(name: string, make: () => Promise<ClaimsSubject>): void {
  const uid = () => `claims_${Math.random().toString(36).slice(2, 12)}`;
  describe(`ClaimsPort contract: ${name}`, () => {
    it("sets the claims opsync owns", async () => {
      const s = await make();
      const u = uid();
      await s.addUser(u);
      await s.claims.setClaims(u, { entitlements: ["export", "reports"], plan: "pro", supportTier: "priority" });
      expect(await s.claimsOf(u)).toEqual({ entitlements: ["export", "reports"], plan: "pro", supportTier: "priority" });
    });
    it("keeps every claim opsync does not own (several claims, not one)", async () => {
      const s = await make();
      const u = uid();
      await s.addUser(u, { admin: true, support: true, tenant: "acme" });
      await s.claims.setClaims(u, { entitlements: ["a"], plan: "starter", supportTier: "standard" });
      await s.claims.setClaims(u, { entitlements: [], plan: null, supportTier: "free" });
      expect(await s.claimsOf(u)).toEqual({ admin: true, support: true, tenant: "acme", entitlements: [], plan: null, supportTier: "free" });
    });
    it("is idempotent", async () => {
      const s = await make();
      const u = uid();
      await s.addUser(u);
      const owned = { entitlements: ["a"], plan: "pro", supportTier: "standard" };
      await s.claims.setClaims(u, owned);
      await s.claims.setClaims(u, owned);
      expect(await s.claimsOf(u)).toEqual(owned);
    });
    it("refuses an unknown user permanently (a retry cannot help)", async () => {
      const s = await make();
      await expect(s.claims.setClaims(uid(), { entitlements: [], plan: null, supportTier: "free" })).rejects.toBeInstanceOf(PermanentError);
    });
  });
}
