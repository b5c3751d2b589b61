/**
 * The admin operations around incidents and the finance / support follow-ups: `ackIncident`, `resolveIncident`,
 * `resolveRefundRequest` — their strict input schemas and roles. Registered in domain/adminOps.ts. Pure: no I/O.
 */
import { z } from "zod";
import { idSchema } from "./ids.js";
import type { StaffRole } from "./roles.js";

const confirm = z.boolean({ error: "confirm must be true or false" }).optional();
const noteText = (message: string) =>
  z.string({ error: message }).trim().min(1, "note must not be empty").max(1000, "note must be at most 1000 characters");
const requiredNote = noteText("note is required (what was done, for the next person)");
const optionalNote = noteText("note must be a string").optional();

/** What finance decided about a refund request; `refunded` / `partially_refunded` mean it was done in Stripe. */
export const REFUND_DECISIONS = ["refunded", "partially_refunded", "declined"] as const;
export type RefundDecision = (typeof REFUND_DECISIONS)[number];

export const incidentInputSchemas = {
  ackIncident: z.strictObject({ incidentId: idSchema("incidentId", "document"), note: optionalNote }),
  resolveIncident: z.strictObject({ incidentId: idSchema("incidentId", "document"), note: requiredNote, confirm }),
  resolveRefundRequest: z.strictObject({
    requestId: idSchema("requestId", "document"),
    decision: z.enum(REFUND_DECISIONS, { error: `decision must be one of ${REFUND_DECISIONS.join(", ")}` }),
    note: requiredNote,
    confirm,
  }),
};

export const INCIDENT_OPERATIONS: Record<keyof typeof incidentInputSchemas, { roles: readonly StaffRole[]; destructive: boolean; summary: string }> = {
  ackIncident: { roles: ["admin", "support"], destructive: false, summary: "Acknowledge an open incident (you own it now), with an optional note." },
  resolveIncident: { roles: ["admin", "support"], destructive: true, summary: "Resolve an open incident by hand, with a note; dry run first." },
  resolveRefundRequest: { roles: ["admin", "finance"], destructive: true, summary: "Close a refund request (refunded, partially refunded or declined) with a note; dry run first." },
};

/** The auth pause lifts with its sink (resumeSink or a new credential): resolving its alert by hand would hide a paused sink. */
export const isAuthAlert = (incidentId: string): boolean => incidentId.startsWith("auth_");
