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

export interface VendorErrorDetail {
  httpStatus?: number | null;
  /** The vendor's request id (HubSpot `X-HubSpot-Correlation-Id`, Zendesk `X-Request-Id`), for support tickets. */
  vendorRequestId?: string | null;
  /** The request surely never reached the vendor (connection refused): a post can be sent again without doubling. */
  notSent?: boolean;
}

/** A retry may succeed (network, timeouts, 408, 429, 5xx, Firestore contention). */
export class TransientError extends OpsyncError {
  readonly httpStatus: number | null;
  readonly vendorRequestId: string | null;
  readonly notSent: boolean;
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
    detail: VendorErrorDetail = {},
  ) {
    super(message);
    this.httpStatus = detail.httpStatus ?? null;
    this.vendorRequestId = detail.vendorRequestId ?? null;
    this.notSent = detail.notSent ?? false;
  }
}

/** A retry cannot help (other 4xx, invalid data). */
export class PermanentError extends OpsyncError {
  readonly httpStatus: number | null;
  readonly vendorRequestId: string | null;
  constructor(message: string, detail: VendorErrorDetail = {}) {
    super(message);
    this.httpStatus = detail.httpStatus ?? null;
    this.vendorRequestId = detail.vendorRequestId ?? null;
  }
}
