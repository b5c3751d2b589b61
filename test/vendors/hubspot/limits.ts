/**
 * HubSpot's rate limits as the stand-in models them: ONE budget per portal (private apps on Professional: 190
 * requests per rolling 10 s; Free/Starter 100) shared by every CRM object endpoint and tickets alike, plus the
 * search endpoints' own 4 requests per second. A 429 carries Retry-After and HubSpot's policy name; every answer
 * carries the X-HubSpot-RateLimit-* headers.
 */
import { HttpError } from "./http";

export interface RateLimit {
  max: number;
  windowMs: number;
}

export const PROFESSIONAL: RateLimit = { max: 190, windowMs: 10_000 };
const SEARCH_PER_SECOND = 4;
const DAILY = 1_000_000;

export class PortalBudget {
  private window: number[] = [];
  private searchWindow: number[] = [];
  private daily = 0;

  constructor(
    private limit: RateLimit = PROFESSIONAL,
    private readonly now: () => number = Date.now,
  ) {}

  get current(): RateLimit {
    return { ...this.limit };
  }

  set(limit: RateLimit): void {
    this.limit = { ...limit };
    this.window = [];
  }

  reset(limit: RateLimit): void {
    this.set(limit);
    this.searchWindow = [];
    this.daily = 0;
  }

  headers(remaining: number): Record<string, string> {
    return {
      "x-hubspot-ratelimit-max": String(this.limit.max),
      "x-hubspot-ratelimit-remaining": String(Math.max(0, remaining)),
      "x-hubspot-ratelimit-interval-milliseconds": String(this.limit.windowMs),
      "x-hubspot-ratelimit-daily": String(DAILY),
      "x-hubspot-ratelimit-daily-remaining": String(Math.max(0, DAILY - this.daily)),
    };
  }

  /** Sliding windows over accepted requests; a rejected request does not use up budget. */
  take(isSearch: boolean): Record<string, string> {
    const t = this.now();
    this.window = this.window.filter((at) => at > t - this.limit.windowMs);
    const oldest = this.window[0];
    if (this.window.length >= this.limit.max && oldest !== undefined) {
      throw this.tooMany("You have reached your ten_secondly_rolling limit.", "TEN_SECONDLY_ROLLING", oldest + this.limit.windowMs - t);
    }
    if (isSearch) {
      this.searchWindow = this.searchWindow.filter((at) => at > t - 1000);
      const first = this.searchWindow[0];
      if (this.searchWindow.length >= SEARCH_PER_SECOND && first !== undefined) {
        throw this.tooMany("You have reached your secondly limit.", "SECONDLY", first + 1000 - t);
      }
      this.searchWindow.push(t);
    }
    this.window.push(t);
    this.daily++;
    return this.headers(this.limit.max - this.window.length);
  }

  tooMany(message: string, policyName: string, waitMs: number): HttpError {
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    return new HttpError(
      429,
      "RATE_LIMITS",
      message,
      { errorType: "RATE_LIMIT", policyName },
      { "retry-after": String(retryAfter), ...this.headers(0) },
    );
  }
}
