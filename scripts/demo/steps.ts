/** Delivering one story step and checking the record it is about. */
import type { Auth } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import { setTimeout as sleep } from "node:timers/promises";
import { docsCausedBy, readCustomer, readOrder, str, type CustomerView, type OrderView } from "./records";
import { post, type DemoConfig } from "./stack";
import type { Cast, Step } from "./story";
// ---------------------------------------------------------------------------------------------------------------
// Running and checking

/** Compares only the fields a step names; arrays compare as sets because Firestore keeps entitlements sorted anyway. */
export function mismatches<T extends object>(what: string, actual: T, expected: Partial<T>): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(expected)) {
    const got: unknown = (actual as Record<string, unknown>)[key];
    const same =
      Array.isArray(want) && Array.isArray(got)
        ? want.length === got.length && want.every((w) => got.includes(w))
        : JSON.stringify(got) === JSON.stringify(want);
    if (!same) out.push(`${what}.${key} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
  return out;
}

export const show = (v: string | null): string => v ?? "–";

export function customerBrief(c: CustomerView): string {
  const flags = [c.delinquent ? "delinquent" : "", c.cancelAtPeriodEnd && c.subscriptionStatus !== "canceled" ? "cancels at period end" : ""];
  return [show(c.plan), show(c.subscriptionStatus), `${c.entitlements.length} entitlements`, ...flags.filter(Boolean)].join(" · ");
}

export function orderBrief(o: OrderView): string {
  return `order ${show(o.status)}${o.amountRefunded ? ` · refunded ${o.amountRefunded}` : ""}`;
}

export interface RunState {
  cfg: DemoConfig;
  db: Firestore;
  auth: Auth;
  cast: Cast;
  eventIds: Set<string>;
  failures: string[];
  n: number;
}

export async function duplicateFootprint(db: Firestore, eventId: string): Promise<number> {
  const [jobs, audits] = await Promise.all([docsCausedBy(db, "syncJobs", [eventId]), docsCausedBy(db, "auditLog", [eventId])]);
  return jobs.length + audits.length;
}

/** The ledger status once the apply ran (anything but `received`), or `received` after 90 s (a cold trigger on a busy machine). */
export async function settledLedger(db: Firestore, eventId: string): Promise<string> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const status = str((await db.collection("stripeEvents").doc(eventId).get()).get("status")) ?? "-";
    if (status !== "received" || Date.now() > deadline) return status;
    await sleep(100);
  }
}

/** Delivers one step and shows the record it is about (`view`): the subscriber, or the order. */
export async function runStep(run: RunState, step: Step, view: "customer" | "order"): Promise<void> {
  const { db, cast } = run;
  run.n += 1;
  const before = step.duplicate
    ? { footprint: await duplicateFootprint(db, step.event.id), customer: await readCustomer(db, cast.uid) }
    : null;
  const posted = await post(run.cfg, step.event);
  run.eventIds.add(step.event.id);
  // The webhook answers once the ledger entry is written (`received`); the ledger trigger applies it just after.
  const d = posted.http === 200 && posted.ledger === "received" ? { ...posted, ledger: await settledLedger(db, step.event.id) } : posted;

  let brief = "";
  const problems: string[] = [];
  if (d.http === 0) problems.push(`webhook timed out: ${d.error ?? ""}`);
  else if (d.http !== 200) problems.push(`HTTP ${d.http}${d.error ? `: ${d.error}` : ""}`);
  else if (d.ledger !== "applied") problems.push(`ledger status ${d.ledger}, expected applied`);
  if (step.duplicate && d.http === 200) {
    if (!d.duplicate) problems.push("redelivery was not recognised as a duplicate");
    const after = { footprint: await duplicateFootprint(db, step.event.id), customer: await readCustomer(db, cast.uid) };
    if (before && (after.footprint !== before.footprint || after.customer.updatedAt?.getTime() !== before.customer.updatedAt?.getTime())) {
      problems.push("redelivery changed state");
    }
    brief = "acknowledged, nothing changed";
  } else if (view === "customer") {
    const c = await readCustomer(db, cast.uid);
    problems.push(...mismatches("customer", c, step.customer ?? {}));
    brief = customerBrief(c);
  } else {
    const o = await readOrder(db, cast.orderId);
    problems.push(...mismatches("order", o, step.order ?? {}));
    brief = orderBrief(o);
  }

  const ledger = `${d.ledger}${d.duplicate ? " (duplicate)" : ""}`;
  const mark = problems.length ? "✗" : "✓";
  console.log(
    ` ${mark} ${String(run.n).padStart(2)}. ${step.label.padEnd(30)} ${step.event.type.padEnd(32)} → ${d.http || "timeout"} → ${ledger.padEnd(20)} ${brief}`,
  );
  for (const p of problems) {
    console.log(`        ${p}`);
    run.failures.push(`step ${run.n} (${step.event.type}): ${p}`);
  }
}

