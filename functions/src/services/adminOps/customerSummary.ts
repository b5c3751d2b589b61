/** Admin operation `customerSummary`: one customer's record, billing (finance/admin), staff notes, jobs and audit trail (auth, validation, dry run, rate limit and audit: services/admin.ts). */
import {
  BILLING_READER_ROLES,
  OPEN_JOB_STATUSES,
  shapeCustomerSummary,
  STAFF_NOTES_READER_ROLES,
} from "../../domain/adminOps.js";
import { hasAnyRole } from "../../domain/roles.js";
import { readCustomerSummaryDocs } from "../../store/adminReads.js";
import { COL } from "../../store/paths.js";
import { notFound } from "./errors.js";
import type { Handler } from "./types.js";

export const customerSummary: Handler<"customerSummary"> = async ({ deps, caller }, input) => {
  const docs = await readCustomerSummaryDocs(deps.db, input.uid, {
    billing: hasAnyRole(caller.roles, BILLING_READER_ROLES),
    staffNotes: hasAnyRole(caller.roles, STAFF_NOTES_READER_ROLES),
    jobStatuses: OPEN_JOB_STATUSES,
  });
  if (!docs.customer) throw notFound(`no customer record ${COL.customers}/${input.uid}`);
  const summary = shapeCustomerSummary({ uid: input.uid, ...docs, customer: docs.customer }, caller.roles);
  return { outcome: "read", result: { operation: "customerSummary", ...summary } };
};
