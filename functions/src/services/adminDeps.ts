/** What the deployed admin API runs with: Firebase Auth as the admin auth port, Firestore, the read ports, config. */
import { getAuth } from "firebase-admin/auth";
import { adminConfig } from "../config/admin.js";
import { noticeSettings } from "../config/alerts.js";
import { stripeApiConfig } from "../config/stripeApi.js";
import type { ClaimsReadPort, CrmReadPort } from "../sinks/ports.js";
import { lazyStripeEvents, type StripeReadPort } from "../sinks/stripeApi.js";
import { instanceAuthFailureGuard, type AuthFailureGuard } from "./adminAuthGuard.js";
import type { AdminAuthPort, AdminDeps } from "./adminOps/types.js";
import { deployedReadPorts } from "./maintenanceDeps.js";
import { ensureDefaultApp, getDb } from "./runtime.js";


/** Firebase Auth behind AdminAuthPort. */
export function firebaseAdminAuth(): AdminAuthPort {
  ensureDefaultApp();
  const auth = getAuth();
  return {
    async getUser(uid) {
      try {
        const user = await auth.getUser(uid);
        const validAfter = user.tokensValidAfterTime ? Date.parse(user.tokensValidAfterTime) : NaN;
        const created = Date.parse(user.metadata.creationTime);
        return {
          claims: { ...(user.customClaims ?? {}) },
          tokensValidAfterMs: Number.isFinite(validAfter) ? validAfter : null,
          disabled: user.disabled,
          createdAtMs: Number.isFinite(created) ? created : null,
        };
      } catch (error) {
        const code = typeof error === "object" && error !== null && "code" in error ? (error as { code: unknown }).code : null;
        if (code === "auth/user-not-found") return null;
        throw error;
      }
    },
    setClaims: (uid, claims) => auth.setCustomUserClaims(uid, claims),
    revokeSessions: (uid) => auth.revokeRefreshTokens(uid),
  };
}

const deployedStripe: StripeReadPort = lazyStripeEvents(stripeApiConfig);

function readPorts(): { crm: CrmReadPort; claims: ClaimsReadPort } {
  const { crm, claims } = deployedReadPorts();
  return { crm, claims };
}

export function deployedAdminDeps(): AdminDeps & { corsOrigins: string[]; authFailures: AuthFailureGuard } {
  const cfg = adminConfig();
  return {
    authFailures: instanceAuthFailureGuard(cfg.authFailures),
    db: getDb(),
    auth: firebaseAdminAuth(),
    rateLimitPerMinute: cfg.rateLimitPerMinute,
    graceDays: cfg.graceDays,
    acceptLivemode: cfg.acceptLivemode,
    notices: noticeSettings(),
    // Built (and STRIPE_SECRET_KEY read) only when an operation calls Stripe.
    stripe: deployedStripe,
    // reconcile: HubSpot and Auth claims read sides, built on first use (HUBSPOT_TOKEN is bound to adminApi).
    ...readPorts(),
    corsOrigins: cfg.corsOrigins,
  };
}
