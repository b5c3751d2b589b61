/**
 * The admin HTTP contract (`adminApi`), independent of the HTTP framework: `POST /v1/<operation>` with a JSON
 * body, authenticated by a Firebase ID token (`Authorization: Bearer`) or an API key (`X-Api-Key`), CORS only for
 * the configured origins. Answers `{status, headers, body}`; errors are `{error}` plus the field / roles / wait
 * that explain them. docs/admin-api.md is the reference.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Firestore } from "firebase-admin/firestore";
import { AdminError, type AdminErrorCode } from "../domain/adminOps.js";
import { apiKeyIdOf, authFailureBuckets, clientAddress } from "../domain/authFailures.js";
import { ValidationError } from "../domain/errors.js";
import { STAFF_ROLES, type StaffRole } from "../domain/roles.js";
import { log } from "../log.js";
import { COL } from "../store/paths.js";
import { runAdminOperation, type AdminDeps, type Caller } from "./admin.js";
import { sessionCaller } from "./adminSession.js";
import type { AuthFailureGuard } from "./adminAuthGuard.js";
import { createApiKeyDoc, readApiKey } from "../store/apiKeys.js";

/** HTTP status of each admin error code (the transport's concern; the callable uses the code as its `HttpsError` code). */
const ADMIN_HTTP_STATUS: Record<AdminErrorCode, number> = {
  unauthenticated: 401,
  "permission-denied": 403,
  "invalid-argument": 400,
  "not-found": 404,
  "resource-exhausted": 429,
  "failed-precondition": 409,
  unavailable: 503,
};

export interface AdminHttpRequest {
  method: string;
  /** The path below the function's URL, e.g. `/v1/customerSummary`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer | undefined;
  /** The client's address as the framework reports it (express `req.ip`); X-Forwarded-For's first hop wins. */
  remoteAddress?: string | null;
}

export interface AdminHttpResponse {
  status: number;
  headers: Record<string, string>;
  /** null for a body-less answer (CORS preflight). */
  body: Record<string, unknown> | null;
}

export interface VerifiedIdToken {
  uid: string;
  /** Every claim of the decoded token, including `iat` and `auth_time` (seconds). */
  claims: Record<string, unknown>;
}

export interface AdminHttpDeps extends AdminDeps {
  /**
   * Verifies a Firebase ID token's signature, audience and expiry; rejects when it is not valid. Revocation is not
   * its job: the service checks it against the user's tokensValidAfterTime (strictly, see domain/sessions.ts), so
   * the verifier must not do its own Auth lookup (no `checkRevoked`) and a request costs one lookup.
   */
  verifyIdToken: (token: string) => Promise<VerifiedIdToken>;
  /** ADMIN_CORS_ORIGINS: exact origins a browser may call from. */
  corsOrigins: readonly string[];
  maxBodyBytes?: number;
  /** Failed-authentication limit (one per function instance in production: instanceAuthFailureGuard). */
  authFailures: AuthFailureGuard;
}

export const ADMIN_MAX_BODY_BYTES = 65_536;
const ALLOWED_HEADERS = "Authorization, Content-Type, X-Api-Key";

function header(headers: AdminHttpRequest["headers"], name: string): string | undefined {
  const value = headers[name.toLowerCase()] ?? headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export async function handleAdminRequest(req: AdminHttpRequest, deps: AdminHttpDeps): Promise<AdminHttpResponse> {
  const headers: Record<string, string> = { Vary: "Origin", "Cache-Control": "no-store" };
  const answer = (status: number, body: Record<string, unknown> | null, extra: Record<string, string> = {}): AdminHttpResponse => ({
    status,
    headers: { ...headers, ...extra },
    body,
  });
  const fail = (status: number, error: string, extra: Record<string, string> = {}) => answer(status, { error }, extra);

  // CORS: reflect only an exactly configured origin; never `*`. A browser call from any other origin is refused.
  const origin = header(req.headers, "origin");
  if (origin !== undefined) {
    if (!deps.corsOrigins.includes(origin)) return fail(403, `origin ${origin} is not allowed to call the admin API (ADMIN_CORS_ORIGINS)`);
    headers["Access-Control-Allow-Origin"] = origin;
  }
  if (req.method === "OPTIONS") {
    return answer(204, null, {
      "Access-Control-Allow-Methods": "POST, OPTIONS",
      "Access-Control-Allow-Headers": ALLOWED_HEADERS,
      "Access-Control-Max-Age": "3600",
    });
  }
  if (req.method !== "POST") return fail(405, `method ${req.method} not allowed; use POST /v1/<operation>`, { Allow: "POST, OPTIONS" });

  // Failed authentication is limited per client address and per API key id, checked before any key read or
  // token verification, so guessing costs opsync nothing once a bucket is blocked.
  const nowMs = (deps.now?.() ?? new Date()).getTime();
  const address = clientAddress(header(req.headers, "x-forwarded-for"), req.remoteAddress);
  const buckets = authFailureBuckets({
    addressHash: address ? createHash("sha256").update(address, "utf8").digest("hex").slice(0, 32) : null,
    apiKeyId: apiKeyIdOf(header(req.headers, "x-api-key")),
  });
  const tooMany = (retryAfterSeconds: number) => {
    log.adminAuthLimited({ buckets, retryAfterSeconds });
    return answer(
      429,
      { error: `too many failed authentication attempts; retry in ${retryAfterSeconds} s`, retryAfterSeconds },
      { "Retry-After": String(retryAfterSeconds) },
    );
  };
  const blockedFor = deps.authFailures.retryAfter(buckets, nowMs);
  if (blockedFor !== null) return tooMany(blockedFor);

  let caller: Caller;
  try {
    caller = await authenticate(req, deps);
  } catch (error) {
    if (error instanceof AdminError) {
      let over: number | null = null;
      try {
        over = await deps.authFailures.recordFailure(deps.db, buckets, nowMs);
      } catch (countError) {
        // Counting is protection, not the answer: the caller still learns their credentials failed.
        log.adminFailed("countAuthFailure", countError);
      }
      return over !== null ? tooMany(over) : fail(ADMIN_HTTP_STATUS[error.code], error.message);
    }
    log.adminFailed("authenticate", error);
    return fail(500, "could not verify the credentials; retry");
  }

  // `/v1/<operation>` at the end of the path, so a Firebase Hosting rewrite (e.g. /api/admin/v1/...) works too.
  const route = /(?:^|\/)v1\/([A-Za-z0-9_-]+)\/?$/.exec(req.path);
  if (!route?.[1]) return fail(404, `no route ${req.path}; send POST /v1/<operation>`);
  const operation = route[1];

  const maxBytes = deps.maxBodyBytes ?? ADMIN_MAX_BODY_BYTES;
  const raw = req.rawBody ?? Buffer.alloc(0);
  if (raw.length > maxBytes) return fail(413, `body larger than ${maxBytes} bytes`);
  let input: unknown = {};
  if (raw.length > 0) {
    try {
      input = JSON.parse(raw.toString("utf8"));
    } catch {
      return fail(400, "body is not valid JSON");
    }
  }

  try {
    const result = await runAdminOperation(deps, caller, operation, input);
    return answer(200, result);
  } catch (error) {
    if (error instanceof AdminError) {
      const body: Record<string, unknown> = { error: error.message };
      if (error.detail.field !== undefined) body.field = error.detail.field;
      if (error.detail.allowedRoles) body.allowedRoles = [...error.detail.allowedRoles];
      const extra: Record<string, string> = {};
      if (error.detail.retryAfterSeconds !== undefined) {
        body.retryAfterSeconds = error.detail.retryAfterSeconds;
        extra["Retry-After"] = String(error.detail.retryAfterSeconds);
      }
      return answer(ADMIN_HTTP_STATUS[error.code], body, extra);
    }
    // Logged by runAdminOperation; no detail leaves the server.
    return fail(500, `${operation} failed; see the function logs`);
  }
}

// ---- Authentication ----------------------------------------------------------------------------------------

const unauthenticated = (message: string) => new AdminError("unauthenticated", message);

async function authenticate(req: AdminHttpRequest, deps: AdminHttpDeps): Promise<Caller> {
  const authorization = header(req.headers, "authorization");
  const apiKey = header(req.headers, "x-api-key");
  if (authorization !== undefined && apiKey !== undefined) {
    throw unauthenticated("send either Authorization: Bearer <ID token> or X-Api-Key, not both");
  }
  if (apiKey !== undefined) return apiKeyCaller(deps.db, apiKey);
  if (authorization === undefined) {
    throw unauthenticated("missing credentials: send Authorization: Bearer <Firebase ID token> or X-Api-Key: opk_...");
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!bearer?.[1]) throw unauthenticated("Authorization must be: Bearer <Firebase ID token>");
  let verified: VerifiedIdToken;
  try {
    verified = await deps.verifyIdToken(bearer[1]);
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : "";
    // Auth's own errors (auth/id-token-expired, auth/id-token-revoked, auth/argument-error...) mean a bad token;
    // anything else (e.g. the key fetch failing) is ours, and a 500 lets the client retry.
    if (code === "" || code.startsWith("auth/")) throw unauthenticated("invalid, expired or revoked ID token");
    throw error;
  }
  return sessionCaller(deps.auth, verified.uid, verified.claims, "idToken");
}

// ---- API keys ----------------------------------------------------------------------------------------------

/** `opk_<keyId>_<secret>`: keyId 16 hex characters, secret 43 base64url characters (256 bits). */
const API_KEY_PATTERN = /^opk_([0-9a-f]{16})_([A-Za-z0-9_-]{32,128})$/;

function hashSecret(salt: string, secret: string): string {
  return createHash("sha256").update(`${salt}:${secret}`, "utf8").digest("hex");
}

async function apiKeyCaller(db: Firestore, presented: string): Promise<Caller> {
  const match = API_KEY_PATTERN.exec(presented.trim());
  if (!match?.[1] || !match[2]) throw unauthenticated("malformed API key (expected opk_<keyId>_<secret>)");
  const [, keyId, secret] = match;
  const key = await readApiKey(db, keyId);
  if (!key) throw unauthenticated("invalid API key");
  const stored = Buffer.from(String(key.hash ?? ""), "hex");
  const computed = Buffer.from(hashSecret(String(key.salt ?? ""), secret), "hex");
  if (stored.length !== computed.length || !timingSafeEqual(stored, computed)) throw unauthenticated("invalid API key");
  // Said only to a holder of the secret, so revocation status does not leak.
  if (key.revoked === true) throw unauthenticated("API key revoked");
  const role = STAFF_ROLES.find((r) => r === key.role);
  if (!role) throw unauthenticated("API key has no valid role");
  return { uid: `apiKey:${keyId}`, roles: [role], via: "apiKey", keyId };
}

export interface CreatedApiKey {
  keyId: string;
  /** The plaintext key. Shown once: only its salted hash is stored. */
  apiKey: string;
}

/** Creates an API key for one staff role. Stores `apiKeys/{keyId}` with the salted hash, and an audit entry. */
export async function createApiKey(
  db: Firestore,
  spec: { role: StaffRole; label: string; createdBy: string; actorType?: "user" | "cli" },
  now: Date = new Date(),
): Promise<CreatedApiKey> {
  if (!STAFF_ROLES.includes(spec.role)) throw new ValidationError(`role must be one of ${STAFF_ROLES.join(", ")}`, "role");
  const label = spec.label.trim();
  if (!label || label.length > 100) throw new ValidationError("label must be 1 to 100 characters", "label");
  if (!spec.createdBy.trim()) throw new ValidationError("createdBy must name who created the key", "createdBy");
  const keyId = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  const salt = randomBytes(16).toString("hex");
  await createApiKeyDoc(
    db,
    keyId,
    {
    keyId,
    hash: hashSecret(salt, secret),
    salt,
    role: spec.role,
    label,
    createdBy: spec.createdBy,
    createdAt: now,
    revoked: false,
    },
    {
      actor: { type: spec.actorType ?? "user", id: spec.createdBy },
      action: "apiKey.create",
      target: `${COL.apiKeys}/${keyId}`,
      before: null,
      after: { role: spec.role, label },
      cause: { type: "manual" },
      at: now,
    },
  );
  return { keyId, apiKey: `opk_${keyId}_${secret}` };
}
