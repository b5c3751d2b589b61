/**
 * In-app support requests: the shape an app user may create (firestore.rules enforces the same), the per-user
 * rate limit, and the progress a person reads on the request document.
 */
import { z } from "zod";
import { idSchema } from "./ids.js";

export const SUPPORT_CATEGORIES = ["billing", "account", "order", "bug", "other"] as const;
export const SUPPORT_RATE_LIMIT = { max: 5, windowMs: 60 * 60 * 1000 } as const;

export const supportRequestSchema = z
  .object({
    uid: z.string().min(1),
    subject: z.string().trim().min(1, "subject is empty").max(200, "subject is longer than 200 characters"),
    message: z.string().trim().min(1, "message is empty").max(5000, "message is longer than 5000 characters"),
    category: z.enum(SUPPORT_CATEGORIES),
    // The order id becomes a document path (orders/{orderId}), so it must pass the id policy.
    orderId: idSchema("orderId", "app").optional(),
    appVersion: z.string().max(50).optional(),
    device: z.string().max(200).optional(),
    createdAt: z.unknown(),
  })
  .strict();
export type SupportRequestInput = z.infer<typeof supportRequestSchema>;

export type SupportRequestStatus = "received" | "ticket_created" | "notified" | "rejected";

/** A reason a person can read, naming the field. */
export function describeSupportRequestProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "the request is not valid";
  if (issue.code === "unrecognized_keys") return `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  const field = issue.path.join(".") || "request";
  // Id-policy messages already start with the field's name.
  if (issue.code === "custom") return issue.message;
  if (field === "category") return `category must be one of ${SUPPORT_CATEGORIES.join(", ")}`;
  return `${field}: ${issue.message}`;
}

export function rateLimitReason(recentCount: number): string | null {
  return recentCount >= SUPPORT_RATE_LIMIT.max
    ? `too many requests: at most ${SUPPORT_RATE_LIMIT.max} support requests per hour; please wait and try again`
    : null;
}

/** The parties of an order, as far as a support request's ownership check needs them. */
export interface OrderParties {
  buyerUid: string | null;
  sellerUid: string | null;
}

/** A request may name only an order whose buyer or seller is the requester. */
export function isOrderParty(order: OrderParties | null, uid: string): boolean {
  return order !== null && (order.buyerUid === uid || order.sellerUid === uid);
}

/**
 * The same reason for a missing and a foreign order, so the reason cannot be used to learn which order ids
 * exist.
 */
export function foreignOrderReason(): string {
  return "orderId does not name an order you bought or sold";
}
