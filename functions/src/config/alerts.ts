/**
 * Incidents, signal alerts and the notices they post: when a failing job joins an incident, when a vendor is probed
 * again, the failure-rate and backlog thresholds, and what personal data a Slack notice may carry.
 */
import { defineInt, defineString } from "firebase-functions/params";
import { z } from "zod";
import { ValidationError } from "../domain/errors.js";
import { NOTICE_PERSONAL_DATA, type NoticeSettings } from "../domain/notices.js";
import { projectId } from "./env.js";

/** What personal data a Slack notice may carry (domain/notices.ts): none (uid and a console link), name, email. */
export const noticePersonalData = defineString("NOTICE_PERSONAL_DATA", {
  default: "none",
  description: "Personal data Slack notices may carry: none (uid and a console link only), name, or email (name and email).",
});

/** NOTICE_PERSONAL_DATA and the console link base of this project (null when the project id is unknown). */
export function noticeSettings(): NoticeSettings {
  const level = z.enum(NOTICE_PERSONAL_DATA).safeParse(noticePersonalData.value().trim());
  if (!level.success) {
    throw new ValidationError(
      `invalid configuration NOTICE_PERSONAL_DATA: must be one of ${NOTICE_PERSONAL_DATA.join(", ")}`,
      "NOTICE_PERSONAL_DATA",
    );
  }
  const project = projectId();
  const consoleDataUrl =
    project && /^[a-z0-9-]+$/.test(project) ? `https://console.firebase.google.com/project/${project}/firestore/databases/-default-/data/` : null;
  return { personalData: level.data, consoleDataUrl };
}

export const incidentJoinAfterAttempts = defineInt("INCIDENT_JOIN_AFTER_ATTEMPTS", {
  default: 3,
  description: "A sync job still retrying joins its cause's incident (and the incident opens) once this many attempts failed; dead jobs always join.",
});
export const incidentProbeMinutes = defineInt("INCIDENT_PROBE_MINUTES", {
  default: 5,
  description: "Minutes after a vendor-wide incident's jobs gave up before opsync retries one of them (then again each period).",
});
export const alertFailureRatePercent = defineInt("ALERT_FAILURE_RATE_PERCENT", {
  default: 5,
  description: "The failure-rate alert opens when more than this percentage of deliveries or finished sync jobs failed in the window.",
});
export const alertFailureWindowMinutes = defineInt("ALERT_FAILURE_WINDOW_MINUTES", { default: 15, description: "The failure-rate alert's window in minutes." });
export const alertFailureMinVolume = defineInt("ALERT_FAILURE_MIN_VOLUME", {
  default: 20,
  description: "Fewer deliveries (or finished jobs) than this in the window never open the failure-rate alert.",
});
export const alertBacklogAgeMinutes = defineInt("ALERT_BACKLOG_AGE_MINUTES", {
  default: 30,
  description: "The backlog-age alert opens when the oldest waiting sync job is older than this many minutes.",
});

export interface IncidentConfig {
  joinAfterAttempts: number;
  probeDelayMs: number;
  thresholds: { failureRatePercent: number; windowMinutes: number; minVolume: number; backlogAgeMinutes: number };
}

const incidentConfigSchema = z.object({
  INCIDENT_JOIN_AFTER_ATTEMPTS: z.number().int().min(1).max(50),
  INCIDENT_PROBE_MINUTES: z.number().int().min(1).max(24 * 60),
  ALERT_FAILURE_RATE_PERCENT: z.number().int().min(1).max(100),
  ALERT_FAILURE_WINDOW_MINUTES: z.number().int().min(1).max(120),
  ALERT_FAILURE_MIN_VOLUME: z.number().int().min(1).max(1_000_000),
  ALERT_BACKLOG_AGE_MINUTES: z.number().int().min(1).max(7 * 24 * 60),
});

export function incidentConfig(): IncidentConfig {
  const parsed = incidentConfigSchema.safeParse({
    INCIDENT_JOIN_AFTER_ATTEMPTS: incidentJoinAfterAttempts.value(),
    INCIDENT_PROBE_MINUTES: incidentProbeMinutes.value(),
    ALERT_FAILURE_RATE_PERCENT: alertFailureRatePercent.value(),
    ALERT_FAILURE_WINDOW_MINUTES: alertFailureWindowMinutes.value(),
    ALERT_FAILURE_MIN_VOLUME: alertFailureMinVolume.value(),
    ALERT_BACKLOG_AGE_MINUTES: alertBacklogAgeMinutes.value(),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "INCIDENT");
    throw new ValidationError(`invalid configuration ${field}: ${issue?.message}`, field);
  }
  const c = parsed.data;
  return {
    joinAfterAttempts: c.INCIDENT_JOIN_AFTER_ATTEMPTS,
    probeDelayMs: c.INCIDENT_PROBE_MINUTES * 60_000,
    thresholds: {
      failureRatePercent: c.ALERT_FAILURE_RATE_PERCENT,
      windowMinutes: c.ALERT_FAILURE_WINDOW_MINUTES,
      minVolume: c.ALERT_FAILURE_MIN_VOLUME,
      backlogAgeMinutes: c.ALERT_BACKLOG_AGE_MINUTES,
    },
  };
}
