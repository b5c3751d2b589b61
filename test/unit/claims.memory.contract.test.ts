import { MemoryClaims } from "../fakes/memorySinks";
import { claimsContract } from "../contract/claims.contract";

claimsContract("in-memory fake", async () => {
  const claims = new MemoryClaims();
  return {
    claims,
    addUser: async (uid, initial) => claims.addUser(uid, initial),
    claimsOf: async (uid) => claims.claimsOf(uid),
  };
});
