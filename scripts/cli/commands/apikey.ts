/**
 * `opsync apikey create|list|revoke`: keys for scripts and bots that call the admin API (`X-Api-Key`). Each key
 * carries one staff role; only its salted hash is stored, so the key is printed once, at creation.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ValidationError } from "../../../functions/src/domain/errors";
import { createApiKey } from "../../../functions/src/services/adminHttp";
import { listApiKeys, revokeApiKey } from "../../../functions/src/services/apiKeys";
import { CliError, cliContext, type CliContext } from "../context";
import { emit } from "../output";
import type { CliCommand } from "../registry";
import { roleOption } from "../staffAuth";

const createSchema = z.strictObject({
  name: z.string().trim().min(1, "--name must not be empty").max(100, "--name must be at most 100 characters"),
  role: roleOption,
});

async function create(ctx: CliContext, raw: unknown) {
  const o = createSchema.safeParse(raw);
  if (!o.success) throw new CliError(o.error.issues[0]?.message ?? "invalid options");
  const { keyId, apiKey } = await createApiKey(ctx.db, { role: o.data.role, label: o.data.name, createdBy: "cli", actorType: "cli" });
  emit(ctx, { command: "apikey create", keyId, role: o.data.role, name: o.data.name, apiKey }, () => [
    `API key ${keyId} created (role ${o.data.role}, "${o.data.name}"). Shown once; store it now:`,
    apiKey,
    `use it as: curl -H 'X-Api-Key: ${apiKey.slice(0, 21)}…' …/v1/<operation>; revoke with: opsync apikey revoke ${keyId}`,
  ]);
}

async function list(ctx: CliContext) {
  const keys = await listApiKeys(ctx.db);
  emit(ctx, { command: "apikey list", keys }, () =>
    keys.length
      ? keys.map((k) => `${k.keyId}  ${(k.role ?? "?").padEnd(8)} ${k.revoked ? "REVOKED" : "active "}  created ${k.createdAt?.toISOString() ?? "?"} by ${k.createdBy ?? "?"}  "${k.label ?? ""}"`)
      : ["no API keys: opsync apikey create --name <what uses it> --role support|finance|admin"],
  );
}

async function revoke(ctx: CliContext, id: string) {
  // Accept the whole key too (opk_<keyId>_<secret>): the id is its second part.
  const keyId = /^opk_([0-9a-f]{16})_/.exec(id)?.[1] ?? id;
  let outcome;
  try {
    outcome = await revokeApiKey(ctx.db, keyId, { type: "cli", id: "cli" });
  } catch (error) {
    if (error instanceof ValidationError) throw new CliError(error.message);
    throw error;
  }
  if (outcome === "not_found") throw new CliError(`no API key ${keyId} (list them with: opsync apikey list)`);
  emit(ctx, { command: "apikey revoke", keyId, outcome }, () => [
    outcome === "revoked" ? `API key ${keyId} revoked: the admin API refuses it from now on` : `API key ${keyId} was already revoked; nothing changed`,
  ]);
}

export const apikeyCommand: CliCommand = {
  register(program: Command) {
    const apikey = program.command("apikey").description("admin API keys (X-Api-Key) for scripts and bots");
    apikey
      .command("create")
      .description("create a key with one staff role; prints it once")
      .requiredOption("--name <name>", "what uses the key (shown in lists and the audit log)")
      .requiredOption("--role <role>", "support | finance | admin")
      .action(async (raw: unknown, cmd: Command) => create(cliContext(cmd.optsWithGlobals()), raw));
    apikey
      .command("list")
      .description("every key: id, role, name, active or revoked (never the secret)")
      .action(async (_raw: unknown, cmd: Command) => list(cliContext(cmd.optsWithGlobals())));
    apikey
      .command("revoke <keyId>")
      .description("revoke a key at once (the id printed by create / list)")
      .action(async (keyId: string, _raw: unknown, cmd: Command) => revoke(cliContext(cmd.optsWithGlobals()), keyId));
  },
};
