/** The admin operations' two common refusals: the thing named does not exist (404), or its state forbids the change (409). */
import { AdminError } from "../../domain/adminOps.js";

export const notFound = (message: string): AdminError => new AdminError("not-found", message);
export const conflict = (message: string): AdminError => new AdminError("failed-precondition", message);
