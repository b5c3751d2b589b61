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

export function readLocalWebhookSecret(): string | null {
  if (!existsSync(SECRET_FILE)) return null;
  const line = readFileSync(SECRET_FILE, "utf8")
    .split("\n")
    .find((l) => l.startsWith("STRIPE_WEBHOOK_SECRET="));
  const value = line?.slice("STRIPE_WEBHOOK_SECRET=".length).trim();
  // Two secrets may be configured (rotation); sign with the first.
  return value ? (value.split(",")[0] ?? null) : null;
}
