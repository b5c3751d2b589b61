/**
 * firestore.rules, cell by cell: every principal × every collection × get / list / create / update / delete runs
 * against the real Firestore emulator and must be allowed exactly where MATRIX says (assertSucceeds) and refused
 * everywhere else (assertFails). Shape cases below the matrix cover what one cell cannot: the admin-editable
 * customer fields, the supportRequests schema, constrained order lists, collection-group reads and odd claims.
 * docs/security.md shows the same matrix as a table.
 */
import { readFileSync } from "node:fs";
import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  type RulesTestContext,
  type RulesTestEnvironment,
} from "@firebase/rules-unit-testing";
import {
  collection,
  collectionGroup,
  deleteDoc,
  deleteField,
  doc,
  getDoc,
  getDocs,
  query,
  serverTimestamp,
  setDoc,
  Timestamp,
  updateDoc,
  where,
  type DocumentData,
  type Firestore,
  type Query,
} from "firebase/firestore";
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from "vitest";

const PROJECT_ID = "demo-opsync";

// ---- Principals -------------------------------------------------------------------------------------------
const PRINCIPALS = ["anonymous", "customerA", "customerB", "buyer", "seller", "support", "finance", "admin"] as const;
type Principal = (typeof PRINCIPALS)[number];

const UID: Record<Exclude<Principal, "anonymous">, string> = {
  customerA: "uid-a",
  customerB: "uid-b",
  buyer: "uid-buyer",
  seller: "uid-seller",
  support: "uid-support",
  finance: "uid-finance",
  admin: "uid-admin",
};
const CLAIMS: Partial<Record<Principal, Record<string, boolean>>> = {
  support: { support: true },
  finance: { finance: true },
  admin: { admin: true },
};
const STAFF: readonly Principal[] = ["support", "finance", "admin"];
const uidOf = (p: Principal): string => (p === "anonymous" ? "nobody" : UID[p]);

// ---- Collections (one target document each) ---------------------------------------------------------------
const OPS = ["get", "list", "create", "update", "delete"] as const;
type Op = (typeof OPS)[number];

const ROWS = [
  "customers",
  "customers/private/billing",
  "customers/staff/notes",
  "stripeCustomers",
  "stripeEvents",
  "stripeObjects",
  "orders",
  "syncJobs",
  "auditLog",
  "reviewQueue",
  "ops",
  "alerts",
  "sinkState",
  "supportRequests",
  "apiKeys",
  "rateLimits",
] as const;
type Row = (typeof ROWS)[number];

/**
 * The expected allowed set: principal lists per collection and operation. Any cell not listed is denied.
 * Targets: customers/uid-a (customer A's record), orders/order-1 (buyer → seller), supportRequests/req-a (filed
 * by customer A). Lists by non-staff use the best query they could make (constrained to their own uid where the
 * collection has an owner field); staff list the whole collection.
 */
const MATRIX: Record<Row, Partial<Record<Op, readonly Principal[]>>> = {
  customers: { get: ["customerA", ...STAFF], list: STAFF, update: ["admin"] },
  "customers/private/billing": { get: ["finance", "admin"], list: ["finance", "admin"] },
  // Staff-only notes: the customer never reads them; finance neither. Only an admin writes internalNotes.
  "customers/staff/notes": { get: ["support", "admin"], list: ["support", "admin"], create: ["admin"], update: ["admin"] },
  stripeCustomers: { get: ["admin"], list: ["admin"] },
  stripeEvents: { get: ["finance", "admin"], list: ["finance", "admin"] },
  stripeObjects: { get: ["admin"], list: ["admin"] },
  // Lists: every signed-in user may list orders constrained to their own buyerUid/sellerUid (empty for A and B).
  orders: {
    get: ["buyer", "seller", ...STAFF],
    list: ["customerA", "customerB", "buyer", "seller", ...STAFF],
  },
  syncJobs: { get: ["support", "admin"], list: ["support", "admin"] },
  auditLog: { get: ["admin"], list: ["admin"] },
  reviewQueue: { get: ["admin"], list: ["admin"] },
  ops: { get: ["admin"], list: ["admin"] },
  alerts: { get: ["support", "admin"], list: ["support", "admin"] },
  sinkState: { get: ["admin"], list: ["admin"] },
  // create: any signed-in user, for themselves, with a valid body (staff are app users too).
  supportRequests: {
    get: ["customerA", "support", "admin"],
    list: ["support", "admin"],
    create: ["customerA", "customerB", "buyer", "seller", ...STAFF],
  },
  apiKeys: {},
  rateLimits: {},
};

const TARGET: Record<Row, string> = {
  customers: "customers/uid-a",
  "customers/private/billing": "customers/uid-a/private/billing",
  "customers/staff/notes": "customers/uid-a/staff/notes",
  stripeCustomers: "stripeCustomers/cus_A",
  stripeEvents: "stripeEvents/evt_1",
  stripeObjects: "stripeObjects/pi_1",
  orders: "orders/order-1",
  syncJobs: "syncJobs/evt_1.crm.contact.upsert.uid-a",
  auditLog: "auditLog/audit-1",
  reviewQueue: "reviewQueue/evt_2",
  ops: "ops/automation",
  alerts: "alerts/job-dead-1",
  sinkState: "sinkState/crm",
  supportRequests: "supportRequests/req-a",
  apiKeys: "apiKeys/key-1",
  rateLimits: "rateLimits/ip-1",
};

const at = Timestamp.fromDate(new Date("2026-01-01T00:00:00Z"));

const SEED: Record<string, DocumentData> = {
  "customers/uid-a": { uid: "uid-a", email: "a@example.com", plan: "pro", entitlements: ["reports"], supportTier: "standard", createdAt: at },
  "customers/uid-b": { uid: "uid-b", email: "b@example.com", plan: null, entitlements: [], supportTier: "free", createdAt: at },
  "customers/uid-a/private/billing": { uid: "uid-a", stripeCustomerId: "cus_A", invoices: {}, updatedAt: at },
  "customers/uid-b/private/billing": { uid: "uid-b", stripeCustomerId: "cus_B", invoices: {}, updatedAt: at },
  "customers/uid-a/private/stripe": { objects: {}, updatedAt: at },
  "orders/order-1/private/stripe": { objects: {}, updatedAt: at },
  "customers/uid-a/staff/notes": {
    uid: "uid-a",
    internalNotes: "Called twice about invoices.",
    lastEditedBy: "uid-other-admin",
    tickets: { "failed-renewal:in_1": { notes: [{ note: "Followed up", by: "uid-support", at }] } },
    updatedAt: at,
  },
  "stripeCustomers/cus_A": { stripeCustomerId: "cus_A", uid: "uid-a", source: "stripe:evt_1", createdAt: at },
  "stripeEvents/evt_1": { eventId: "evt_1", type: "invoice.paid", status: "applied", uid: "uid-a", receivedAt: at },
  "stripeObjects/pi_1": { objectType: "payment_intent", uid: "uid-buyer", orderId: "order-1", updatedAt: at },
  "orders/order-1": { orderId: "order-1", buyerUid: "uid-buyer", sellerUid: "uid-seller", status: "paid", amount: 5000, currency: "eur" },
  "orders/order-2": { orderId: "order-2", buyerUid: "uid-b", sellerUid: "uid-seller", status: "completed", amount: 700, currency: "eur" },
  "syncJobs/evt_1.crm.contact.upsert.uid-a": { kind: "crm.contact.upsert", status: "succeeded", target: { uid: "uid-a" }, createdAt: at },
  "auditLog/audit-1": { actor: { type: "stripe", id: "evt_1" }, action: "customer.update", target: "customers/uid-a", at },
  "reviewQueue/evt_2": { eventId: "evt_2", reason: "unmapped_customer", status: "open", stripeCustomerId: "cus_X", createdAt: at },
  "ops/automation": { paused: false, reason: null, by: null, at },
  "alerts/job-dead-1": { alertId: "job-dead-1", type: "sync_job_dead", status: "open", createdAt: at },
  "sinkState/crm": { blockedUntil: null, reason: null, updatedAt: at },
  "supportRequests/req-a": { uid: "uid-a", subject: "Invoice", message: "Where is my invoice?", category: "billing", createdAt: at },
  "supportRequests/req-b": { uid: "uid-b", subject: "Login", message: "Cannot log in", category: "account", createdAt: at },
  "apiKeys/key-1": { hash: "sha256:0000", name: "ci", roles: ["support"], createdAt: at },
  "rateLimits/ip-1": { count: 3, windowStart: at },
};

/** A valid support request body from `uid` (what the app sends). */
function supportRequest(uid: string, extra: DocumentData = {}): DocumentData {
  return { uid, subject: "Refund", message: "Please refund order-1", category: "order", createdAt: serverTimestamp(), ...extra };
}

/** The list query principal `p` would make on `row`. */
function listQuery(db: Firestore, row: Row, p: Principal): Query {
  const signedInNonStaff = p !== "anonymous" && !STAFF.includes(p);
  switch (row) {
    case "customers/private/billing":
      return collection(db, "customers/uid-a/private");
    case "customers/staff/notes":
      return collection(db, "customers/uid-a/staff");
    case "orders":
      if (!signedInNonStaff) return collection(db, "orders");
      return query(collection(db, "orders"), where(p === "seller" ? "sellerUid" : "buyerUid", "==", uidOf(p)));
    case "customers":
    case "supportRequests":
      if (!signedInNonStaff) return collection(db, row);
      return query(collection(db, row), where("uid", "==", uidOf(p)));
    default:
      return collection(db, row);
  }
}

function createTarget(row: Row, p: Principal): string {
  if (row === "customers") return `customers/${uidOf(p)}-new`;
  if (row === "customers/private/billing") return `customers/${uidOf(p)}/private/billing`;
  // uid-b has a record but no notes yet: creating them is what an admin's first note does.
  if (row === "customers/staff/notes") return "customers/uid-b/staff/notes";
  return `${row}/created-by-${p}`;
}

function createData(row: Row, p: Principal): DocumentData {
  if (row === "supportRequests") return supportRequest(uidOf(p));
  if (row === "customers/staff/notes") return { internalNotes: "Prefers email.", lastEditedBy: uidOf(p) };
  return { uid: uidOf(p), probe: "created", createdAt: at };
}

function updateData(row: Row, p: Principal): DocumentData {
  if (row === "customers") return { supportTier: "priority", lastEditedBy: uidOf(p) };
  if (row === "customers/staff/notes") return { internalNotes: "Called three times now.", lastEditedBy: uidOf(p) };
  if (row === "supportRequests") return { status: "closed" };
  if (row === "orders") return { status: "completed" };
  return { probe: "updated" };
}

// ---- Environment --------------------------------------------------------------------------------------------
let env: RulesTestEnvironment;
const contexts = new Map<Principal, RulesTestContext>();

function dbOf(p: Principal): Firestore {
  const ctx = contexts.get(p);
  if (!ctx) throw new Error(`no context for ${p}`);
  // rules-unit-testing hands out the compat instance; the modular functions accept it.
  return ctx.firestore() as unknown as Firestore;
}

function asUser(uid: string, claims: Record<string, unknown> = {}): Firestore {
  return env.authenticatedContext(uid, claims).firestore() as unknown as Firestore;
}

async function seed(): Promise<void> {
  await env.clearFirestore();
  await env.withSecurityRulesDisabled(async (ctx) => {
    const db = ctx.firestore() as unknown as Firestore;
    await Promise.all(Object.entries(SEED).map(([path, data]) => setDoc(doc(db, path), data)));
  });
}

beforeAll(async () => {
  const emulatorHost = process.env.FIRESTORE_EMULATOR_HOST;
  if (!emulatorHost) throw new Error("FIRESTORE_EMULATOR_HOST is not set; run with test/vitest.integration.config.mts");
  const [host, port] = emulatorHost.split(":");
  env = await initializeTestEnvironment({
    projectId: PROJECT_ID,
    firestore: { host: host ?? "127.0.0.1", port: Number(port), rules: readFileSync("firestore.rules", "utf8") },
  });
  for (const p of PRINCIPALS) {
    contexts.set(p, p === "anonymous" ? env.unauthenticatedContext() : env.authenticatedContext(UID[p], CLAIMS[p] ?? {}));
  }
});

afterAll(async () => {
  await env?.cleanup();
});

// The seed is rewritten only after a write went through (every read and every refused write leaves it as is).
let dirty = true;
beforeEach(async () => {
  if (!dirty) return;
  await seed();
  dirty = false;
});

function run(db: Firestore, row: Row, op: Op, p: Principal): Promise<unknown> {
  switch (op) {
    case "get":
      return getDoc(doc(db, TARGET[row]));
    case "list":
      return getDocs(listQuery(db, row, p));
    case "create":
      return setDoc(doc(db, createTarget(row, p)), createData(row, p));
    case "update":
      return updateDoc(doc(db, TARGET[row]), updateData(row, p));
    case "delete":
      return deleteDoc(doc(db, TARGET[row]));
  }
}

// ---- The matrix ---------------------------------------------------------------------------------------------
const CELLS = ROWS.flatMap((row) =>
  OPS.flatMap((op) =>
    PRINCIPALS.map((p) => ({ row, op, p, allowed: (MATRIX[row][op] ?? []).includes(p) })),
  ),
);

describe(`rules matrix (${PRINCIPALS.length} principals × ${ROWS.length} collections × ${OPS.length} ops = ${CELLS.length} cells)`, () => {
  for (const row of ROWS) {
    describe(row, () => {
      for (const cell of CELLS.filter((c) => c.row === row)) {
        it(`${cell.p} ${cell.op}: ${cell.allowed ? "allowed" : "denied"}`, async () => {
          const attempt = run(dbOf(cell.p), cell.row, cell.op, cell.p);
          if (cell.op !== "get" && cell.op !== "list") attempt.then(() => (dirty = true), () => undefined);
          if (cell.allowed) await assertSucceeds(attempt);
          else await assertFails(attempt);
        });
      }
    });
  }
});

// ---- Shape cases ---------------------------------------------------------------------------------------------
describe("admin-editable customer fields", () => {
  afterEach(() => {
    dirty = true;
  });
  const A = "customers/uid-a";
  const edit = (db: Firestore, data: DocumentData) => updateDoc(doc(db, A), data);

  it("admin changes supportTier, stamped with their own uid", async () => {
    await assertSucceeds(edit(dbOf("admin"), { supportTier: "priority", lastEditedBy: UID.admin }));
  });
  it("admin cannot put internalNotes on the record the customer reads (they live in staff/notes)", async () => {
    await assertFails(edit(dbOf("admin"), { internalNotes: "VIP, handle with care", lastEditedBy: UID.admin }));
    await assertFails(edit(dbOf("admin"), { supportTier: "priority", internalNotes: "x", lastEditedBy: UID.admin }));
  });
  it("admin without lastEditedBy is refused", async () => {
    await assertFails(edit(dbOf("admin"), { supportTier: "priority" }));
  });
  it("admin stamping someone else's uid is refused", async () => {
    await assertFails(edit(dbOf("admin"), { supportTier: "priority", lastEditedBy: UID.support }));
  });
  it("admin changing any other field is refused", async () => {
    await assertFails(edit(dbOf("admin"), { plan: "enterprise", lastEditedBy: UID.admin }));
    await assertFails(edit(dbOf("admin"), { supportTier: "priority", entitlements: ["all"], lastEditedBy: UID.admin }));
    await assertFails(edit(dbOf("admin"), { email: "x@example.com", lastEditedBy: UID.admin }));
  });
  it("admin setting a non-string or oversized value is refused", async () => {
    await assertFails(edit(dbOf("admin"), { supportTier: 3, lastEditedBy: UID.admin }));
    await assertFails(edit(dbOf("admin"), { supportTier: "", lastEditedBy: UID.admin }));
    await assertFails(edit(dbOf("admin"), { supportTier: "s".repeat(51), lastEditedBy: UID.admin }));
  });
  it("admin cannot replace the whole record, create or delete one", async () => {
    await assertFails(setDoc(doc(dbOf("admin"), A), { uid: "uid-a", supportTier: "priority", lastEditedBy: UID.admin }));
    await assertFails(setDoc(doc(dbOf("admin"), "customers/uid-new"), { supportTier: "priority", lastEditedBy: UID.admin }));
    await assertFails(deleteDoc(doc(dbOf("admin"), A)));
  });
  it("support, finance and the customer themself cannot edit those fields", async () => {
    await assertFails(edit(dbOf("support"), { supportTier: "priority", lastEditedBy: UID.support }));
    await assertFails(edit(dbOf("finance"), { supportTier: "priority", lastEditedBy: UID.finance }));
    await assertFails(edit(dbOf("customerA"), { supportTier: "priority", lastEditedBy: UID.customerA }));
  });
  it("a claim that is not boolean true grants nothing", async () => {
    await assertFails(edit(asUser("uid-fake", { admin: "true" }), { supportTier: "priority", lastEditedBy: "uid-fake" }));
    await assertFails(getDoc(doc(asUser("uid-fake2", { admin: false, support: 1 }), A)));
  });
});

describe("staff notes (customers/{uid}/staff/notes)", () => {
  afterEach(() => {
    dirty = true;
  });
  const NOTES = "customers/uid-a/staff/notes";
  const edit = (db: Firestore, data: DocumentData) => updateDoc(doc(db, NOTES), data);

  it("the customer reads internalNotes nowhere: not the notes, not their subcollection, not a collection group", async () => {
    await assertFails(getDoc(doc(dbOf("customerA"), NOTES)));
    await assertFails(getDocs(collection(dbOf("customerA"), "customers/uid-a/staff")));
    await assertFails(getDocs(query(collectionGroup(dbOf("customerA"), "staff"), where("uid", "==", UID.customerA))));
    const own = await getDoc(doc(dbOf("customerA"), "customers/uid-a"));
    if (own.get("internalNotes") !== undefined || own.get("lastEditedBy") !== undefined) throw new Error("staff fields on the customer's record");
  });
  it("admin changes and clears internalNotes, stamped with their own uid", async () => {
    await assertSucceeds(edit(dbOf("admin"), { internalNotes: "VIP, handle with care", lastEditedBy: UID.admin }));
    await assertSucceeds(edit(dbOf("admin"), { internalNotes: deleteField(), lastEditedBy: UID.admin }));
  });
  it("admin creates the notes of a customer who has none, but not for a customer who does not exist", async () => {
    await assertSucceeds(setDoc(doc(dbOf("admin"), "customers/uid-b/staff/notes"), { internalNotes: "New", lastEditedBy: UID.admin }));
    await assertFails(setDoc(doc(dbOf("admin"), "customers/uid-nobody/staff/notes"), { internalNotes: "New", lastEditedBy: UID.admin }));
  });
  it("admin without lastEditedBy, or stamping someone else's uid, is refused", async () => {
    await assertFails(edit(dbOf("admin"), { internalNotes: "x" }));
    await assertFails(edit(dbOf("admin"), { internalNotes: "x", lastEditedBy: UID.support }));
    await assertFails(setDoc(doc(dbOf("admin"), "customers/uid-b/staff/notes"), { internalNotes: "x", lastEditedBy: UID.support }));
  });
  it("admin cannot change the server's fields (ticket notes, updatedAt), other documents, or oversized notes", async () => {
    await assertFails(edit(dbOf("admin"), { tickets: {}, lastEditedBy: UID.admin }));
    await assertFails(edit(dbOf("admin"), { internalNotes: "x", updatedAt: Timestamp.now(), lastEditedBy: UID.admin }));
    await assertFails(edit(dbOf("admin"), { internalNotes: "x".repeat(10_001), lastEditedBy: UID.admin }));
    await assertFails(edit(dbOf("admin"), { internalNotes: 42, lastEditedBy: UID.admin }));
    await assertFails(setDoc(doc(dbOf("admin"), "customers/uid-b/staff/other"), { internalNotes: "x", lastEditedBy: UID.admin }));
    await assertFails(setDoc(doc(dbOf("admin"), "customers/uid-b/staff/notes"), { internalNotes: "x", tickets: {}, lastEditedBy: UID.admin }));
  });
  it("admin cannot replace or delete the notes", async () => {
    await assertFails(setDoc(doc(dbOf("admin"), NOTES), { internalNotes: "x", lastEditedBy: UID.admin }));
    await assertFails(deleteDoc(doc(dbOf("admin"), NOTES)));
  });
  it("support reads but cannot write; finance and the customer can do neither", async () => {
    await assertSucceeds(getDoc(doc(dbOf("support"), NOTES)));
    await assertFails(edit(dbOf("support"), { internalNotes: "x", lastEditedBy: UID.support }));
    await assertFails(edit(dbOf("finance"), { internalNotes: "x", lastEditedBy: UID.finance }));
    await assertFails(edit(dbOf("customerA"), { internalNotes: "x", lastEditedBy: UID.customerA }));
    await assertFails(getDoc(doc(dbOf("finance"), NOTES)));
  });
});

describe("supportRequests create", () => {
  afterEach(() => {
    dirty = true;
  });
  const create = (db: Firestore, data: DocumentData, id = "new-req") => setDoc(doc(db, `supportRequests/${id}`), data);
  const a = () => dbOf("customerA");

  it("a valid minimal request", async () => {
    await assertSucceeds(create(a(), supportRequest(UID.customerA)));
  });
  it("a valid request with every optional field", async () => {
    await assertSucceeds(
      create(dbOf("buyer"), supportRequest(UID.buyer, { orderId: "order-1", appVersion: "2.4.1", device: "Pixel 8 / Android 15" })),
    );
  });
  it("boundary lengths: subject 200, message 5000", async () => {
    await assertSucceeds(create(a(), supportRequest(UID.customerA, { subject: "s".repeat(200), message: "m".repeat(5000) })));
  });
  it("wrong uid is refused", async () => {
    await assertFails(create(a(), supportRequest(UID.customerB)));
  });
  it("an extra field is refused (status is the server's)", async () => {
    await assertFails(create(a(), supportRequest(UID.customerA, { status: "open" })));
    await assertFails(create(a(), supportRequest(UID.customerA, { ticketId: "T-1" })));
  });
  it("a missing required field is refused", async () => {
    const { category: _category, ...noCategory } = supportRequest(UID.customerA);
    await assertFails(create(a(), noCategory));
    const { createdAt: _createdAt, ...noCreatedAt } = supportRequest(UID.customerA);
    await assertFails(create(a(), noCreatedAt));
  });
  it("an unknown category is refused", async () => {
    await assertFails(create(a(), supportRequest(UID.customerA, { category: "refund" })));
    await assertFails(create(a(), supportRequest(UID.customerA, { category: "Billing" })));
  });
  it("too long or empty subject / message is refused", async () => {
    await assertFails(create(a(), supportRequest(UID.customerA, { subject: "s".repeat(201) })));
    await assertFails(create(a(), supportRequest(UID.customerA, { subject: "" })));
    await assertFails(create(a(), supportRequest(UID.customerA, { message: "m".repeat(5001) })));
    await assertFails(create(a(), supportRequest(UID.customerA, { message: "" })));
    await assertFails(create(a(), supportRequest(UID.customerA, { subject: 42 })));
  });
  it("a client-chosen createdAt is refused (must be request.time)", async () => {
    await assertFails(create(a(), supportRequest(UID.customerA, { createdAt: Timestamp.now() })));
    await assertFails(create(a(), supportRequest(UID.customerA, { createdAt: at })));
  });
  it("bad optional fields are refused", async () => {
    await assertFails(create(a(), supportRequest(UID.customerA, { orderId: 123 })));
    await assertFails(create(a(), supportRequest(UID.customerA, { orderId: "" })));
    await assertFails(create(a(), supportRequest(UID.customerA, { appVersion: "v".repeat(65) })));
    await assertFails(create(a(), supportRequest(UID.customerA, { device: "d".repeat(201) })));
  });
  it("signed-out users cannot file one; Firebase anonymous-auth users can", async () => {
    await assertFails(create(dbOf("anonymous"), supportRequest("nobody")));
    const anonUser = env.authenticatedContext("uid-anon", { firebase: { sign_in_provider: "anonymous" } });
    await assertSucceeds(create(anonUser.firestore() as unknown as Firestore, supportRequest("uid-anon")));
  });
  it("the filer cannot update or delete it afterwards, and others cannot read it", async () => {
    await assertSucceeds(create(a(), supportRequest(UID.customerA), "mine"));
    await assertSucceeds(getDoc(doc(a(), "supportRequests/mine")));
    await assertFails(updateDoc(doc(a(), "supportRequests/mine"), { message: "edited" }));
    await assertFails(deleteDoc(doc(a(), "supportRequests/mine")));
    await assertFails(getDoc(doc(dbOf("customerB"), "supportRequests/mine")));
    await assertFails(getDoc(doc(dbOf("finance"), "supportRequests/mine")));
  });
});

describe("supportRequests name only the filer's own orders", () => {
  afterEach(() => {
    dirty = true;
  });
  const create = (p: Principal, orderId: unknown) =>
    setDoc(doc(dbOf(p), `supportRequests/order-req-${p}`), supportRequest(uidOf(p), { orderId }));

  it("the buyer and the seller of the order may name it", async () => {
    await assertSucceeds(create("buyer", "order-1"));
    await assertSucceeds(create("seller", "order-1"));
  });
  it("someone else's order is refused, staff included", async () => {
    await assertFails(create("customerA", "order-1"));
    await assertFails(create("customerB", "order-1"));
    await assertFails(create("buyer", "order-2"));
    await assertFails(create("support", "order-1"));
  });
  it("an order that does not exist is refused", async () => {
    await assertFails(create("buyer", "order-missing"));
  });
  it("a path-like or reserved orderId is refused", async () => {
    for (const orderId of ["a/b", "order-1/x", "..", ".", "__order-1__", "order 1", "o".repeat(129)]) {
      await assertFails(create("buyer", orderId));
    }
  });
});

describe("order lists must be constrained to the caller's uid", () => {
  const orders = (db: Firestore) => collection(db, "orders");

  it("buyer by buyerUid, seller by sellerUid", async () => {
    await assertSucceeds(getDocs(query(orders(dbOf("buyer")), where("buyerUid", "==", UID.buyer))));
    await assertSucceeds(getDocs(query(orders(dbOf("seller")), where("sellerUid", "==", UID.seller))));
    await assertSucceeds(getDocs(query(orders(dbOf("buyer")), where("buyerUid", "==", UID.buyer), where("status", "==", "paid"))));
  });
  it("an unconstrained list is refused", async () => {
    await assertFails(getDocs(orders(dbOf("buyer"))));
    await assertFails(getDocs(orders(dbOf("seller"))));
    await assertFails(getDocs(query(orders(dbOf("buyer")), where("status", "==", "paid"))));
  });
  it("a list constrained to someone else's uid is refused", async () => {
    await assertFails(getDocs(query(orders(dbOf("buyer")), where("buyerUid", "==", UID.customerB))));
    await assertFails(getDocs(query(orders(dbOf("customerB")), where("sellerUid", "==", UID.seller))));
  });
  it("a party cannot write their order", async () => {
    await assertFails(updateDoc(doc(dbOf("buyer"), "orders/order-1"), { status: "completed" }));
    await assertFails(updateDoc(doc(dbOf("seller"), "orders/order-1"), { status: "completed" }));
  });
});

describe("private/billing", () => {
  it("the owner never reads their own billing detail", async () => {
    await assertFails(getDoc(doc(dbOf("customerA"), "customers/uid-a/private/billing")));
    await assertFails(getDocs(collection(dbOf("customerA"), "customers/uid-a/private")));
  });
  it("finance and admin read it across customers with a collection-group query; others cannot", async () => {
    await assertSucceeds(getDocs(collectionGroup(dbOf("finance"), "private")));
    await assertSucceeds(getDocs(collectionGroup(dbOf("admin"), "private")));
    await assertFails(getDocs(collectionGroup(dbOf("support"), "private")));
    await assertFails(getDocs(query(collectionGroup(dbOf("customerA"), "private"), where("uid", "==", UID.customerA))));
  });
});

describe("private/stripe (Stripe snapshots)", () => {
  it("a customer reads neither their own snapshots nor their order's; buyer and seller neither", async () => {
    await assertFails(getDoc(doc(dbOf("customerA"), "customers/uid-a/private/stripe")));
    await assertFails(getDoc(doc(dbOf("buyer"), "orders/order-1/private/stripe")));
    await assertFails(getDoc(doc(dbOf("seller"), "orders/order-1/private/stripe")));
    await assertFails(getDoc(doc(dbOf("support"), "customers/uid-a/private/stripe")));
  });
  it("finance and admin read them; nobody writes them", async () => {
    for (const p of ["finance", "admin"] as const) {
      await assertSucceeds(getDoc(doc(dbOf(p), "customers/uid-a/private/stripe")));
      await assertSucceeds(getDoc(doc(dbOf(p), "orders/order-1/private/stripe")));
      await assertFails(setDoc(doc(dbOf(p), "customers/uid-a/private/stripe"), { objects: {} }));
    }
    await assertFails(setDoc(doc(dbOf("customerA"), "customers/uid-a/private/stripe"), { objects: {} }));
  });
});

describe("claims", () => {
  it("several roles add up", async () => {
    const both = asUser("uid-both", { support: true, finance: true });
    await assertSucceeds(getDoc(doc(both, "customers/uid-a/private/billing")));
    await assertSucceeds(getDocs(collection(both, "syncJobs")));
    await assertFails(getDocs(collection(both, "auditLog")));
  });
  it("apiKeys and rateLimits are closed even to a user holding every role", async () => {
    const all = asUser("uid-all", { admin: true, support: true, finance: true });
    await assertFails(getDoc(doc(all, "apiKeys/key-1")));
    await assertFails(getDocs(collection(all, "rateLimits")));
    await assertFails(setDoc(doc(all, "apiKeys/key-2"), { hash: "x" }));
  });
  it("a collection nobody declared is closed", async () => {
    await assertFails(getDoc(doc(asUser("uid-all2", { admin: true }), "somethingNew/x")));
  });
});
