/**
 * `opsync token --email …`: an ID token for a local staff user, for curl against the local admin API. Emulator
 * projects only: a real project's tokens come from signing in (the console), and scripts use API keys.
 */
import type { Command } from "commander";
import { z } from "zod";
import { staffRolesFromClaims } from "../../../functions/src/domain/roles";
import { LocalTokenError, localIdToken } from "../../lib/localToken";
import { CliError, cliContext } from "../context";
import { emit } from "../output";
import type { CliCommand } from "../registry";
import { emailOption, requireUserByEmail, staffAuth } from "../staffAuth";

const optionsSchema = z.strictObject({ email: emailOption });

export const tokenCommand: CliCommand = {
  register(program: Command) {
    program
      .command("token")
      .description("local emulators only: print an ID token for a staff user (Authorization: Bearer …)")
      .requiredOption("--email <email>", "the Auth emulator user")
      .action(async (raw: unknown, cmd: Command) => {
        const ctx = cliContext(cmd.optsWithGlobals());
        if (!ctx.local) {
          throw new CliError(`token works on the local emulators only (demo-* projects), not ${ctx.project}: sign in to the ops console, or use an API key (opsync apikey create)`);
        }
        const o = optionsSchema.safeParse(raw);
        if (!o.success) throw new CliError(o.error.issues[0]?.message ?? "invalid options");
        const auth = staffAuth();
        const user = await requireUserByEmail(auth, o.data.email);
        const host = process.env.FIREBASE_AUTH_EMULATOR_HOST ?? "127.0.0.1:9099";
        let token;
        try {
          token = await localIdToken(auth, user.uid, host);
        } catch (error) {
          if (error instanceof LocalTokenError) throw new CliError(error.message);
          throw error;
        }
        const roles = staffRolesFromClaims(user.customClaims);
        if (!roles.length && !ctx.json) process.stderr.write(`note: ${o.data.email} has no staff role; the admin API will answer 403 (opsync staff add)\n`);
        if (ctx.json) emit(ctx, { command: "token", email: o.data.email, uid: user.uid, roles, idToken: token.idToken, expiresInSeconds: token.expiresInSeconds }, () => []);
        // Only the token on stdout, so TOKEN=$(npm run -s opsync -- token --email …) works.
        else process.stdout.write(`${token.idToken}\n`);
      });
  },
};
