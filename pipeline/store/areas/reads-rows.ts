// The rows the reads area (reads.ts) returns and their mappers: the lot summary and detail parts,
// the board's rows (a principal's scope applied: a lot or submission outside it is
// indistinguishable from one that does not exist) and the filters of both lists.

import type { ReadinessReason, ReadinessState, StageEventRow, StageStatus, SubmissionState } from '../../model/types.js';
import { expandReadiness } from '../../readiness/render.js';
import type { IdentifierDbRow } from '../rows.js';
import type { LotDetail, LotSummary, StageSummary } from '../types.js';
import { bool, parseJson } from '../values.js';

// When two events of one stage share a time, the more telling status is the one shown.
const STATUS_WEIGHT: Record<StageStatus, number> = { started: 0, completed: 1, on_hold: 2, aborted: 3 };

/** The latest status of each stage (by event time), in order of first activity. */
export function stageSummaries(stageEvents: readonly StageEventRow[]): StageSummary[] {
  const latest = new Map<string, StageSummary>();
  for (const e of stageEvents) {
    const cur = latest.get(e.stage);
    if (!cur || e.eventTime > cur.eventTime || (e.eventTime === cur.eventTime && STATUS_WEIGHT[e.status] > STATUS_WEIGHT[cur.status])) {
      // Keep the stage's first position in the map: order of first activity.
      latest.set(e.stage, { stage: e.stage, status: e.status, eventTime: e.eventTime, site: e.site ?? null });
    }
  }
  return [...latest.values()];
}

/** An identifier as the lot detail shows it. */
export function toIdentifierDetail(r: IdentifierDbRow): LotDetail['identifiers'][number] {
  return { scheme: r.scheme, value: r.value, issuer: r.issuer, submissionId: r.submission_id, createdAt: r.created_at };
}

export interface SummaryDbRow {
  id: number;
  lot_number: string;
  material_id: string;
  vendor: string | null;
  expiry_date: string | null;
  state: ReadinessState | null;
  late: number | null;
  readiness: string | null;
  computed_at: string | null;
}

export function toLotSummary(r: SummaryDbRow): LotSummary {
  return {
    lotId: r.id,
    lotNumber: r.lot_number,
    materialId: r.material_id,
    vendor: r.vendor,
    expiryDate: r.expiry_date,
    readiness: r.state,
    late: bool(r.late),
    reasonCodes: parseJson<{ reasons?: ReadinessReason[] }>(r.readiness, {}).reasons?.map((x) => x.code) ?? [],
    computedAt: r.computed_at,
  };
}

/** The board's filters (GET /api/v1/lots). */
export interface LotFilters {
  readiness?: ReadinessState[];
  late?: boolean;
  /** Partner that sent facts about the lot, or the lot's vendor. */
  partner?: string;
  site?: string;
  materialId?: string;
  po?: string;
  lotPrefix?: string;
  expiryFrom?: string;
  expiryTo?: string;
  openDeviation?: boolean;
  /** A document type the readiness found missing (evidence of R_DOC_MISSING / R_COA_MISSING / R_LABEL_APPROVAL_MISSING). */
  missingDocType?: string;
  oos?: boolean;
  /** Free text over lot number, material id / description, PO number. */
  q?: string;
}

/** A row of the board. */
export interface ScopedLotRow {
  lotId: number;
  lotNumber: string;
  materialId: string;
  materialDescription: string | null;
  site: string | null;
  vendor: string | null;
  poNumber: string | null;
  expiryDate: string | null;
  readiness: ReadinessState | null;
  late: boolean;
  reasons: ReadinessReason[];
  computedAt: string | null;
  /** The lot's facts changed and its readiness is being recomputed (dirty marker present). */
  recomputing: boolean;
}

/** A board row as selected by listLotsScoped. */
export interface ScopedLotDbRow {
  id: number;
  lot_number: string;
  material_id: string;
  description: string | null;
  site: string | null;
  vendor: string | null;
  po_number: string | null;
  expiry_date: string | null;
  state: ReadinessState | null;
  late: number | null;
  readiness: string | null;
  computed_at: string | null;
  recomputing: number | boolean;
}

/** The reason codes of an out-of-specification result (the `oos` filter). */
export const OOS = ['R_TEST_OOS', 'R_TEST_OOS_NOT_RETRACTED'];

/** The board's tables: every lot, its readiness and its material when there are. */
export const FROM = `FROM lots l LEFT JOIN lot_readiness r ON r.lot_id = l.id LEFT JOIN materials m ON m.material_id = l.material_id`;

export function toScopedLotRow(r: ScopedLotDbRow): ScopedLotRow {
  return {
    lotId: r.id,
    lotNumber: r.lot_number,
    materialId: r.material_id,
    materialDescription: r.description,
    site: r.site,
    vendor: r.vendor,
    poNumber: r.po_number,
    expiryDate: r.expiry_date,
    readiness: r.state,
    late: bool(r.late),
    reasons: expandReadiness(parseJson<{ reasons?: unknown }>(r.readiness, {}), { lotNumber: r.lot_number, materialId: r.material_id }).reasons,
    computedAt: r.computed_at,
    recomputing: bool(r.recomputing),
  };
}

/** The filters of the submission list (GET /api/v1/submissions). */
export interface SubmissionFilters {
  partner?: string;
  state?: SubmissionState[];
  since?: string;
  until?: string;
  q?: string;
}
