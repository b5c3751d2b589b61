/**
 * In-memory fakes of the CRM and helpdesk ports with the same idempotency semantics as the HubSpot adapters
 * (the shared contract suites hold both to them), for queue tests and local runs without a vendor.
 */
import { PermanentError, TransientError } from "../../functions/src/domain/errors.js";
import {
  CRM_CONTACT_PROPERTIES,
  READ_BATCH,
  type ClaimsPort,
  type ClaimsReadPort,
  type CrmContactRecord,
  type CrmDealRecord,
  type CrmReadPort,
  type ContactOutcome,
  type ContactState,
  type CrmPort,
  type DealStage,
  type DealState,
  type HelpdeskPort,
  type NotifyPort,
  type RefundStageIds,
  type TicketRequest,
} from "../../functions/src/sinks/ports.js";

export interface MemoryContact {
  id: string;
  uid: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  lifecycleStage: string | null;
  plan: string | null;
  subscriptionStatus: string | null;
  mrr: number | null;
  lastPaymentAt: Date | null;
  stripeCustomerId: string | null;
}

export interface MemoryDeal {
  id: string;
  key: string;
  name: string;
  stage: DealStage;
  /** The stage id the fake "CRM" stored: the refund stages' ids come from `refundStages`, as in HubSpot. */
  vendorStage: string;
  amount: number | null;
  currency: string | null;
  contactIds: string[];
}

export interface MemoryTicket {
  id: string;
  requestId: string;
  subject: string;
  body: string;
  priority: TicketRequest["priority"];
  tags: string[];
  contactIds: string[];
}

/** Errors queued to be thrown by the next calls, one per call, before any state changes. */
class FailureQueue {
  private readonly queue: Error[] = [];
  calls = 0;

  push(error: TransientError | PermanentError | Error, times: number): void {
    for (let i = 0; i < times; i++) this.queue.push(error);
  }

  /** Counts the call, and throws the next queued error, if any. */
  enter(): void {
    this.calls++;
    const next = this.queue.shift();
    if (next) throw next;
  }
}

const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** What every fake shares: failures queued for the next calls, and a count of calls. */
abstract class FailingFake {
  protected readonly failures = new FailureQueue();

  /** The next `times` calls throw `error` without changing anything. */
  failNext(error: TransientError | PermanentError | Error, times = 1): void {
    this.failures.push(error, times);
  }

  get calls(): number {
    return this.failures.calls;
  }
}

/** Refund stage ids the fake uses unless told otherwise (a portal where setup has run). */
export const MEMORY_REFUND_STAGES: RefundStageIds = { pipelineId: "default", stages: { refunded: "9001", partially_refunded: "9002" } };
const MEMORY_DEFAULT_STAGES: Record<Exclude<DealStage, "refunded" | "partially_refunded">, string> = {
  open: "appointmentscheduled",
  won: "closedwon",
  lost: "closedlost",
  canceled: "closedlost",
};
/** Forward-only, as HubSpot's lifecycle stage: a backward value is ignored. */
const LIFECYCLE_RANK: Record<string, number> = { lead: 1, customer: 5, other: 7 };

function checkBatch(ids: string[], what: string): void {
  if (ids.length > READ_BATCH) throw new PermanentError(`memory ${what} takes at most ${READ_BATCH} ids per call`);
}

export class MemoryCrm extends FailingFake implements CrmPort, CrmReadPort {
  private readonly contactsById = new Map<string, MemoryContact>();
  private readonly dealsByKey = new Map<string, MemoryDeal>();
  private nextId = 1;

  constructor(private readonly opts: { refundStages?: () => Promise<RefundStageIds | null> } = {}) {
    super();
  }

  /** A contact that exists before opsync syncs (made by hand, a form, an import). */
  seedContact(seed: { email: string; uid?: string | null; firstName?: string | null }): string {
    const contact = this.blankContact();
    contact.email = normalizeEmail(seed.email);
    contact.uid = seed.uid ?? null;
    contact.firstName = seed.firstName ?? null;
    this.contactsById.set(contact.id, contact);
    return contact.id;
  }

  contacts(): MemoryContact[] {
    return [...this.contactsById.values()].map((c) => ({ ...c }));
  }

  deals(): MemoryDeal[] {
    return [...this.dealsByKey.values()].map((d) => ({ ...d, contactIds: [...d.contactIds] }));
  }

  async upsertContact(state: ContactState): Promise<{ contactId: string }> {
    this.failures.enter();
    return this.upsertOneContact(state);
  }

  async upsertContacts(states: ContactState[]): Promise<ContactOutcome[]> {
    this.failures.enter();
    return states.map((state): ContactOutcome => {
      try {
        return { uid: state.uid, ...this.upsertOneContact(state) };
      } catch (err) {
        const error = err instanceof TransientError || err instanceof PermanentError ? err : new PermanentError(String(err));
        return { uid: state.uid, error };
      }
    });
  }

  private upsertOneContact(state: ContactState): { contactId: string } {
    const email = state.email ? normalizeEmail(state.email) : null;
    const byUid = this.find((c) => c.uid === state.uid);
    const byEmail = email ? this.find((c) => c.email === email) : undefined;
    if (byEmail && byEmail !== byUid) {
      // Same rule as HubSpot: link an unclaimed contact with this email, never steal one linked to another uid,
      // and never merge two contacts (the uid already has its own).
      if (byUid || (byEmail.uid !== null && byEmail.uid !== state.uid)) {
        throw new PermanentError(`memory contact ${byEmail.id} has this email and is linked elsewhere`, { httpStatus: 409 });
      }
      byEmail.uid = state.uid;
      this.apply(byEmail, state);
      return { contactId: byEmail.id };
    }
    const contact = byUid ?? this.blankContact();
    contact.uid = state.uid;
    this.apply(contact, state);
    this.contactsById.set(contact.id, contact);
    return { contactId: contact.id };
  }

  async upsertDeal(state: DealState): Promise<{ dealId: string }> {
    this.failures.enter();
    const vendorStage = await this.stageId(state.stage);
    if (state.contactId && !this.contactsById.has(state.contactId)) {
      throw new PermanentError(`memory contact ${state.contactId} does not exist`, { httpStatus: 404 });
    }
    const existing = this.dealsByKey.get(state.key);
    const id = existing?.id ?? `deal-${this.nextId++}`;
    const linked = existing?.contactIds ?? [];
    const contactIds = state.contactId && !linked.includes(state.contactId) ? [...linked, state.contactId] : linked;
    const next: MemoryDeal = { id, key: state.key, name: state.name, stage: state.stage, vendorStage, amount: state.amount, currency: state.currency, contactIds };
    this.dealsByKey.set(state.key, next);
    return { dealId: next.id };
  }

  async readContacts(uids: string[]): Promise<Map<string, CrmContactRecord>> {
    this.failures.enter();
    checkBatch(uids, "contacts.read");
    const out = new Map<string, CrmContactRecord>();
    for (const uid of uids) {
      const c = this.find((x) => x.uid === uid);
      if (!c) continue;
      const values: Record<(typeof CRM_CONTACT_PROPERTIES)[number], string | null> = {
        opsync_plan: c.plan || null,
        opsync_subscription_status: c.subscriptionStatus || null,
        opsync_stripe_customer_id: c.stripeCustomerId || null,
        opsync_mrr: c.mrr === null ? null : String(c.mrr),
      };
      out.set(uid, { id: c.id, uid, properties: values });
    }
    return out;
  }

  async readDeals(keys: string[]): Promise<Map<string, CrmDealRecord>> {
    this.failures.enter();
    checkBatch(keys, "deals.read");
    const out = new Map<string, CrmDealRecord>();
    for (const key of keys) {
      const d = this.dealsByKey.get(key);
      if (d) out.set(key, { id: d.id, key, stageId: d.vendorStage, amount: d.amount === null ? null : String(d.amount) });
    }
    return out;
  }

  async dealStageId(stage: DealStage): Promise<string | null> {
    try {
      return await this.stageId(stage);
    } catch {
      // No refund stage ids configured: there is nothing a deal in that stage could carry.
      return null;
    }
  }

  /** Test seam: change a deal as someone editing it in the CRM would. */
  editDeal(key: string, change: Partial<Pick<MemoryDeal, "vendorStage" | "amount">>): void {
    const d = this.dealsByKey.get(key);
    if (d) Object.assign(d, change);
  }

  /** Test seam: a contact deleted in the CRM. */
  deleteContact(uid: string): void {
    const c = this.find((x) => x.uid === uid);
    if (c) this.contactsById.delete(c.id);
  }

  private async stageId(stage: DealStage): Promise<string> {
    if (stage !== "refunded" && stage !== "partially_refunded") return MEMORY_DEFAULT_STAGES[stage];
    const ids = this.opts.refundStages ? await this.opts.refundStages() : MEMORY_REFUND_STAGES;
    const id = ids?.stages[stage];
    if (!id) throw new PermanentError(`memory deal stage "${stage}" has no stage id: run \`npm run hubspot:setup\``);
    return id;
  }

  private find(pred: (c: MemoryContact) => boolean): MemoryContact | undefined {
    for (const c of this.contactsById.values()) if (pred(c)) return c;
    return undefined;
  }

  private blankContact(): MemoryContact {
    return {
      id: `contact-${this.nextId++}`,
      uid: null,
      email: null,
      firstName: null,
      lastName: null,
      lifecycleStage: null,
      plan: null,
      subscriptionStatus: null,
      mrr: null,
      lastPaymentAt: null,
      stripeCustomerId: null,
    };
  }

  /** opsync-owned fields follow the state (null clears); a null email or name leaves what is there. */
  private apply(contact: MemoryContact, state: ContactState): void {
    if (state.email) contact.email = normalizeEmail(state.email);
    if (state.firstName) contact.firstName = state.firstName;
    if (state.lastName) contact.lastName = state.lastName;
    if ((LIFECYCLE_RANK[state.lifecycleStage] ?? 0) > (LIFECYCLE_RANK[contact.lifecycleStage ?? ""] ?? 0)) contact.lifecycleStage = state.lifecycleStage;
    contact.plan = state.plan;
    contact.subscriptionStatus = state.subscriptionStatus;
    contact.mrr = state.mrr;
    contact.lastPaymentAt = state.lastPaymentAt;
    contact.stripeCustomerId = state.stripeCustomerId;
  }
}

export class MemoryHelpdesk extends FailingFake implements HelpdeskPort {
  readonly name = "memory" as const;
  private readonly byRequestId = new Map<string, MemoryTicket>();
  private nextId = 1;

  tickets(): MemoryTicket[] {
    return [...this.byRequestId.values()].map((t) => ({ ...t, tags: [...t.tags], contactIds: [...t.contactIds] }));
  }

  async createTicket(request: TicketRequest): Promise<{ ticketId: string; created: boolean }> {
    this.failures.enter();
    const existing = this.byRequestId.get(request.requestId);
    const ticket = existing ?? this.newTicket(request);
    // A repeat never rewrites the ticket, but does add a missing contact link (as the HubSpot adapter does).
    if (request.contactId && !ticket.contactIds.includes(request.contactId)) ticket.contactIds.push(request.contactId);
    this.byRequestId.set(request.requestId, ticket);
    return { ticketId: ticket.id, created: !existing };
  }

  private newTicket(request: TicketRequest): MemoryTicket {
    const { requestId, subject, body, priority } = request;
    return { id: `ticket-${this.nextId++}`, requestId, subject, body, priority, tags: [...request.tags], contactIds: [] };
  }
}

/** Claims fake: a map of users to their custom claims; unknown users are refused like Firebase Auth does. */
export class MemoryClaims extends FailingFake implements ClaimsPort, ClaimsReadPort {
  private readonly users = new Map<string, Record<string, unknown>>();

  addUser(uid: string, claims: Record<string, unknown> = {}): void {
    this.users.set(uid, { ...claims });
  }

  claimsOf(uid: string): Record<string, unknown> | null {
    const claims = this.users.get(uid);
    return claims ? { ...claims } : null;
  }

  async readClaims(uids: string[]): Promise<Map<string, Record<string, unknown> | null>> {
    this.failures.enter();
    checkBatch(uids, "users.read");
    return new Map(uids.map((uid) => [uid, this.claimsOf(uid)]));
  }

  async setClaims(uid: string, owned: { entitlements: string[]; plan: string | null; supportTier: string }): Promise<void> {
    this.failures.enter();
    const current = this.users.get(uid);
    if (!current) throw new PermanentError(`claims for ${uid}: auth/user-not-found`);
    this.users.set(uid, { ...current, entitlements: [...owned.entitlements], plan: owned.plan, supportTier: owned.supportTier });
  }
}

/** Notification fake: records what would have been posted. */
export class MemoryNotify extends FailingFake implements NotifyPort {
  readonly posts: Array<{ key: string; text: string }> = [];

  async post(message: { key: string; text: string }): Promise<void> {
    this.failures.enter();
    if (!message.text.trim()) throw new PermanentError("notification text is empty");
    this.posts.push({ ...message });
  }
}
