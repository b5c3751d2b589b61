/** The ClaimsPort contract against the real adapter and the Firebase Auth emulator. */
import { getAuth } from "firebase-admin/auth";
import { FirebaseAuthClaims } from "../../functions/src/sinks/firebaseClaims";
import { ensureDefaultApp } from "../../functions/src/services/runtime";
import { claimsContract } from "../contract/claims.contract";

claimsContract("Firebase Auth adapter → Auth emulator", async () => {
  ensureDefaultApp();
  return {
    claims: new FirebaseAuthClaims(() => getAuth()),
    addUser: async (uid, claims) => {
      await getAuth().createUser({ uid });
      if (claims) await getAuth().setCustomUserClaims(uid, claims);
    },
    claimsOf: async (uid) => (await getAuth().getUser(uid)).customClaims ?? null,
  };
});
