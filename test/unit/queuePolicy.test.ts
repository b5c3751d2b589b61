import { describe, expect, it } from "vitest";
import { planLiveWrite, liveJobId } from "../../functions/src/domain/coalesce";
import { extendBlock, holdsLease, leaseMsFor, RUN_SYNC_JOB_TIMEOUT_SECONDS, sinkStatusAfter, wakeAt } from "../../functions/src/domain/queuePolicy";

const at = new Date(1_000_000);

describe("queue policy", () => {
  it("a lease covers the longest run and stays under the function timeout", () => {
    expect(leaseMsFor({ callTimeoutMs: 20_000, maxCallsPerJob: 8, marginMs: 20_000 })).toBe(180_000);
    expect(leaseMsFor()).toBeLessThan(RUN_SYNC_JOB_TIMEOUT_SECONDS * 1000);
  });
  it("only the worker named on a running job, before its lease ends, owns it", () => {
    const job = { status: "running" as const, workerId: "w1", leaseExpiresAt: new Date(at.getTime() + 10) };
    expect(holdsLease(job, "w1", at)).toBe(true);
    expect(holdsLease(job, "w2", at)).toBe(false);
    expect(holdsLease(job, "w1", new Date(at.getTime() + 10))).toBe(false);
    expect(holdsLease({ ...job, status: "succeeded" }, "w1", at)).toBe(false);
  });
  it("a block only grows; wake-ups spread after it", () => {
    const late = new Date(at.getTime() + 30_000);
    expect(extendBlock(late, new Date(at.getTime() + 1_000))).toBe(late);
    expect(extendBlock(null, late)).toBe(late);
    expect(wakeAt(late, () => 0).getTime()).toBe(late.getTime());
    expect(wakeAt(late, () => 1, 5_000).getTime()).toBe(late.getTime() + 5_000);
  });
  it("synced only when nothing else of the sink waits or is dead", () => {
    expect(sinkStatusAfter("succeeded", [])).toBe("synced");
    expect(sinkStatusAfter("succeeded", [{ status: "pending" }])).toBe("pending");
    expect(sinkStatusAfter("succeeded", [{ status: "dead" }])).toBe("failed");
    expect(sinkStatusAfter("retrying", [])).toBe("pending");
    expect(sinkStatusAfter("dead", [{ status: "pending" }])).toBe("failed");
  });
  it("one live job per kind and target: start, fold into a waiting run, or ask a running one for one more", () => {
    expect(liveJobId({ kind: "crm.contact.upsert", target: { uid: "u1" }, idempotencyKey: "contact:u1", reason: null })).toBe("live.crm.contact.upsert.u1");
    expect(liveJobId({ kind: "helpdesk.ticket.create", target: { uid: "u1" }, idempotencyKey: "t", reason: null })).toBeNull();
    expect(planLiveWrite(null, "crm.contact.upsert", at)).toEqual({ action: "start", nextAttemptAt: new Date(at.getTime() + 2_000) });
    expect(planLiveWrite({ status: "succeeded" }, "auth.claims.update", at)).toEqual({ action: "start", nextAttemptAt: at });
    expect(planLiveWrite({ status: "retrying" }, "crm.contact.upsert", at)).toEqual({ action: "fold" });
    expect(planLiveWrite({ status: "running" }, "crm.contact.upsert", at)).toEqual({ action: "rerun" });
  });
});
