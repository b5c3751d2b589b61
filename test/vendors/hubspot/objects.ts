/**
 * CRM objects (contacts, deals, tickets), their properties and associations in the local HubSpot stand-in.
 *
 * Strict where HubSpot is: batch upsert only by a `hasUniqueValue` property; a `dealstage` must be a stage id of
 * the deal's pipeline; `lifecyclestage` only moves forward (a backward value is ignored, not an error); a batch
 * with some failed inputs answers 207 with per-item errors. Requests are NOT serialized: a batch upsert looks its
 * inputs up, yields, then writes, so two concurrent upserts of one new unique value can both try to create it; the
 * later one gets the unique-value conflict, as from a distributed service.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { HttpError, OBJECT_TYPES, invalidProperty, isRecord, type ObjectType, type Reply } from "./http";
import type { Pipelines } from "./pipelines";

export interface HubspotObject {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface PropertyDef {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  hasUniqueValue: boolean;
  hubspotDefined: boolean;
}

export interface Association {
  fromType: ObjectType;
  fromId: string;
  toType: ObjectType;
  toId: string;
}

const BUILT_IN: Record<ObjectType, string[]> = {
  contacts: ["email", "firstname", "lastname", "lifecyclestage"],
  deals: ["dealname", "amount", "dealstage", "pipeline", "deal_currency_code", "closedate"],
  tickets: ["subject", "content", "hs_ticket_priority", "hs_pipeline", "hs_pipeline_stage"],
};

const DEFAULT_GROUP: Record<ObjectType, string> = { contacts: "contactinformation", deals: "dealinformation", tickets: "ticketinformation" };

/** HubSpot's default lifecycle stages, in the only order they may move. */
export const LIFECYCLE_ORDER = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist", "other"];

/** Properties opsync's setup creates; used only when `withOpsyncProperties` is set. */
const OPSYNC_PROPERTIES: Record<ObjectType, Array<{ name: string; unique: boolean }>> = {
  contacts: ["opsync_uid", "opsync_plan", "opsync_subscription_status", "opsync_mrr", "opsync_last_payment_at", "opsync_stripe_customer_id"].map(
    (name) => ({ name, unique: name === "opsync_uid" }),
  ),
  deals: [{ name: "opsync_deal_key", unique: true }],
  tickets: [
    { name: "opsync_request_id", unique: true },
    { name: "opsync_tags", unique: false },
  ],
};

type Props = Record<string, string | null>;

function propertyDef(type: ObjectType, name: string, unique: boolean, hubspotDefined: boolean): PropertyDef {
  return { name, label: name, type: "string", fieldType: "text", groupName: DEFAULT_GROUP[type], hasUniqueValue: unique, hubspotDefined };
}

/** HubSpot stores every property value as a string; null clears it. */
function stringProps(value: unknown): Props {
  if (!isRecord(value)) throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: properties must be an object");
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? null : String(v)]));
}

const normalizeValue = (name: string, value: string) => (name === "email" ? value.trim().toLowerCase() : value);
const now = () => new Date().toISOString();

interface Planned {
  idProperty: string;
  idValue: string;
  existing: HubspotObject | undefined;
  props: Props;
}

export class ObjectStore {
  objects = {} as Record<ObjectType, Map<string, HubspotObject>>;
  props = {} as Record<ObjectType, Map<string, PropertyDef>>;
  associations = new Map<string, Association>();
  private nextId = 1001;

  constructor(
    private readonly pipelines: Pipelines,
    private readonly withOpsync: boolean,
  ) {
    this.reset();
  }

  reset(): void {
    for (const type of OBJECT_TYPES) {
      const defs = BUILT_IN[type].map((name) => propertyDef(type, name, false, true));
      if (this.withOpsync) defs.push(...OPSYNC_PROPERTIES[type].map((p) => propertyDef(type, p.name, p.unique, false)));
      this.props[type] = new Map(defs.map((d) => [d.name, d]));
      this.objects[type] = new Map();
    }
    this.associations = new Map();
    this.nextId = 1001;
  }

  findBy(type: ObjectType, name: string, value: string): HubspotObject | undefined {
    if (name === "hs_object_id") return this.objects[type].get(value);
    const wanted = normalizeValue(name, value);
    for (const obj of this.objects[type].values()) if (obj.properties[name] === wanted) return obj;
    return undefined;
  }

  /** Rejects unknown properties, invalid options, unique-value clashes and (contacts) an email another contact has. */
  private validateWrite(type: ObjectType, props: Props, self: HubspotObject | null): void {
    for (const [name, value] of Object.entries(props)) {
      const def = this.props[type].get(name);
      if (!def) throw invalidProperty(`Property "${name}" does not exist`, name, "PROPERTY_DOESNT_EXIST");
      if (!def.hasUniqueValue || value === null || value === "") continue;
      const other = this.findBy(type, name, value);
      if (other && other.id !== self?.id) {
        throw new HttpError(409, "CONFLICT", `Unique property ${name} already has this value on object ${other.id}`, { subCategory: "UNIQUE_VALUE_CONFLICT" });
      }
    }
    if (type === "deals" && props.dealstage) {
      this.pipelines.checkDealStage(props.pipeline || self?.properties.pipeline || "default", props.dealstage);
    }
    if (type === "contacts" && props.lifecyclestage && !LIFECYCLE_ORDER.includes(props.lifecyclestage)) {
      throw invalidProperty(`${props.lifecyclestage} was not one of the allowed options`, "lifecyclestage", "INVALID_OPTION");
    }
    const email = props.email;
    if (type === "contacts" && email) {
      const other = this.findBy("contacts", "email", email);
      if (other && other.id !== self?.id) throw new HttpError(409, "CONFLICT", `Contact already exists. Existing ID: ${other.id}`);
    }
  }

  private applyProps(obj: HubspotObject, props: Props): void {
    for (const [name, value] of Object.entries(props)) {
      if (name === "lifecyclestage" && value && obj.properties.lifecyclestage) {
        // HubSpot ignores a backward lifecycle move (no error): the stage keeps its furthest value.
        if (LIFECYCLE_ORDER.indexOf(value) < LIFECYCLE_ORDER.indexOf(obj.properties.lifecyclestage)) continue;
      }
      if (value === null || value === "") delete obj.properties[name];
      else obj.properties[name] = normalizeValue(name, value);
    }
    obj.properties.hs_lastmodifieddate = obj.updatedAt = now();
  }

  insert(type: ObjectType, props: Props): HubspotObject {
    const id = String(this.nextId++);
    const at = now();
    const obj: HubspotObject = { id, properties: { hs_object_id: id, createdate: at }, createdAt: at, updatedAt: at };
    this.applyProps(obj, props);
    this.objects[type].set(id, obj);
    return obj;
  }

  publicObject(obj: HubspotObject, only?: string[]) {
    const properties: Record<string, string | null> = {};
    for (const n of only ?? Object.keys(obj.properties)) properties[n] = obj.properties[n] ?? null;
    return { id: obj.id, properties, createdAt: obj.createdAt, updatedAt: obj.updatedAt, archived: false };
  }

  async batchUpsert(type: ObjectType, body: unknown): Promise<Reply> {
    const inputs = isRecord(body) ? body.inputs : undefined;
    if (!Array.isArray(inputs) || inputs.length === 0) throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: inputs required");
    if (inputs.length > 100) throw new HttpError(400, "VALIDATION_ERROR", "Batch input limit is 100");
    const startedAt = now();
    const keyed = inputs.map((input: unknown) => this.idOf(type, input));
    const ids = keyed.map((k) => `${k.idProperty}=${k.idValue}`);
    if (new Set(ids).size !== ids.length) throw new HttpError(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input");
    const planned = keyed.map((k) => attempt(() => this.plan(type, k.idProperty, k.idValue, k.input)));
    // The lookups above and the writes below are separate steps of a distributed service: let others interleave.
    await sleep(5);
    const outcomes = planned.map((p) => (p instanceof HttpError ? p : attempt(() => this.commit(type, p))));
    const results = outcomes.filter((o): o is { obj: HubspotObject; isNew: boolean } => !(o instanceof HttpError));
    const errors = outcomes.flatMap((o, i) => (o instanceof HttpError ? [{ error: o, id: keyed[i]?.idValue ?? "" }] : []));
    const first = errors[0];
    // Every input failed: answer as a single request would (the adapter sees HubSpot's plain error status).
    if (first && results.length === 0) throw first.error;
    const body200 = { status: "COMPLETE", results: results.map((r) => ({ ...this.publicObject(r.obj), new: r.isNew })), startedAt, completedAt: now() };
    if (errors.length === 0) return { status: 200, body: body200 };
    const itemErrors = errors.map(({ error, id }) => ({ status: "error", category: error.category, message: error.message, context: { ids: [id] }, ...error.extra }));
    return { status: 207, body: { ...body200, numErrors: itemErrors.length, errors: itemErrors } };
  }

  /**
   * batch/read by `idProperty` (a unique property or hs_object_id), at most 100 inputs. Ids it does not have come
   * back as per-item OBJECT_NOT_FOUND errors with status 207, as HubSpot answers.
   */
  batchRead(type: ObjectType, body: unknown): Reply {
    const inputs = isRecord(body) ? body.inputs : undefined;
    if (!Array.isArray(inputs)) throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: inputs required");
    if (inputs.length > 100) throw new HttpError(400, "VALIDATION_ERROR", "Batch input limit is 100");
    const idProperty = isRecord(body) && typeof body.idProperty === "string" ? body.idProperty : "hs_object_id";
    if (idProperty !== "hs_object_id" && this.props[type].get(idProperty)?.hasUniqueValue !== true) {
      throw new HttpError(400, "VALIDATION_ERROR", `${idProperty} is not a unique identifier property`);
    }
    const only = isRecord(body) && Array.isArray(body.properties) ? body.properties.map(String) : undefined;
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const id = isRecord(input) && typeof input.id === "string" ? input.id : "";
      const obj = id ? this.findBy(type, idProperty, id) : undefined;
      if (obj) results.push(this.publicObject(obj, only ? ["hs_object_id", ...only] : undefined));
      else missing.push(id);
    }
    const at = now();
    const base = { status: "COMPLETE", results, startedAt: at, completedAt: at };
    if (missing.length === 0) return { status: 200, body: base };
    const errors = [{ status: "error", category: "OBJECT_NOT_FOUND", message: "Could not get some objects, they may be deleted or not exist.", context: { ids: missing } }];
    return { status: 207, body: { ...base, numErrors: 1, errors } };
  }

  private idOf(type: ObjectType, input: unknown): { idProperty: string; idValue: string; input: Record<string, unknown> } {
    if (!isRecord(input) || typeof input.id !== "string" || input.id === "") {
      throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: each input needs an id");
    }
    const idProperty = typeof input.idProperty === "string" ? input.idProperty : "hs_object_id";
    const usable = idProperty === "hs_object_id" || (type === "contacts" && idProperty === "email") || this.props[type].get(idProperty)?.hasUniqueValue === true;
    if (!usable) {
      throw new HttpError(400, "VALIDATION_ERROR", `Unable to perform update/upsert by non-unique ${idProperty} property`, { subCategory: "INVALID_ID_PROPERTY" });
    }
    return { idProperty, idValue: normalizeValue(idProperty, input.id), input };
  }

  private plan(type: ObjectType, idProperty: string, idValue: string, input: Record<string, unknown>): Planned {
    const existing = this.findBy(type, idProperty, idValue);
    const props = { ...stringProps(input.properties ?? {}), [idProperty]: idValue };
    if (idProperty === "hs_object_id") delete props.hs_object_id;
    this.validateWrite(type, props, existing ?? null);
    return { idProperty, idValue, existing, props };
  }

  /** Writes one planned input, re-checking what may have changed since it was looked up. */
  private commit(type: ObjectType, p: Planned): { obj: HubspotObject; isNew: boolean } {
    const current = p.existing ? this.objects[type].get(p.existing.id) : undefined;
    if (p.existing && !current) throw new HttpError(404, "OBJECT_NOT_FOUND", `Object ${p.existing.id} was deleted`);
    this.validateWrite(type, p.props, current ?? null);
    if (current) {
      this.applyProps(current, p.props);
      return { obj: current, isNew: false };
    }
    return { obj: this.insert(type, p.props), isNew: true };
  }

  createObject(type: ObjectType, body: unknown): Reply {
    const props = stringProps(isRecord(body) ? (body.properties ?? {}) : undefined);
    this.validateWrite(type, props, null);
    return { status: 201, body: this.publicObject(this.insert(type, props)) };
  }

  lookup(type: ObjectType, id: string, query: URLSearchParams): HubspotObject {
    const obj = this.findBy(type, query.get("idProperty") ?? "hs_object_id", id);
    if (!obj) throw new HttpError(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.");
    return obj;
  }

  patchObject(type: ObjectType, id: string, query: URLSearchParams, body: unknown): Reply {
    const obj = this.lookup(type, id, query);
    const props = stringProps(isRecord(body) ? (body.properties ?? {}) : undefined);
    this.validateWrite(type, props, obj);
    this.applyProps(obj, props);
    return { status: 200, body: this.publicObject(obj) };
  }

  search(type: ObjectType, body: unknown): Reply {
    const groups = isRecord(body) && Array.isArray(body.filterGroups) ? body.filterGroups : [];
    const matches = (obj: HubspotObject, group: unknown) => {
      const filters = isRecord(group) && Array.isArray(group.filters) ? group.filters : [];
      return filters.every((f: unknown) => {
        if (!isRecord(f) || typeof f.propertyName !== "string") return false;
        const actual = obj.properties[f.propertyName];
        if (f.operator === "HAS_PROPERTY") return actual !== undefined;
        if (f.operator !== "EQ") throw new HttpError(400, "VALIDATION_ERROR", `operator ${String(f.operator)} not supported here`);
        return actual === normalizeValue(f.propertyName, String(f.value));
      });
    };
    const all = [...this.objects[type].values()];
    const found = groups.length === 0 ? all : all.filter((o) => groups.some((g: unknown) => matches(o, g)));
    const limitN = isRecord(body) && typeof body.limit === "number" ? body.limit : 10;
    const only = isRecord(body) && Array.isArray(body.properties) ? body.properties.map(String) : undefined;
    const results = found.slice(0, limitN).map((o) => this.publicObject(o, only ? ["hs_object_id", ...only] : undefined));
    return { status: 200, body: { total: found.length, results } };
  }

  associate(fromType: ObjectType, fromId: string, toType: ObjectType, toId: string): Reply {
    for (const [t, id] of [[fromType, fromId], [toType, toId]] as const) {
      if (!this.objects[t].has(id)) throw new HttpError(404, "OBJECT_NOT_FOUND", `No ${t} with ID ${id} exists`);
    }
    // One record per unordered pair: HubSpot associations are bidirectional, so repeating either way is a no-op.
    const key = [`${fromType}:${fromId}`, `${toType}:${toId}`].sort().join("|");
    if (!this.associations.has(key)) this.associations.set(key, { fromType, fromId, toType, toId });
    const spec = { associationCategory: "HUBSPOT_DEFINED", associationTypeId: fromType === "deals" ? 3 : 16 };
    const at = now();
    return { status: 200, body: { status: "COMPLETE", results: [{ from: { id: fromId }, to: { id: toId }, associationSpec: spec }], startedAt: at, completedAt: at } };
  }

  createProperty(type: ObjectType, body: unknown): Reply {
    if (!isRecord(body) || typeof body.name !== "string" || typeof body.label !== "string" || typeof body.groupName !== "string") {
      throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: name, label, type, fieldType and groupName are required");
    }
    if (this.props[type].has(body.name)) throw new HttpError(409, "OBJECT_ALREADY_EXISTS", `Property already exists: ${body.name}`);
    const def: PropertyDef = {
      name: body.name,
      label: body.label,
      type: String(body.type ?? "string"),
      fieldType: String(body.fieldType ?? "text"),
      groupName: body.groupName,
      hasUniqueValue: body.hasUniqueValue === true,
      hubspotDefined: false,
    };
    this.props[type].set(def.name, def);
    return { status: 201, body: publicProperty(def) };
  }

  getProperty(type: ObjectType, name: string): Reply {
    const def = this.props[type].get(name);
    if (!def) throw new HttpError(404, "OBJECT_NOT_FOUND", `Unable to find property ${name}`);
    return { status: 200, body: publicProperty(def) };
  }
}

function publicProperty(def: PropertyDef) {
  return { ...def, description: "", options: [], formField: false, hidden: false, calculated: false, externalOptions: false };
}

function attempt<T>(fn: () => T): T | HttpError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
}
