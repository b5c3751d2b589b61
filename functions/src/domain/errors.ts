/**
 * Typed errors decide behaviour: callers branch on the class, never on message text.
 */
export class OpsyncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from outside. `field` names the offending field so a person can fix it. */
export class ValidationError extends OpsyncError {
  constructor(
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

/** A retry may succeed (network, timeouts, 408, 429, 5xx, Firestore contention). */
export class TransientError extends OpsyncError {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
  }
}

/** A retry cannot help (other 4xx, invalid data). */
export class PermanentError extends OpsyncError {
  constructor(
    message: string,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
  }
}
