/**
 * `listQueue`: the role queues, paginated. The caller sees the kinds of the roles it views the queue as (all its
 * roles, or the one it names, which it must hold); amounts only when that view is finance's or admin's.
 */
import { AdminError, jsonSafe, type AdminInput } from "../../domain/adminOps.js";
import {
  QUEUE_KINDS,
  QUEUE_PAGE_SIZE_DEFAULT,
  decodePageToken,
  encodePageToken,
  queueKindsFor,
  type QueueCursor,
  type QueueKind,
} from "../../domain/consoleOps.js";
import { CARD_AMOUNT_ROLES } from "../../domain/customerCard.js";
import { ValidationError } from "../../domain/errors.js";
import { shapeQueueItem, stillOpen } from "../../domain/roleQueues.js";
import { hasAnyRole, type StaffRole } from "../../domain/roles.js";
import { countQueueKinds, readQueueSlice } from "../../store/roleQueues.js";
import type { ReadAnswer, ReadCtx } from "./consoleRead.js";

export async function listQueue({ deps, caller }: ReadCtx, input: AdminInput<"listQueue">): Promise<ReadAnswer> {
  if (input.role && !hasAnyRole(caller.roles, [input.role])) {
    throw new AdminError("permission-denied", `you do not hold the ${input.role} role`, { allowedRoles: [input.role] });
  }
  const viewRoles: StaffRole[] = input.role ? [input.role] : caller.roles;
  const visible = queueKindsFor(viewRoles);
  if (input.kind && !visible.includes(input.kind)) {
    const owners = (["support", "finance", "admin"] as const).filter((r) => queueKindsFor([r]).includes(input.kind as QueueKind));
    throw new AdminError("permission-denied", `${input.kind} items are not in the ${viewRoles.join("/")} queue`, { allowedRoles: owners });
  }
  const kinds = input.kind ? [input.kind] : visible;
  let cursor: QueueCursor | null = null;
  if (input.pageToken) {
    try {
      cursor = decodePageToken(input.pageToken);
    } catch (error) {
      if (error instanceof ValidationError) throw new AdminError("invalid-argument", error.message, { field: "pageToken" });
      throw error;
    }
    if (!kinds.includes(cursor.kind)) throw new AdminError("invalid-argument", "listQueue: pageToken belongs to another queue", { field: "pageToken" });
  }
  const seesAmounts = hasAnyRole(viewRoles, CARD_AMOUNT_ROLES);
  const pageSize = input.pageSize ?? QUEUE_PAGE_SIZE_DEFAULT;

  // One ordered stream: kinds in QUEUE_KINDS order, each oldest first; the token is the last position read.
  const items: Record<string, unknown>[] = [];
  let next: QueueCursor | null = null;
  let position = cursor;
  for (const kind of QUEUE_KINDS.filter((k) => kinds.includes(k))) {
    if (position && QUEUE_KINDS.indexOf(kind) < QUEUE_KINDS.indexOf(position.kind)) continue;
    const after = position && position.kind === kind ? position : null;
    const room = pageSize - items.length;
    const slice = await readQueueSlice(deps.db, kind, after, room);
    for (const s of slice.sources) if (stillOpen(kind, s)) items.push(shapeQueueItem(kind, s, seesAmounts));
    if (slice.fetched === room && slice.last) {
      next = slice.last;
      break;
    }
    position = null;
  }
  const counts = input.pageToken ? null : await countQueueKinds(deps.db, kinds);
  return {
    outcome: "read",
    result: jsonSafe({
      operation: "listQueue",
      roles: viewRoles,
      kinds,
      financeFields: seesAmounts,
      counts,
      items,
      nextPageToken: next ? encodePageToken(next) : null,
    }) as Record<string, unknown>,
  };
}
