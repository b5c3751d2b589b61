/**
 * Every event type of the Stripe API version opsync pins (read from the stripe package's own type
 * definitions), with a minimal object — with and without an `id`, as some types send — answers 200 and leaves a
 * ledger entry with a status: an endpoint subscribed to all events never makes Stripe retry for days.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { LEDGER_STATUSES } from "../../functions/src/domain/model";
import { isHandledEventType } from "../../functions/src/domain/normalize";
import { deliver } from "../support/deliver";
import { resetFirestore, testDb } from "../support/firestore";
import { stripeEvent, uniq, type EventType } from "../support/stripeFixtures";

/** `type → object name` for every event in stripe's Events.d.ts (e.g. `customer.subscription.created → subscription`). */
function eventCatalogue(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const dts = readFileSync(join(dirname(require.resolve("stripe")), "resources", "Events.d.ts"), "utf8");
  const union = /type Type = ([^;]+);/.exec(dts)?.[1] ?? "";
  const types = [...union.matchAll(/'([a-z0-9_.]+)'/g)].map((m) => m[1] as string);
  const out = new Map<string, string>();
  for (const type of types) {
    const iface = new RegExp(`type: '${type.replace(/\./g, "\\.")}';\\s*data: (\\w+)\\.Data;`).exec(dts)?.[1];
    const objectType = iface ? new RegExp(`namespace ${iface} \\{\\s*interface Data extends Event\\.Data \\{\\s*object: ([\\w.]+);`).exec(dts)?.[1] : undefined;
    const name = (objectType ?? "unknown").replace(/^Stripe\./, "").split(".").map(snake).join(".");
    out.set(type, name);
  }
  return out;
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

describe("every Stripe event type answers 200 with a ledger status", () => {
  const db = testDb();
  const catalogue = eventCatalogue();
  beforeAll(resetFirestore);

  it("reads the catalogue from the stripe package", () => {
    expect(catalogue.size).toBeGreaterThan(200);
    expect(catalogue.get("customer.subscription.created")).toBe("subscription");
    expect(catalogue.get("checkout.session.completed")).toBe("checkout.session");
  });

  it("each type, with and without data.object.id", async () => {
    const problems: string[] = [];
    const statuses = new Map<string, number>();
    for (const [type, objectName] of catalogue) {
      for (const withId of [true, false]) {
        const object: Record<string, unknown> = { object: objectName };
        if (withId) object.id = uniq(objectName.split(".").pop()?.slice(0, 4) ?? "obj");
        const event = stripeEvent(type as EventType, object as never);
        // Stripe sends `previous_attributes: null` on some types; accepted like an absent one.
        if (!withId) Object.assign(event.data, { previous_attributes: null });
        const res = await deliver(db, event);
        const ledger = await db.collection("stripeEvents").doc(event.id).get();
        const status = String(ledger.get("status"));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (res.status !== 200) problems.push(`${type} (id: ${withId}) → ${res.status} ${JSON.stringify(res.body)}`);
        else if (!(LEDGER_STATUSES as readonly string[]).includes(status)) problems.push(`${type} → ledger status ${status}`);
        else if (status === "failed" && !ledger.get("reason")) problems.push(`${type} failed without a reason`);
        else if (!isHandledEventType(type) && status !== "ignored") problems.push(`${type} is not handled but was ${status}`);
      }
    }
    expect(problems).toEqual([]);
    expect(statuses.get("ignored") ?? 0).toBeGreaterThan(catalogue.size);
  }, 300_000);
});
