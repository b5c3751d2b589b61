/**
 * Admin operation `reconcile`: admin and finance may run the report (it writes its run document and, with drift,
 * an alert); repairing (`fix: true` with `confirm: true`) is for admins only. Audited either way.
 */
import { RECONCILE_FIX_ROLES } from "../../domain/adminMaintenance.js";
import { AdminError, jsonSafe } from "../../domain/adminOps.js";
import { hasAnyRole } from "../../domain/roles.js";
import { reconcile } from "../reconcile.js";
import type { Handler } from "./types.js";
import { auditEntry } from "./audit.js";
import { audit } from "../../store/audit.js";

export const reconcileOp: Handler<"reconcile"> = async ({ deps, caller, now }, input) => {
  const fix = input.fix === true && input.confirm === true;
  if (fix && !hasAnyRole(caller.roles, RECONCILE_FIX_ROLES)) {
    await audit(deps.db, auditEntry(caller, "reconcile", { outcome: "denied", target: "ops/reconcile", before: null, after: null, detail: { fix: true, allowedRoles: [...RECONCILE_FIX_ROLES] }, at: now }));
    throw new AdminError("permission-denied", "reconcile with fix needs the admin role; finance may run the report (without fix)", { allowedRoles: RECONCILE_FIX_ROLES });
  }
  if (!deps.crm || !deps.claims) throw new AdminError("failed-precondition", "reconcile needs the CRM and Auth claims read ports (not configured in this deployment)");
  const report = await reconcile({ db: deps.db, stripe: deps.stripe, crm: deps.crm, claims: deps.claims, graceDays: deps.graceDays, ...(deps.now ? { now: deps.now } : {}) }, { fix });
  const after = { runId: report.runId, fix, driftTotal: report.driftTotal, drift: report.drift, fixed: report.fixed, jobs: report.jobs };
  await audit(deps.db, auditEntry(caller, "reconcile", { outcome: "applied", target: `ops/reconcile/runs/${report.runId}`, before: null, after, at: now }));
  const result = jsonSafe({ operation: "reconcile", dryRun: !fix, ...(input.fix === true && !fix ? { wouldFix: report.driftTotal } : {}), ...report }) as Record<string, unknown>;
  return { outcome: fix ? "applied" : "dry_run", result };
};
