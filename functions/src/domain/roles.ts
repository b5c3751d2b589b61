/**
 * Who may do what. Staff roles are Firebase Auth custom claims (`admin`, `support`, `finance`: booleans, one
 * user may hold several); marketplace roles come from the data (`buyerUid` / `sellerUid` on an order); every
 * signed-in user is a customer of their own records. firestore.rules mirrors these rules for client reads.
 */
export const STAFF_ROLES = ["admin", "support", "finance"] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export function staffRolesFromClaims(claims: Record<string, unknown> | undefined | null): StaffRole[] {
  if (!claims) return [];
  return STAFF_ROLES.filter((role) => claims[role] === true);
}

export function hasAnyRole(roles: readonly StaffRole[], allowed: readonly StaffRole[]): boolean {
  return roles.includes("admin") || roles.some((r) => allowed.includes(r));
}
