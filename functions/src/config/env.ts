/**
 * The process environment, read here and nowhere else: which project this is, whether it runs on the emulators,
 * and the one deploy-time setting onSchedule needs as a plain string.
 */
import { z } from "zod";

const envSchema = z.object({
  FUNCTIONS_EMULATOR: z.string().optional(),
  GCLOUD_PROJECT: z.string().optional(),
});

/** The project id the runtime reports (undefined outside Cloud Functions and the emulators). */
export function projectId(): string | undefined {
  return envSchema.parse(process.env).GCLOUD_PROJECT;
}

/** True on the local emulators or a demo-* project: such a project never accepts live-mode events. */
export function isLocalProject(): boolean {
  const env = envSchema.parse(process.env);
  return env.FUNCTIONS_EMULATOR === "true" || (env.GCLOUD_PROJECT ?? "").startsWith("demo-");
}

/** Options for the Admin SDK app; on the emulators a service account id avoids a metadata-server probe. */
export function adminAppOptions(): { serviceAccountId?: string } {
  return isLocalProject() ? { serviceAccountId: `${projectId() ?? "demo-opsync"}@appspot.gserviceaccount.com` } : {};
}

/**
 * When `reconcileDaily` runs (Cloud Scheduler syntax, e.g. "every day 03:00" or cron "0 3 * * *"). onSchedule takes
 * a plain string at deploy time, so this is read from the environment (functions/.env.<project>: RECONCILE_SCHEDULE)
 * when the code is loaded, not as a runtime param.
 */
export const RECONCILE_SCHEDULE_DEFAULT = "every day 03:00";

export function reconcileSchedule(): string {
  const raw = process.env.RECONCILE_SCHEDULE?.trim();
  return raw ? raw : RECONCILE_SCHEDULE_DEFAULT;
}
