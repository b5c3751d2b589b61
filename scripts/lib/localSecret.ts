/** The local webhook signing secret lives in functions/.secret.local (git-ignored), created on first use. */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export const REPO_ROOT = resolve(__dirname, "..", "..");
export const SECRET_FILE = resolve(REPO_ROOT, "functions", ".secret.local");

export function ensureLocalWebhookSecret(): string {
  const existing = readLocalWebhookSecret();
  if (existing) return existing;
  const secret = `whsec_local_${randomBytes(24).toString("hex")}`;
  const prior = existsSync(SECRET_FILE) ? readFileSync(SECRET_FILE, "utf8").trimEnd() + "\n" : "";
  writeFileSync(SECRET_FILE, `${prior}STRIPE_WEBHOOK_SECRET=${secret}\n`, { mode: 0o600 });
  return secret;
}

function readSecretFile(): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(SECRET_FILE)) return out;
  for (const line of readFileSync(SECRET_FILE, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !line.startsWith("#")) out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** Adds any missing local secrets (values from `defaults`) and returns every secret in the file. */
export function ensureLocalSecrets(defaults: Record<string, () => string>): Map<string, string> {
  const current = readSecretFile();
  const missing = Object.entries(defaults).filter(([name]) => !current.get(name));
  if (missing.length) {
    const prior = existsSync(SECRET_FILE) ? readFileSync(SECRET_FILE, "utf8").trimEnd() + "\n" : "";
    const added = missing.map(([name, make]) => {
      const value = make();
      current.set(name, value);
      return `${name}=${value}\n`;
    });
    writeFileSync(SECRET_FILE, prior.replace(/^\n$/, "") + added.join(""), { mode: 0o600 });
  }
  return current;
}

/** Params for the demo project, with functions/.env.local overrides (how a developer points at real vendors). */
export function localParams(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of [".env", ".env.demo-opsync", ".env.local"]) {
    const path = resolve(REPO_ROOT, "functions", file);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0 && !line.startsWith("#")) out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
  }
  return out;
}

export function readLocalWebhookSecret(): string | null {
  if (!existsSync(SECRET_FILE)) return null;
  const line = readFileSync(SECRET_FILE, "utf8")
    .split("\n")
    .find((l) => l.startsWith("STRIPE_WEBHOOK_SECRET="));
  const value = line?.slice("STRIPE_WEBHOOK_SECRET=".length).trim();
  // Two secrets may be configured (rotation); sign with the first.
  return value ? (value.split(",")[0] ?? null) : null;
}
