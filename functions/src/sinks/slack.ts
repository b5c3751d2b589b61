/**
 * Slack incoming-webhook adapter for NotifyPort.
 *
 * Idempotency: Slack incoming webhooks take no idempotency key, and this adapter adds none. It posts once per
 * call. "One message per `key`" is the sync queue's guarantee: it records the job for `key` as done after a
 * successful post and never runs it again. The one gap left is a post Slack accepted whose answer was lost
 * (timeout, connection reset after the write): that surfaces as TransientError, the queue retries, and the
 * channel may show the message twice. Keep `timeoutMs` generous to make that rare.
 *
 * Errors: network failure, timeout, 408, 429 and 5xx are TransientError (429/503 with `Retry-After` in ms);
 * other 4xx (400 invalid_payload/no_text, 403 action_prohibited, 404 no_service/channel_not_found,
 * 410 channel_is_archived) are PermanentError. Both carry the HTTP status and Slack's `x-slack-req-id`.
 * The webhook URL is a secret (its path is the credential), so no message ever contains it.
 */
import { PermanentError, TransientError } from "../domain/errors.js";
import { parseRetryAfter } from "../domain/retry.js";
import type { NotifyPort } from "./ports.js";

export interface SlackOptions {
  webhookUrl: string;
  /** Per HTTP request, including reading the body. Default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Slack truncates longer texts; cut here so the end of the message says so. */
const MAX_TEXT = 39_000;


function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return "network error";
  const cause: unknown = err.cause;
  const code = typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? cause.code : null;
  return code ? `network error: ${err.message}: ${code}` : `network error: ${err.message}`;
}

export class SlackNotifier implements NotifyPort {
  private readonly webhookUrl: string;
  private readonly timeoutMs: number;

  constructor(opts: SlackOptions) {
    this.webhookUrl = opts.webhookUrl;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async post(message: { key: string; text: string }): Promise<void> {
    const what = `slack post (key ${message.key})`;
    if (message.text.trim() === "") throw new PermanentError(`${what}: empty text`);
    const text = message.text.length > MAX_TEXT ? `${message.text.slice(0, MAX_TEXT)}\n…(truncated)` : message.text;
    let status: number;
    let headers: Headers;
    let body: string;
    try {
      const res = await fetch(this.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: "manual",
      });
      status = res.status;
      headers = res.headers;
      body = await res.text();
    } catch (err) {
      const reason =
        err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")
          ? `timed out after ${this.timeoutMs} ms`
          : networkReason(err);
      // A refused connection never carried the post: the queue may send it again without a second message.
      const refused = err instanceof Error && typeof err.cause === "object" && err.cause !== null && "code" in err.cause && err.cause.code === "ECONNREFUSED";
      throw new TransientError(`${what}: ${reason.split(this.webhookUrl).join("<webhook>")}`, null, { notSent: refused });
    }
    if (status >= 200 && status < 300) return;
    const detail = { httpStatus: status, vendorRequestId: headers.get("x-slack-req-id") };
    const vendor = body.replace(/\s+/g, " ").trim().slice(0, 100).split(this.webhookUrl).join("<webhook>");
    const msg = `${what}: HTTP ${status}${vendor ? ` ${vendor}` : ""}`;
    if (status === 408 || status === 429 || status >= 500) {
      throw new TransientError(msg, parseRetryAfter(headers.get("retry-after"), Date.now()), detail);
    }
    throw new PermanentError(msg, detail);
  }
}
