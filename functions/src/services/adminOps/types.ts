/** The shapes every admin operation shares: its dependencies, the caller, and the handler signature. */
import type { Firestore } from "firebase-admin/firestore";
import type { AdminInput, AdminOperation } from "../../domain/adminOps.js";
import type { NoticeSettings } from "../../domain/notices.js";
import type { StaffRole } from "../../domain/roles.js";
import type { ClaimsReadPort, CrmReadPort } from "../../sinks/ports.js";
import type { StripeReadPort } from "../../sinks/stripeApi.js";

export interface AdminUser {
  claims: Record<string, unknown>;
  /** Sessions (ID tokens) issued at or before this second were revoked; null when never revoked. */
  tokensValidAfterMs: number | null;
  /** A disabled user's tokens are refused. */
  disabled?: boolean;
  /** When the account was created (Auth sets tokensValidAfterTime then too); null when unknown. */
  createdAtMs?: number | null;
}

/** The slice of Firebase Auth the admin operations use (a fake stands in for it in tests). */
export interface AdminAuthPort {
  /** null when there is no such user. */
  getUser(uid: string): Promise<AdminUser | null>;
  setClaims(uid: string, claims: Record<string, unknown>): Promise<void>;
  /** Invalidates the user's refresh tokens: they sign in again and get a token with their current claims. */
  revokeSessions(uid: string): Promise<void>;
}

export interface AdminDeps {
  db: Firestore;
  auth: AdminAuthPort;
  rateLimitPerMinute: number;
  /** ENTITLEMENT_GRACE_DAYS, for events applied by resolveReview and replayEvent. */
  graceDays: number;
  /** The Stripe API (replayEvent fetches the event from it; backfill, sweepEvents and reconcile list from it). */
  stripe: StripeReadPort;
  /** reconcile: the CRM and Auth claims read sides (the operation answers 409 failed-precondition without them). */
  crm?: CrmReadPort;
  claims?: ClaimsReadPort;
  /** The value of `event.livemode` this project accepts (STRIPE_MODE), checked on a replay as on a delivery. */
  acceptLivemode: boolean;
  /** NOTICE_PERSONAL_DATA for the Slack notices admin operations plan (incident resolved, automation switched). */
  notices?: NoticeSettings;
  now?: () => Date;
}

/** `cli`: `npm run opsync` with the project's own credentials (no token; the operator holds the project). */
export type CallerVia = "idToken" | "apiKey" | "callable" | "cli";

export interface Caller {
  /** Firebase uid, or `apiKey:<keyId>` for an API key. */
  uid: string;
  roles: StaffRole[];
  via: CallerVia;
  keyId?: string;
}

export type AdminResult = Record<string, unknown>;

export type Outcome = "applied" | "dry_run" | "read" | "unchanged";
export interface Ctx {
  deps: AdminDeps;
  caller: Caller;
  now: Date;
}
export type Handler<O extends AdminOperation> = (ctx: Ctx, input: AdminInput<O>) => Promise<{ outcome: Outcome; result: AdminResult }>;
