/** The bench's own reads of the local HubSpot stand-in (contacts by opsync_uid, tickets by id). */
/** HubSpot's search takes at most 5 filterGroups (ORed) per request. */
const SEARCH_GROUPS = 5;
export const LOCAL_HUBSPOT = "http://127.0.0.1:4610";

export interface VendorObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
}

function isVendorObject(value: unknown): value is VendorObject {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === "string" && typeof v.createdAt === "string" && typeof v.properties === "object" && v.properties !== null;
}

/** The bench's own calls to the local HubSpot. They count against the portal's rate limit (190 / 10 s) like the sink's. */
export class HubspotProbe {
  requests = 0;
  rateLimited = 0;
  failures = 0;
  minRemaining = Infinity;

  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    this.requests += 1;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const remaining = res.headers.get("x-hubspot-ratelimit-remaining");
    if (remaining !== null && Number.isFinite(Number(remaining))) this.minRemaining = Math.min(this.minRemaining, Number(remaining));
    if (res.status === 429) this.rateLimited += 1;
    else if (res.status >= 400 && res.status !== 404) this.failures += 1;
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: the status says enough
    }
    return { status: res.status, json };
  }

  /** Contacts whose opsync_uid is one of `uids`: one search per 5 uids. */
  async contactsByUid(uids: string[]): Promise<Map<string, VendorObject>> {
    const found = new Map<string, VendorObject>();
    for (let i = 0; i < uids.length; i += SEARCH_GROUPS) {
      const chunk = uids.slice(i, i + SEARCH_GROUPS);
      const { status, json } = await this.call("POST", "/crm/v3/objects/contacts/search", {
        filterGroups: chunk.map((uid) => ({ filters: [{ propertyName: "opsync_uid", operator: "EQ", value: uid }] })),
        properties: ["opsync_uid"],
        limit: 100,
      });
      if (status !== 200) continue;
      const results = json && typeof json === "object" ? (json as { results?: unknown }).results : null;
      for (const r of Array.isArray(results) ? results : []) {
        if (!isVendorObject(r)) continue;
        const uid = r.properties.opsync_uid;
        if (uid) found.set(uid, r);
      }
    }
    return found;
  }

  async ticket(id: string): Promise<VendorObject | null> {
    const { status, json } = await this.call("GET", `/crm/v3/objects/tickets/${encodeURIComponent(id)}`);
    return status === 200 && isVendorObject(json) ? json : null;
  }
}
