/**
 * The admin API, same origin: Firebase Hosting rewrites /api/admin/** to the adminApi function (firebase.json).
 * Every call carries the signed-in staff member's ID token.
 */
export type Json = Record<string, unknown>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let tokenSource: (() => Promise<string>) | null = null;

export function useToken(source: () => Promise<string>): void {
  tokenSource = source;
}

export async function call(operation: string, input: Json = {}): Promise<Json> {
  if (!tokenSource) throw new ApiError(401, "sign in first");
  const res = await fetch(`/api/admin/v1/${operation}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await tokenSource()}` },
    body: JSON.stringify(input),
  });
  const body = (await res.json().catch(() => ({}))) as Json;
  if (!res.ok) throw new ApiError(res.status, typeof body.error === "string" ? body.error : `HTTP ${res.status}`);
  return body;
}
