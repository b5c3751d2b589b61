/** Firebase Auth as the staff commands use it: find people by email, create them, list the ones with a staff role. */
import { getAuth, type Auth, type UserRecord } from "firebase-admin/auth";
import { z } from "zod";
import { ensureDefaultApp } from "../../functions/src/services/runtime";
import { STAFF_ROLES, staffRolesFromClaims, type StaffRole } from "../../functions/src/domain/roles";
import { CliError } from "./context";

export const emailOption = z
  .email({ error: "--email must be an email address" })
  .max(254, "--email must be at most 254 characters")
  .transform((e) => e.trim().toLowerCase());
export const roleOption = z.enum(STAFF_ROLES, { error: `--role must be one of ${STAFF_ROLES.join(", ")}` });

export function staffAuth(): Auth {
  ensureDefaultApp();
  return getAuth();
}

const codeOf = (error: unknown): string | null =>
  typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : null;

export async function userByEmail(auth: Auth, email: string): Promise<UserRecord | null> {
  try {
    return await auth.getUserByEmail(email);
  } catch (error) {
    if (codeOf(error) === "auth/user-not-found") return null;
    throw error;
  }
}

export async function requireUserByEmail(auth: Auth, email: string): Promise<UserRecord> {
  const user = await userByEmail(auth, email);
  if (!user) throw new CliError(`no Firebase Auth user with email ${email} (add one with: opsync staff add --email ${email} --role …)`);
  return user;
}

export interface StaffMember {
  email: string | null;
  uid: string;
  roles: StaffRole[];
  disabled: boolean;
  lastSignIn: string | null;
}

/** Every Auth user holding a staff claim. Auth has no query by claim: this pages through all users (1,000 a page). */
export async function listStaff(auth: Auth): Promise<StaffMember[]> {
  const out: StaffMember[] = [];
  let pageToken: string | undefined;
  do {
    const page = await auth.listUsers(1000, pageToken);
    for (const u of page.users) {
      const roles = staffRolesFromClaims(u.customClaims);
      if (roles.length) {
        const last = u.metadata.lastSignInTime ? new Date(u.metadata.lastSignInTime) : null;
        out.push({ email: u.email ?? null, uid: u.uid, roles, disabled: u.disabled, lastSignIn: last && !Number.isNaN(last.getTime()) ? last.toISOString() : null });
      }
    }
    pageToken = page.pageToken;
  } while (pageToken);
  return out.sort((a, b) => (a.email ?? a.uid).localeCompare(b.email ?? b.uid));
}
