/** Types and the error shape shared by the pieces of the local HubSpot stand-in. */
export type ObjectType = "contacts" | "deals" | "tickets";
export const OBJECT_TYPES: readonly ObjectType[] = ["contacts", "deals", "tickets"];

/** Thrown inside a handler to answer with HubSpot's error body `{status:"error", message, correlationId, category}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function objectType(segment: string | undefined): ObjectType {
  const found = OBJECT_TYPES.find((t) => t === segment);
  if (!found) throw new HttpError(400, "VALIDATION_ERROR", `Unable to infer object type from: ${segment ?? ""}`);
  return found;
}

/** HubSpot's answer to a property value it refuses (unknown property, option not allowed). */
export function invalidProperty(message: string, name: string, error: string): HttpError {
  const detail = JSON.stringify([{ isValid: false, message, error, name }]);
  return new HttpError(400, "VALIDATION_ERROR", `Property values were not valid: ${detail}`);
}
