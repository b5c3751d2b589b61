/**
 * An ID token for an Auth emulator user, without their password: the Admin SDK's custom token (unsigned on the
 * emulator) exchanged at the emulator's signInWithCustomToken. The token carries the user's custom claims. Local only.
 */
import type { Auth } from "firebase-admin/auth";
import { z } from "zod";

const exchangeAnswer = z.object({ idToken: z.string().min(1), expiresIn: z.string().optional() });

export class LocalTokenError extends Error {}

export async function localIdToken(auth: Auth, uid: string, authHost: string): Promise<{ idToken: string; expiresInSeconds: number }> {
  const customToken = await auth.createCustomToken(uid);
  let res: Response;
  try {
    res = await fetch(`http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=local`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: customToken, returnSecureToken: true }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    throw new LocalTokenError(`the Auth emulator does not answer at ${authHost}: run \`npm start\` first`);
  }
  const body = exchangeAnswer.safeParse(await res.json().catch(() => null));
  if (!res.ok || !body.success) throw new LocalTokenError(`the Auth emulator refused the sign-in (HTTP ${res.status})`);
  return { idToken: body.data.idToken, expiresInSeconds: Number(body.data.expiresIn ?? 3600) };
}
