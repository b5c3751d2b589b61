/** The signed-in staff member, as the screens need it. */
export interface Session {
  uid: string;
  email: string | null;
  roles: Array<"admin" | "support" | "finance">;
}

export const isAdmin = (s: Session): boolean => s.roles.includes("admin");
