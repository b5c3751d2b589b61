/**
 * An in-memory stand-in for what store/ingest.ts and store/apiSnapshot.ts do around the pure domain: read the owner's
 * documents, call applyEvent / applyApiObject / recomputeCustomer, and keep what the plan says to write (records,
 * snapshot sets, the Stripe customer mapping, object links, jobs). No Firestore: the derivation property test runs
 * hundreds of delivery orders per second through it.
 */
import { applyApiObject, applyEvent, recomputeCustomer, type ApplyPlan } from "../../functions/src/domain/apply";
import { linkedObjectIds, resolveOwner, subjectCustomerId, type Owner } from "../../functions/src/domain/identity";
import type { BillingDoc, CustomerDoc, JobSpec, OrderDoc, StripeObjectDoc } from "../../functions/src/domain/model";
import type { NormalizedEvent, Subject } from "../../functions/src/domain/normalize";
import type { SnapshotSet } from "../../functions/src/domain/snapshots";

export interface CustomerState {
  customer: CustomerDoc | null;
  billing: BillingDoc | null;
  snapshots: SnapshotSet | null;
}

export interface OrderState {
  order: OrderDoc | null;
  snapshots: SnapshotSet | null;
}

export interface ClaimsWrite {
  uid: string;
  version: number;
  entitlements: string[];
  plan: string | null;
  supportTier: string;
}

export class DerivationSim {
  readonly customers = new Map<string, CustomerState>();
  readonly orders = new Map<string, OrderState>();
  readonly mapping = new Map<string, string>();
  readonly links = new Map<string, StripeObjectDoc>();
  /** Revalidation jobs waiting to run (id → job). */
  readonly revalidations = new Map<string, JobSpec>();
  /** Every plan applied, with the ledger status it would record. */
  readonly plans: ApplyPlan[] = [];
  /** Claims jobs planned (uid), in order; `runClaims` writes what the record says at the time it runs. */
  readonly claimsJobs: string[] = [];
  readonly claims = new Map<string, ClaimsWrite>();

  constructor(
    private readonly now: Date,
    private readonly graceDays: number,
  ) {}

  customerState(uid: string): CustomerState {
    return this.customers.get(uid) ?? { customer: null, billing: null, snapshots: null };
  }

  orderState(orderId: string): OrderState {
    return this.orders.get(orderId) ?? { order: null, snapshots: null };
  }

  private owner(subject: Subject): { owner: Owner; mappingUid: string | null } {
    const customerId = subjectCustomerId(subject);
    const mappingUid = customerId ? (this.mapping.get(customerId) ?? null) : null;
    const links = linkedObjectIds(subject).map((id) => this.links.get(id) ?? null);
    return { owner: resolveOwner(subject, { mappingUid, links }), mappingUid };
  }

  /** One delivery: what runApply does for a `received` ledger entry. */
  deliver(event: NormalizedEvent): ApplyPlan {
    const { owner, mappingUid } = this.owner(event.subject);
    const c = owner.uid ? this.customerState(owner.uid) : { customer: null, billing: null, snapshots: null };
    const o = owner.order ? this.orderState(owner.order.orderId) : null;
    const plan = applyEvent({
      event, now: this.now, graceDays: this.graceDays, owner, mappingUid,
      customer: c.customer, billing: c.billing, order: o?.order ?? null, snapshots: o ? o.snapshots : c.snapshots,
    });
    this.write(plan);
    return plan;
  }

  /** A revalidation job: Stripe's object as it is now (`truth`), applied as store/apiSnapshot.ts does. */
  revalidate(job: JobSpec, truth: Subject, fetchedAt: number): ApplyPlan {
    const uid = job.target.uid ?? null;
    const orderId = job.target.orderId ?? null;
    const c = uid ? this.customerState(uid) : { customer: null, billing: null, snapshots: null };
    const o = orderId ? this.orderState(orderId) : null;
    const plan = applyApiObject({
      subject: truth, fetchedAt, cause: `revalidate_${job.idempotencyKey}`, now: this.now, graceDays: this.graceDays,
      owner: {
        uid, order: orderId ? { orderId, buyerUid: o?.order?.buyerUid ?? null, sellerUid: o?.order?.sellerUid ?? null } : null,
        stripeCustomerId: c.customer?.stripeCustomerId ?? null, source: "mapping", conflict: null,
      },
      mappingUid: uid, customer: c.customer, billing: c.billing, order: o?.order ?? null, snapshots: o ? o.snapshots : c.snapshots,
    });
    this.write(plan);
    return plan;
  }

  /** The grace sweep at a later time (services/ledgerSweep.expireGrace for one customer). */
  recompute(uid: string, now: Date): ApplyPlan {
    const c = this.customerState(uid);
    const plan = recomputeCustomer({ uid, now, graceDays: this.graceDays, customer: c.customer, billing: c.billing, snapshots: c.snapshots, cause: `grace_${uid}` });
    this.write(plan);
    return plan;
  }

  /** Runs every planned claims job in planning order, each writing what the record says when it runs. */
  runClaims(): void {
    for (const uid of this.claimsJobs.splice(0)) {
      const c = this.customerState(uid).customer;
      if (c) this.claims.set(uid, { uid, version: c.claimsVersion, entitlements: c.entitlements, plan: c.plan, supportTier: c.supportTier });
    }
  }

  private write(plan: ApplyPlan): void {
    this.plans.push(plan);
    if (plan.customer) {
      const uid = plan.customer.after.uid;
      this.customers.set(uid, { ...this.customerState(uid), customer: plan.customer.after });
    }
    if (plan.billing) {
      const uid = plan.billing.after.uid;
      this.customers.set(uid, { ...this.customerState(uid), billing: plan.billing.after });
    }
    if (plan.order) this.orders.set(plan.order.after.orderId, { ...this.orderState(plan.order.after.orderId), order: plan.order.after });
    if (plan.snapshots) {
      const { owner, id, set } = plan.snapshots;
      if (owner === "customer") this.customers.set(id, { ...this.customerState(id), snapshots: set });
      else this.orders.set(id, { ...this.orderState(id), snapshots: set });
    }
    if (plan.mapping && !this.mapping.has(plan.mapping.stripeCustomerId)) this.mapping.set(plan.mapping.stripeCustomerId, plan.mapping.uid);
    for (const link of plan.objects) {
      const before = this.links.get(link.id);
      this.links.set(link.id, { objectType: link.objectType, watermark: null, uid: null, orderId: null, stripeCustomerId: null, updatedAt: this.now, ...before, ...link.fields });
    }
    for (const job of plan.jobs) {
      if (job.kind === "stripe.object.revalidate") this.revalidations.set(`${plan.cause}.${job.idempotencyKey}`, job);
      if (job.kind === "auth.claims.update" && job.target.uid) this.claimsJobs.push(job.target.uid);
    }
  }
}
