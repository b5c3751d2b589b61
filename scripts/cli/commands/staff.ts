/**
 * `opsync staff add|list|remove`: who may use the ops console and the admin API. Roles are Firebase Auth custom
 * claims, granted and removed through the admin API's `setRole` (same checks, session revocation on removal, and an
 * `admin.setRole` audit entry with actor `cli`).
 */
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { z } from "zod";
import { staffRolesFromClaims, type StaffRole } from "../../../functions/src/domain/roles";
import { runAsCli } from "../adminCaller";
import { CliError, cliContext, type CliContext } from "../context";
import { emit } from "../output";
import type { CliCommand } from "../registry";
import { emailOption, listStaff, requireUserByEmail, roleOption, staffAuth, userByEmail } from "../staffAuth";

const CONSOLE_LOCAL = "http://127.0.0.1:5002";

const addSchema = z.strictObject({
  email: emailOption,
  role: roleOption,
  password: z.string().min(6, "--password must be at least 6 characters (Firebase Auth's minimum)").optional(),
});
const removeSchema = z.strictObject({ email: emailOption, role: roleOption.optional() });

function parse<T>(schema: z.ZodType<T>, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new CliError(r.error.issues[0]?.message ?? "invalid options");
  return r.data;
}

async function add(ctx: CliContext, o: z.infer<typeof addSchema>) {
  if (o.password !== undefined && !ctx.local) {
    throw new CliError("--password is for the local emulators only; on a real project the new user sets a password through the link this command prints");
  }
  const auth = staffAuth();
  let user = await userByEmail(auth, o.email);
  let password: string | null = null;
  let passwordLink: string | null = null;
  let linkProblem: string | null = null;
  const created = user === null;
  if (!user) {
    // Locally a password is printed once so the console sign-in works at once; a real user chooses their own.
    password = ctx.local ? (o.password ?? randomBytes(9).toString("base64url")) : null;
    user = await auth.createUser({ email: o.email, ...(password ? { password } : {}) });
    if (!ctx.local) {
      try {
        passwordLink = await auth.generatePasswordResetLink(o.email);
      } catch (error) {
        // Reported, not fatal: the role is still granted; the link can be made later from the Firebase console.
        linkProblem = `no password link: ${error instanceof Error ? error.message : String(error)} (is Email/Password sign-in enabled? docs/deploy.md)`;
      }
    }
  }
  const result = await runAsCli(ctx, "setRole", { uid: user.uid, role: o.role, enabled: true, confirm: true });
  const roles = ((result.after as { roles?: StaffRole[] } | undefined)?.roles ?? []).slice();
  const changed = result.changed === true;
  emit(ctx, { command: "staff add", email: o.email, uid: user.uid, created, role: o.role, changed, roles, password, passwordLink, ...(linkProblem ? { warning: linkProblem } : {}) }, () => [
    `${o.email} (uid ${user.uid}): ${created ? "Auth user created; " : ""}${changed ? `role ${o.role} granted` : `already had role ${o.role}`} (roles: ${roles.join(", ")})`,
    ...(password ? [`  sign in at ${CONSOLE_LOCAL} with password ${password}`] : []),
    ...(passwordLink ? [`  send them this link to set a password, then sign in to the ops console: ${passwordLink}`] : []),
    ...(linkProblem ? [`  ${linkProblem}`] : []),
  ]);
}

async function list(ctx: CliContext) {
  const staff = await listStaff(staffAuth());
  emit(ctx, { command: "staff list", staff }, () =>
    staff.length
      ? staff.map((s) => `${(s.email ?? "(no email)").padEnd(32)} ${s.uid.padEnd(30)} ${s.roles.join(",").padEnd(22)} ${s.disabled ? "disabled" : `last sign-in ${s.lastSignIn ?? "never"}`}`)
      : ["no staff yet: opsync staff add --email you@example.com --role admin"],
  );
}

async function remove(ctx: CliContext, o: z.infer<typeof removeSchema>) {
  const user = await requireUserByEmail(staffAuth(), o.email);
  const held = staffRolesFromClaims(user.customClaims);
  const toRemove = o.role ? held.filter((r) => r === o.role) : held;
  // One setRole per role: each is audited; a removal also revokes the user's sessions, so it takes effect now.
  for (const role of toRemove) await runAsCli(ctx, "setRole", { uid: user.uid, role, enabled: false, confirm: true });
  const roles = held.filter((r) => !toRemove.includes(r));
  emit(ctx, { command: "staff remove", email: o.email, uid: user.uid, removed: toRemove, roles, sessionsRevoked: toRemove.length > 0 }, () => [
    toRemove.length
      ? `${o.email} (uid ${user.uid}): removed ${toRemove.join(", ")}; sessions revoked${roles.length ? ` (still holds ${roles.join(", ")})` : " (no staff role left)"}`
      : `${o.email} (uid ${user.uid}) had ${o.role ? `no ${o.role} role` : "no staff role"}; nothing changed`,
  ]);
}

export const staffCommand: CliCommand = {
  register(program: Command) {
    const staff = program.command("staff").description("staff who may use the ops console and the admin API (Firebase Auth users with a role claim)");
    staff
      .command("add")
      .description("create the Auth user if missing and grant a role (support, finance or admin)")
      .requiredOption("--email <email>", "the staff member's email")
      .requiredOption("--role <role>", "support | finance | admin")
      .option("--password <password>", "local emulators only: the new user's password (default: a random one, printed once)")
      .action(async (raw: unknown, cmd: Command) => add(cliContext(cmd.optsWithGlobals()), parse(addSchema, raw)));
    staff
      .command("list")
      .description("every Auth user holding a staff role")
      .action(async (_raw: unknown, cmd: Command) => list(cliContext(cmd.optsWithGlobals())));
    staff
      .command("remove")
      .description("remove a staff member's roles (all, or --role) and end their sessions; the Auth user stays")
      .requiredOption("--email <email>", "the staff member's email")
      .option("--role <role>", "remove only this role")
      .action(async (raw: unknown, cmd: Command) => remove(cliContext(cmd.optsWithGlobals()), parse(removeSchema, raw)));
  },
};
