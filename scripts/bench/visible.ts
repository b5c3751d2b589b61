/**
 * Visible latency, background triggers ON: from a delivery to the moment the ledger trigger (onStripeEventRecorded)
 * has applied it — ledger `appliedAt - receivedAt` (both set by the functions, same clock), and what a client sees:
 * from sending the delivery until a poll of the ledger entry shows it applied. The apply writes customers/{uid} in the
 * same transaction as the ledger status, so the customer record changes at the same commit; the bench checks that
 * through the two documents' update times. A chain's next event is sent once the previous one is visible.
 */
import type { Firestore } from "firebase-admin/firestore";
import { deliverAll, postEvent, REQUEST_TIMEOUT_MS, TARGETS, webhookAck } from "./http";
import { Poller } from "./poller";
import { cpuBusy, cpuTimes, f0, f1, latency, table, type Latency, type Out } from "./stats";
import { buildWorkload, runChains, type Delivery } from "./workload";

const POLL_MS = 20;
const WAIT_MS = 30_000;

interface Applied {
  status: string;
  receivedAt: number;
  appliedAt: number;
  /** customers/{uid} was written by the apply's commit (same update time as the ledger entry). */
  customerSameCommit: boolean | null;
}

export interface VisibleRound {
  concurrency: number;
  events: number;
  server: Latency;
  client: Latency;
  afterAck: Latency;
  ack: Latency;
  timeouts: number;
  errors: string[];
  statuses: Record<string, number>;
  customerChecked: number;
  customerSameCommit: number;
  cpu: number;
}

const millis = (v: unknown): number => (v && typeof v === "object" && "toMillis" in v && typeof v.toMillis === "function" ? Number(v.toMillis()) : NaN);

function appliedPoller(db: Firestore, uidOf: Map<string, string | null>): Poller<Applied> {
  return new Poller<Applied>(
    async (ids) => {
      const refs = ids.flatMap((id) => {
        const uid = uidOf.get(id);
        return [db.collection("stripeEvents").doc(id), ...(uid ? [db.collection("customers").doc(uid)] : [])];
      });
      const snaps = new Map((await db.getAll(...refs)).map((s) => [s.ref.path, s]));
      const found = new Map<string, Applied>();
      for (const id of ids) {
        const ledger = snaps.get(`stripeEvents/${id}`);
        const status = ledger?.get("status");
        if (!ledger?.exists || typeof status !== "string" || status === "received") continue;
        const uid = uidOf.get(id);
        const cust = uid ? snaps.get(`customers/${uid}`) : undefined;
        found.set(id, {
          status,
          receivedAt: millis(ledger.get("receivedAt")),
          appliedAt: millis(ledger.get("appliedAt")),
          customerSameCommit: cust ? Boolean(cust.exists && cust.updateTime && ledger.updateTime && cust.updateTime.isEqual(ledger.updateTime)) : null,
        });
      }
      return found;
    },
    POLL_MS,
    WAIT_MS,
  );
}

export async function visibleRound(db: Firestore, secret: string, c: number, events: number): Promise<VisibleRound> {
  const target = TARGETS.webhook;
  // Warm-up at the same concurrency (not measured): the ledger trigger's workers.
  await deliverAll(target, secret, buildWorkload(`viswarm${c}`, Math.max(12, 3 * c), 5).chains, c, REQUEST_TIMEOUT_MS);
  const workload = buildWorkload(`vis${c}`, events, 11 + c);
  const uidOf = new Map<string, string | null>();
  const poll = appliedPoller(db, uidOf);
  const r = { server: [] as number[], client: [] as number[], afterAck: [] as number[], ack: [] as number[], timeouts: 0, errors: [] as string[] };
  const statuses: Record<string, number> = {};
  let customerChecked = 0;
  let customerSameCommit = 0;
  const cpu0 = cpuTimes();
  await runChains(workload.chains, c, async (d: Delivery) => {
    const posted = await postEvent(target.url, secret, d.event, REQUEST_TIMEOUT_MS);
    const ack = webhookAck(posted.body);
    if (!ack) {
      r.errors.push(`${d.kind} ${d.event.id}: ${posted.error ?? "no ack"}`);
      return;
    }
    if (d.redelivery) return; // a duplicate changes nothing: nothing to see
    r.ack.push(posted.ms);
    uidOf.set(d.event.id, d.uid);
    const seen = await poll.wait(d.event.id, posted.doneAt);
    if (!seen) {
      r.timeouts += 1;
      return;
    }
    statuses[seen.value.status] = (statuses[seen.value.status] ?? 0) + 1;
    r.server.push(seen.value.appliedAt - seen.value.receivedAt);
    r.client.push(seen.seenAt - posted.sentAt);
    r.afterAck.push(seen.seenAt - posted.doneAt);
    if (seen.value.customerSameCommit !== null) {
      customerChecked += 1;
      if (seen.value.customerSameCommit) customerSameCommit += 1;
    }
  });
  return {
    concurrency: c,
    events: r.server.length,
    server: latency(r.server),
    client: latency(r.client),
    afterAck: latency(r.afterAck),
    ack: latency(r.ack),
    timeouts: r.timeouts,
    errors: r.errors,
    statuses,
    customerChecked,
    customerSameCommit,
    cpu: cpuBusy(cpu0, cpuTimes()),
  };
}

/** Prints the section; returns true if it failed (timeouts or non-200s). */
export function reportVisible(rounds: VisibleRound[], out: Out): boolean {
  out("");
  out("VISIBLE  delivery -> ack (ledger create) -> onStripeEventRecorded applies -> ledger appliedAt + customers/{uid} (ms). Triggers ON.");
  out(`  server = ledger appliedAt - receivedAt. client = from sending the delivery until a poll (every ${POLL_MS} ms) sees it applied; after-ack = from the 200.`);
  out(
    table(
      ["conc", "n", "timeouts", "ack p50", "server p50", "p95", "max", "client p50", "p95", "max", "after-ack p50", "p95", "cpu%"],
      rounds.map((v) => [
        String(v.concurrency), String(v.events), String(v.timeouts), f1(v.ack.p50), f0(v.server.p50), f0(v.server.p95), f0(v.server.max),
        f0(v.client.p50), f0(v.client.p95), f0(v.client.max), f0(v.afterAck.p50), f0(v.afterAck.p95), f0(v.cpu),
      ]),
    ),
  );
  let failed = false;
  for (const v of rounds) {
    out(
      `  c=${v.concurrency} statuses: ${Object.entries(v.statuses).map(([k, n]) => `${k} ${n}`).join(", ")}; customers/{uid} written in the apply's ` +
        `commit for ${v.customerSameCommit}/${v.customerChecked} lifecycle events (the rest changed nothing on the record)`,
    );
    if (v.timeouts || v.errors.length) {
      failed = true;
      out(`FAIL: c=${v.concurrency}: ${v.timeouts} not applied within ${WAIT_MS / 1000} s, ${v.errors.length} not acked${v.errors[0] ? `: ${v.errors[0]}` : ""}`);
    }
  }
  return failed;
}
