/**
 * The maintenance operations of the admin API (backfill, reconcile, sweepEvents, replay), as data: input schemas
 * (strict) and roles. Registered into domain/adminOps.ts. Pure: no I/O.
 */
import { z } from "zod";
import { idSchema, stripeIdSchema } from "./ids.js";
import type { StaffRole } from "./roles.js";

const confirm = z.boolean({ error: "confirm must be true or false" }).optional();
const iso = (field: string) => z.iso.datetime({ offset: true, error: `${field} must be an ISO time, e.g. 2026-11-01T00:00:00Z` });

export const maintenanceInputSchemas = {
  backfill: z.strictObject({ noSync: z.boolean({ error: "noSync must be true or false" }).optional(), restart: z.boolean({ error: "restart must be true or false" }).optional(), confirm }),
  reconcile: z.strictObject({ fix: z.boolean({ error: "fix must be true or false" }).optional(), confirm }),
  sweepEvents: z.strictObject({ since: iso("since").optional(), confirm }),
  replay: z
    .strictObject({ eventId: stripeIdSchema("eventId", ["evt"]).optional(), uid: idSchema("uid", "app").optional(), since: iso("since").optional(), until: iso("until").optional(), confirm })
    .superRefine((input, ctx) => {
      const targets = [input.eventId !== undefined, input.uid !== undefined, input.since !== undefined || input.until !== undefined].filter(Boolean).length;
      if (targets !== 1) ctx.addIssue({ code: "custom", path: [], message: "exactly one of eventId, uid, or since + until is required" });
      else if ((input.since === undefined) !== (input.until === undefined)) ctx.addIssue({ code: "custom", path: [input.since ? "until" : "since"], message: "since and until go together" });
    }),
};

export const MAINTENANCE_OPERATIONS: Record<keyof typeof maintenanceInputSchemas, { roles: readonly StaffRole[]; destructive: boolean; summary: string }> = {
  backfill: { roles: ["admin"], destructive: true, summary: "Import existing Stripe customers (resumable); dry run shows the stored cursor." },
  reconcile: {
    roles: ["admin", "finance"],
    destructive: true,
    summary: "Compare Stripe, Firestore, HubSpot and Auth claims; `fix: true` with `confirm: true` (admin only) repairs through jobs.",
  },
  sweepEvents: { roles: ["admin"], destructive: true, summary: "Apply Stripe events the ledger lacks; dry run lists them." },
  replay: { roles: ["admin"], destructive: true, summary: "Re-apply events from the ledger by event, customer or time range; dry run first." },
};

/** Only an admin may repair what reconcile found (finance may read the report). */
export const RECONCILE_FIX_ROLES: readonly StaffRole[] = ["admin"];
