/**
 * Deal pipelines of the local HubSpot stand-in: `GET|POST /crm/v3/pipelines/deals/{pipelineId}/stages`.
 * The default pipeline has HubSpot's documented stage ids; a created stage gets a generated numeric id, as one
 * made in HubSpot's UI does, so nothing can rely on a stage's label being its id.
 */
import { HttpError, invalidProperty, isRecord, type Reply } from "./http";

export interface Stage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

const DEFAULT_STAGES: Array<[id: string, label: string, probability: string]> = [
  ["appointmentscheduled", "Appointment Scheduled", "0.2"],
  ["qualifiedtobuy", "Qualified To Buy", "0.4"],
  ["presentationscheduled", "Presentation Scheduled", "0.6"],
  ["decisionmakerboughtin", "Decision Maker Bought-In", "0.8"],
  ["contractsent", "Contract Sent", "0.9"],
  ["closedwon", "Closed Won", "1.0"],
  ["closedlost", "Closed Lost", "0.0"],
];

export class Pipelines {
  private pipelines = new Map<string, Stage[]>();
  private nextStageId = 88_000_001;

  constructor() {
    this.reset();
  }

  reset(): void {
    const at = new Date(0).toISOString();
    const stages = DEFAULT_STAGES.map(([id, label, probability], i) => ({
      id,
      label,
      displayOrder: i,
      metadata: { isClosed: String(id.startsWith("closed")), probability },
      createdAt: at,
      updatedAt: at,
      archived: false,
    }));
    this.pipelines = new Map([["default", stages]]);
    this.nextStageId = 88_000_001;
  }

  stages(pipelineId: string): Stage[] {
    return (this.pipelines.get(pipelineId) ?? []).map((s) => ({ ...s, metadata: { ...s.metadata } }));
  }

  /** Rejects a `dealstage` that is not a stage id of the deal's pipeline, with HubSpot's INVALID_OPTION answer. */
  checkDealStage(pipelineId: string, stageId: string): void {
    const stages = this.pipelines.get(pipelineId);
    if (!stages) throw invalidProperty(`${pipelineId} was not one of the allowed options`, "pipeline", "INVALID_OPTION");
    if (!stages.some((s) => s.id === stageId)) {
      const allowed = stages.map((s) => s.id).join(", ");
      throw invalidProperty(`${stageId} was not one of the allowed options: [${allowed}]`, "dealstage", "INVALID_OPTION");
    }
  }

  /** `/crm/v3/pipelines/{objectType}/{pipelineId}/stages` (only deals are modelled). */
  route(method: string, objectType: string, pipelineId: string, body: unknown): Reply {
    if (objectType !== "deals") throw new HttpError(404, "OBJECT_NOT_FOUND", `No pipelines for ${objectType} here`);
    const stages = this.pipelines.get(pipelineId);
    if (!stages) throw new HttpError(404, "OBJECT_NOT_FOUND", `Unable to find pipeline ${pipelineId}`);
    if (method === "GET") return { status: 200, body: { results: this.stages(pipelineId) } };
    if (method !== "POST") throw new HttpError(405, "VALIDATION_ERROR", `${method} not allowed`);
    if (!isRecord(body) || typeof body.label !== "string" || body.label.trim() === "" || typeof body.displayOrder !== "number") {
      throw new HttpError(400, "VALIDATION_ERROR", "Invalid input JSON: label and displayOrder are required");
    }
    const label = body.label.trim();
    if (stages.some((s) => s.label.toLowerCase() === label.toLowerCase())) {
      throw new HttpError(409, "CONFLICT", `A stage with label ${label} already exists in pipeline ${pipelineId}`);
    }
    const metadata = isRecord(body.metadata) ? Object.fromEntries(Object.entries(body.metadata).map(([k, v]) => [k, String(v)])) : {};
    if (metadata.probability === undefined) {
      throw new HttpError(400, "VALIDATION_ERROR", "Deal stages require metadata.probability");
    }
    const at = new Date().toISOString();
    const stage: Stage = { id: String(this.nextStageId++), label, displayOrder: body.displayOrder, metadata, createdAt: at, updatedAt: at, archived: false };
    stages.push(stage);
    return { status: 201, body: { ...stage } };
  }
}
