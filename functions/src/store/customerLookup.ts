/**
 * The reads behind `findCustomer`: exact-value lookups (email, uid, Stripe customer id, HubSpot contact id), then
 * the documents of one customer's card. Lookup only: nothing is written, nothing is merged.
 */
import type { Firestore } from "firebase-admin/firestore";
import type { LookupKind } from "../domain/consoleOps.js";
import { OPEN_JOB_STATUSES } from "../domain/adminOps.js";
import { fromFirestore } from "./db.js";
import { COL, billingPath } from "./paths.js";

type Doc = Record<string, unknown>;

export interface LookupMatch {
  uid: string;
  email: string | null;
  name: string | null;
  matchedBy: LookupKind;
}

export interface LookupResult {
  matches: LookupMatch[];
  /** A Stripe customer id that maps to no user yet, with how many of its events wait in the review queue. */
  unmapped: { stripeCustomerId: string; heldEvents: number } | null;
}

const MAX_MATCHES = 10;

export async function lookupCustomers(db: Firestore, query: string, kinds: readonly LookupKind[]): Promise<LookupResult> {
  const found = new Map<string, LookupMatch>();
  const add = (uid: string, d: Doc | undefined, matchedBy: LookupKind) => {
    if (!found.has(uid)) found.set(uid, { uid, email: (d?.email as string | null) ?? null, name: (d?.name as string | null) ?? null, matchedBy });
  };
  let unmapped: LookupResult["unmapped"] = null;
  await Promise.all(
    kinds.map(async (kind) => {
      if (kind === "uid") {
        const snap = await db.collection(COL.customers).doc(query).get();
        if (snap.exists) add(snap.id, snap.data(), "uid");
      } else if (kind === "email") {
        const snap = await db.collection(COL.customers).where("email", "==", query).limit(MAX_MATCHES).get();
        for (const d of snap.docs) add(d.id, d.data(), "email");
      } else if (kind === "crmContactId") {
        const snap = await db.collection(COL.customers).where("crmContactId", "==", query).limit(MAX_MATCHES).get();
        for (const d of snap.docs) add(d.id, d.data(), "crmContactId");
      } else {
        const mapping = await db.collection(COL.stripeCustomers).doc(query).get();
        const uid: unknown = mapping.get("uid");
        if (typeof uid === "string") {
          const c = await db.collection(COL.customers).doc(uid).get();
          if (c.exists) add(uid, c.data(), "stripeCustomerId");
        } else {
          const held = await db.collection(COL.reviewQueue).where("stripeCustomerId", "==", query).where("status", "==", "open").count().get();
          const events = await db.collection(COL.stripeEvents).where("stripeCustomerId", "==", query).limit(1).get();
          if (held.data().count > 0 || !events.empty) unmapped = { stripeCustomerId: query, heldEvents: held.data().count };
        }
      }
    }),
  );
  return { matches: [...found.values()].sort((a, b) => a.uid.localeCompare(b.uid)).slice(0, MAX_MATCHES), unmapped };
}

export interface CardDocs {
  customer: Doc;
  billing: Doc | null;
  openJobs: Doc[];
  supportRequests: Doc[];
  audit: Doc[];
  ledger: Doc[];
}

const TIMELINE_READ = 20;

/** One customer's card documents (billing too: the domain shapes what each role may see of it). */
export async function readCardDocs(db: Firestore, uid: string): Promise<CardDocs | null> {
  const [customer, billing, jobs, requests, audit, ledger] = await Promise.all([
    db.collection(COL.customers).doc(uid).get(),
    db.doc(billingPath(uid)).get(),
    db.collection(COL.syncJobs).where("target.uid", "==", uid).where("status", "in", [...OPEN_JOB_STATUSES]).limit(20).get(),
    db.collection(COL.supportRequests).where("uid", "==", uid).orderBy("createdAt", "desc").limit(10).get(),
    db.collection(COL.auditLog).where("target", "==", `${COL.customers}/${uid}`).orderBy("at", "desc").limit(TIMELINE_READ).get(),
    db.collection(COL.stripeEvents).where("uid", "==", uid).orderBy("created", "desc").limit(TIMELINE_READ).get(),
  ]);
  if (!customer.exists) return null;
  const docs = (snap: FirebaseFirestore.QuerySnapshot) => snap.docs.map((d) => ({ id: d.id, ...fromFirestore<Doc>(d.data()) }));
  return {
    customer: fromFirestore<Doc>(customer.data()),
    billing: billing.exists ? fromFirestore<Doc>(billing.data()) : null,
    openJobs: docs(jobs),
    supportRequests: docs(requests),
    audit: docs(audit),
    ledger: docs(ledger),
  };
}

/** The ledger of a Stripe customer no user is tied to yet, newest first: the card of an unmapped customer. */
export async function readUnmappedLedger(db: Firestore, stripeCustomerId: string): Promise<Doc[]> {
  const snap = await db.collection(COL.stripeEvents).where("stripeCustomerId", "==", stripeCustomerId).orderBy("created", "desc").limit(TIMELINE_READ).get();
  return snap.docs.map((d) => fromFirestore<Doc>(d.data()));
}
