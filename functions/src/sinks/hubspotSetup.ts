/**
 * Portal setup for opsync (run by `npm run hubspot:setup`, never by the sync queue): the token's scopes, opsync's
 * custom properties, and the refund deal stages. Everything here is idempotent: existing things are found, not
 * duplicated, so it is safe to run on every deploy.
 */
import { PropertyCreateFieldTypeEnum, PropertyCreateTypeEnum } from "@hubspot/api-client/lib/codegen/crm/properties/index.js";
import { z } from "zod";
import { PermanentError } from "../domain/errors.js";
import { DEFAULT_PIPELINE_ID, DEFAULT_PIPELINE_STAGES } from "./hubspot.js";
import { HubspotSession, OBJECT_TYPES, isSdkHttpError, type HubspotConfig, type ObjectType } from "./hubspotSession.js";
import type { RefundStageIds } from "./ports.js";

interface PropertySpec {
  name: string;
  label: string;
  type: PropertyCreateTypeEnum;
  fieldType: PropertyCreateFieldTypeEnum;
  unique?: boolean;
}

const text = (name: string, label: string, unique = false): PropertySpec => ({
  name,
  label,
  type: PropertyCreateTypeEnum.String,
  fieldType: PropertyCreateFieldTypeEnum.Text,
  unique,
});

export const HUBSPOT_PROPERTIES: Record<ObjectType, PropertySpec[]> = {
  contacts: [
    text("opsync_uid", "opsync user id", true),
    text("opsync_plan", "opsync plan"),
    text("opsync_subscription_status", "opsync subscription status"),
    { name: "opsync_mrr", label: "opsync MRR", type: PropertyCreateTypeEnum.Number, fieldType: PropertyCreateFieldTypeEnum.Number },
    { name: "opsync_last_payment_at", label: "opsync last payment", type: PropertyCreateTypeEnum.Datetime, fieldType: PropertyCreateFieldTypeEnum.Date },
    text("opsync_stripe_customer_id", "opsync Stripe customer id"),
  ],
  deals: [text("opsync_deal_key", "opsync deal key", true)],
  tickets: [text("opsync_request_id", "opsync request id", true), text("opsync_tags", "opsync tags")],
};

const PROPERTY_GROUP: Record<ObjectType, string> = { contacts: "contactinformation", deals: "dealinformation", tickets: "ticketinformation" };

async function ensureProperty(session: HubspotSession, type: ObjectType, spec: PropertySpec): Promise<"created" | "existing"> {
  const created = await session.call(`properties.create ${type}.${spec.name}`, async (c) => {
    try {
      const { name, label, type: propertyType, fieldType } = spec;
      await c.crm.properties.coreApi.create(type, { name, label, type: propertyType, fieldType, groupName: PROPERTY_GROUP[type], hasUniqueValue: spec.unique ?? false });
      return true;
    } catch (err) {
      if (isSdkHttpError(err) && err.code === 409) return false;
      throw err;
    }
  });
  if (created) return "created";
  // It exists; upsert needs it unique, and HubSpot cannot make an existing property unique later.
  const existing = await session.call(`properties.read ${type}.${spec.name}`, (c) => c.crm.properties.coreApi.getByName(type, spec.name));
  if (spec.unique && !existing.hasUniqueValue) {
    throw new PermanentError(`hubspot property ${type}.${spec.name} exists but is not unique; batch upsert needs a unique property`);
  }
  return "existing";
}

/** Creates opsync's custom properties; existing ones are left alone. */
export async function ensureHubspotProperties(config: HubspotConfig): Promise<{ created: string[]; existing: string[] }> {
  const session = new HubspotSession(config);
  const result: { created: string[]; existing: string[] } = { created: [], existing: [] };
  for (const type of OBJECT_TYPES) {
    // One at a time: setup shares the portal's rate limit with every other app.
    for (const spec of HUBSPOT_PROPERTIES[type]) {
      const outcome = await ensureProperty(session, type, spec);
      result[outcome].push(`${type}.${spec.name}`);
    }
  }
  return result;
}

export const REQUIRED_HUBSPOT_SCOPES = [
  "crm.objects.contacts.read",
  "crm.objects.contacts.write",
  "crm.objects.deals.read",
  "crm.objects.deals.write",
  "tickets",
  "crm.schemas.contacts.write",
  "crm.schemas.deals.write",
];

const tokenInfoSchema = z.object({ scopes: z.array(z.string()), hubId: z.number().optional(), appId: z.number().optional() });

/**
 * Reads a private-app token's scopes (`POST /oauth/v2/private-apps/get/access-token-info`; the v1
 * `/oauth/v1/access-tokens/{token}` is for OAuth tokens) and names the ones opsync needs but lacks.
 */
export async function checkHubspotScopes(config: HubspotConfig): Promise<{ ok: boolean; missing: string[]; granted: string[]; hubId: number | null }> {
  const session = new HubspotSession(config);
  const raw = await session.request("oauth.tokenInfo", "POST", "/oauth/v2/private-apps/get/access-token-info", { tokenKey: config.accessToken });
  const parsed = tokenInfoSchema.safeParse(raw);
  if (!parsed.success) throw new PermanentError("hubspot token info: unexpected answer (is this a private-app token?)");
  const granted = [...parsed.data.scopes].sort();
  const missing = REQUIRED_HUBSPOT_SCOPES.filter((s) => !granted.includes(s));
  return { ok: missing.length === 0, missing, granted, hubId: parsed.data.hubId ?? null };
}

/** Labels of the stages opsync adds to the deal pipeline; found again by label on the next run. */
export const REFUND_STAGE_LABELS: Record<keyof RefundStageIds["stages"], string> = {
  refunded: "Refunded (opsync)",
  partially_refunded: "Partially refunded (opsync)",
};

const stageListSchema = z.object({ results: z.array(z.object({ id: z.string(), label: z.string(), displayOrder: z.number() })) });
const stageSchema = z.object({ id: z.string() });

/**
 * Finds or creates the refund stages in the deal pipeline and returns their ids (for ops/hubspot). Also checks the
 * default stage ids opsync sends for open/won/lost still exist: portals can delete them.
 */
export async function ensureRefundStages(config: HubspotConfig, pipelineId = DEFAULT_PIPELINE_ID): Promise<RefundStageIds & { created: string[] }> {
  const session = new HubspotSession(config);
  const path = `/crm/v3/pipelines/deals/${encodeURIComponent(pipelineId)}/stages`;
  const list = stageListSchema.parse(await session.request("pipelines.stages.list", "GET", path));
  const missingDefaults = [...new Set(Object.values(DEFAULT_PIPELINE_STAGES))].filter((id) => !list.results.some((s) => s.id === id));
  if (missingDefaults.length > 0) {
    throw new PermanentError(`hubspot pipeline ${pipelineId} lacks the stages ${missingDefaults.join(", ")} opsync uses for open/won/lost deals`);
  }
  const created: string[] = [];
  let order = Math.max(0, ...list.results.map((s) => s.displayOrder)) + 1;
  const ids: Partial<Record<keyof RefundStageIds["stages"], string>> = {};
  for (const [key, label] of Object.entries(REFUND_STAGE_LABELS) as Array<[keyof RefundStageIds["stages"], string]>) {
    const found = list.results.find((s) => s.label.toLowerCase() === label.toLowerCase());
    if (found) {
      ids[key] = found.id;
      continue;
    }
    // Closed stages: a refunded deal is no longer open; probability 0 keeps it out of the forecast.
    const body = { label, displayOrder: order++, metadata: { isClosed: "true", probability: "0.0" } };
    ids[key] = stageSchema.parse(await session.request("pipelines.stages.create", "POST", path, body)).id;
    created.push(label);
  }
  const { refunded, partially_refunded } = ids;
  if (!refunded || !partially_refunded) throw new PermanentError("hubspot refund stages could not be found or created");
  return { pipelineId, stages: { refunded, partially_refunded }, created };
}
