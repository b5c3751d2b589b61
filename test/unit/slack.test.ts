import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PermanentError, TransientError } from "../../functions/src/domain/errors";
import { SlackNotifier } from "../../functions/src/sinks/slack";
import { startSlackServer, type SlackServer } from "../vendors/slackServer";

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("SlackNotifier against the local Slack webhook server", () => {
  let server: SlackServer;
  const notifier = (webhookUrl = server.url, timeoutMs = 2000) => new SlackNotifier({ webhookUrl, timeoutMs });

  beforeAll(async () => {
    server = await startSlackServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  it("posts the text as JSON to the webhook", async () => {
    await notifier().post({ key: "review:evt_1", text: "Event evt_1 needs review" });
    expect(server.messages().map((m) => m.text)).toEqual(["Event evt_1 needs review"]);
    expect(server.requests[0]?.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(server.requests[0]?.rawBody ?? "null")).toEqual({ text: "Event evt_1 needs review" });
  });

  it("allows a short burst, then maps the per-webhook rate limit (about 1/s sustained) to TransientError with retryAfterMs", async () => {
    const n = notifier();
    for (const key of ["a", "b", "c", "d"]) await n.post({ key, text: `burst ${key}` });
    const err = await caught(n.post({ key: "e", text: "one too many" }));
    expect(err).toBeInstanceOf(TransientError);
    if (!(err instanceof TransientError)) return;
    expect(err.httpStatus).toBe(429);
    expect(err.retryAfterMs).toBe(1000);
    expect(err.vendorRequestId).toBe(server.requests[4]?.requestId);
    expect(server.messages()).toHaveLength(4);
  });

  it("honours an injected 429 Retry-After and treats 5xx as transient", async () => {
    server.failNext(1, 429, { retryAfterSeconds: 30 });
    server.failNext(1, 503);
    const e429 = await caught(notifier().post({ key: "a", text: "x" }));
    const e503 = await caught(notifier().post({ key: "a", text: "x" }));
    expect(e429 instanceof TransientError && e429.retryAfterMs).toBe(30_000);
    expect(e503 instanceof TransientError && e503.httpStatus).toBe(503);
  });

  it("maps 400 and 404 to PermanentError without leaking the webhook URL", async () => {
    server.failNext(1, 400, { body: "invalid_payload" });
    const e400 = await caught(notifier().post({ key: "a", text: "x" }));
    expect(e400).toBeInstanceOf(PermanentError);
    expect(e400 instanceof PermanentError && [e400.httpStatus, e400.message.includes("invalid_payload")]).toEqual([400, true]);

    const wrong = server.urlFor("/services/T000/B000/SECRETPATH");
    const e404 = await caught(notifier(wrong).post({ key: "a", text: "x" }));
    expect(e404).toBeInstanceOf(PermanentError);
    if (!(e404 instanceof PermanentError)) return;
    expect(e404.httpStatus).toBe(404);
    expect(e404.message).toContain("no_service");
    expect(e404.message).not.toContain("SECRETPATH");
    expect(e404.vendorRequestId).toMatch(/\S/);
  });

  it("rejects empty text locally; the server answers 400 no_text to a missing text", async () => {
    expect(await caught(notifier().post({ key: "a", text: "  " }))).toBeInstanceOf(PermanentError);
    expect(server.requests).toHaveLength(0);
    const res = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect([res.status, await res.text()]).toEqual([400, "no_text"]);
    const ok = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "hi" }) });
    expect([ok.status, ok.headers.get("content-type"), await ok.text()]).toEqual([200, "text/plain; charset=utf-8", "ok"]);
  });

  it("maps a closed port, a reset connection and a timeout to TransientError", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const { port } = s.address() as AddressInfo;
    await new Promise<void>((r) => s.close(() => r()));
    const closed = await caught(notifier(`http://127.0.0.1:${port}/services/T000/B000/XXXX`).post({ key: "a", text: "x" }));
    expect(closed).toBeInstanceOf(TransientError);
    expect(closed instanceof TransientError && closed.message).not.toContain("XXXX");

    server.setDown(true);
    expect(await caught(notifier().post({ key: "a", text: "x" }))).toBeInstanceOf(TransientError);
    server.setDown(false);

    server.setLatency(300);
    const slow = await caught(notifier(server.url, 50).post({ key: "a", text: "x" }));
    expect(slow).toBeInstanceOf(TransientError);
    expect(slow instanceof TransientError && slow.message).toContain("timed out");
  });
});
