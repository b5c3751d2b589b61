/** The sweep's re-check of an incident from its listed jobs (a crash between a job's success and its settling). */
import { describe, expect, it } from "vitest";
import { jobKey, recoveryKey } from "../../functions/src/domain/incidents";
import { recheckIncident, type ListedJob } from "../../functions/src/domain/incidentRecheck";

const ID = "incident.crm.http_5xx";
const job = (jobId: string, uid: string, status: ListedJob["status"], extra: Partial<ListedJob> = {}): ListedJob => ({
  jobId, kind: "crm.contact.upsert", target: { uid }, status, incidentId: status === "succeeded" ? null : ID, updatedAt: new Date(1_000), ...extra,
});
const incident = (uids: string[], extra: Record<string, unknown> = {}) => ({
  type: "incident", status: "open", sink: "crm", untrackedJobs: 0,
  openKeys: [...uids.map((u) => jobKey("crm.contact.upsert", { uid: u })), recoveryKey("crm")], ...extra,
});

describe("recheckIncident", () => {
  it("resolves when every listed job succeeded (the recovery key does not hold it open)", () => {
    expect(recheckIncident(ID, incident(["a", "b"]), [job("ja", "a", "succeeded"), job("jb", "b", "succeeded")])).toEqual({ resolve: true });
  });

  it("stays open while one job is dead or still retrying for this cause", () => {
    expect(recheckIncident(ID, incident(["a", "b"]), [job("ja", "a", "succeeded"), job("jb", "b", "dead")])).toEqual({ resolve: false, reason: "still_failing" });
    expect(recheckIncident(ID, incident(["a"]), [job("ja", "a", "retrying")])).toEqual({ resolve: false, reason: "still_failing" });
  });

  it("a dead job superseded by a newer succeeded job of the same kind and target no longer holds it open", () => {
    const old = job("j1", "a", "dead", { updatedAt: new Date(1_000) });
    const newer = job("j2", "a", "succeeded", { updatedAt: new Date(2_000) });
    expect(recheckIncident(ID, incident(["a"]), [old, newer])).toEqual({ resolve: true });
    expect(recheckIncident(ID, incident(["a"]), [{ ...old, updatedAt: new Date(3_000) }, newer])).toEqual({ resolve: false, reason: "still_failing" });
  });

  it("a job now failing for another cause belongs to that incident, not this one", () => {
    expect(recheckIncident(ID, incident(["a"]), [job("ja", "a", "dead", { incidentId: "incident.crm.http_409.customer:a" })])).toEqual({ resolve: true });
  });

  it("cannot judge untracked jobs, a key without a listed job, or what is not an open incident", () => {
    expect(recheckIncident(ID, incident(["a"], { untrackedJobs: 3 }), [job("ja", "a", "succeeded")])).toEqual({ resolve: false, reason: "untracked_jobs" });
    expect(recheckIncident(ID, incident(["a", "b"]), [job("ja", "a", "succeeded"), null])).toEqual({ resolve: false, reason: "key_without_job" });
    expect(recheckIncident(ID, incident(["a"], { status: "resolved" }), [job("ja", "a", "succeeded")])).toEqual({ resolve: false, reason: "not_open" });
    expect(recheckIncident("failure_rate_jobs", { type: "failure_rate", status: "open", openKeys: [] }, [])).toEqual({ resolve: false, reason: "not_open" });
  });
});
