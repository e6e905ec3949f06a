// Read models for the CLI and the jobs: one lot in full, lot lists, lot id sets.

import type { ReadinessReason, ReadinessState, StageEventRow, StageStatus } from '../model/types.js';
import { getLot, lotsByNumber, plannedReceiptOf } from './masterdata.js';
import { conflictingIdentifiers, currentDeviations, getReadiness, listIdentifiers } from './lot-facts.js';
import {
  toDisposition,
  toDocument,
  toLot,
  toMaterial,
  toPlannedReceipt,
  toStageEvent,
  toTestResult,
  type DispositionDbRow,
  type DocumentDbRow,
  type IdentifierDbRow,
  type LotDbRow,
  type MaterialDbRow,
  type StageDbRow,
  type TestDbRow,
} from './rows.js';
import { bool, parseJson, type Sql } from './sql.js';
import type { LotDetail, LotSummary, StageSummary } from './types.js';

export function getLotDetailById(sql: Sql, lotId: number): LotDetail | undefined {
  const lot = getLot(sql, lotId);
  return lot && detailOf(sql, lot);
}

/** Lots by the sponsor's lot number: undefined when none, one detail, or all matches when ambiguous. */
export function getLotDetail(sql: Sql, lotNumber: string, materialId?: string): LotDetail | LotDetail[] | undefined {
  const lots = lotsByNumber(sql, lotNumber, materialId);
  if (lots.length === 0) return undefined;
  if (lots.length === 1) return detailOf(sql, lots[0]);
  return lots.map((l) => detailOf(sql, l));
}

/** Lot ids named by a partner identifier value (any scheme and issuer unless given). */
export function findLotIdsByIdentifier(sql: Sql, value: string, opts: { scheme?: string; issuer?: string } = {}): number[] {
  return (
    sql
      .q(
        `SELECT DISTINCT lot_id FROM lot_identifiers
         WHERE value = ? AND (? IS NULL OR scheme = ?) AND (? IS NULL OR issuer = ?) ORDER BY lot_id`,
      )
      .all(value, opts.scheme ?? null, opts.scheme ?? null, opts.issuer ?? null, opts.issuer ?? null) as { lot_id: number }[]
  ).map((r) => r.lot_id);
}

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

function detailOf(sql: Sql, lotDb: LotDbRow): LotDetail {
  const lotId = lotDb.id;
  const stageEvents = (sql.q('SELECT * FROM stage_events WHERE lot_id = ? ORDER BY event_time, stage, status').all(lotId) as StageDbRow[]).map(
    toStageEvent,
  );
  const material = sql.q('SELECT * FROM materials WHERE material_id = ?').get(lotDb.material_id) as MaterialDbRow | undefined;
  const po = plannedReceiptOf(sql, lotDb);
  return {
    lot: toLot(lotDb),
    material: material ? toMaterial(material) : null,
    identifiers: listIdentifiers(sql, lotId).map(toIdentifierDetail),
    conflictingIdentifiers: conflictingIdentifiers(sql, lotId),
    stages: stageSummaries(stageEvents),
    stageEvents,
    tests: (
      sql
        .q(`SELECT * FROM test_results WHERE lot_id = ? ORDER BY test_code, coalesce(tested_at, ''), coalesce(sample_id, ''), coalesce(replicate, ''), id`)
        .all(lotId) as TestDbRow[]
    ).map((r) => toTestResult(r, true)),
    documents: (sql.q('SELECT * FROM documents WHERE lot_id = ? ORDER BY type, doc_id, version').all(lotId) as DocumentDbRow[]).map(toDocument),
    deviations: currentDeviations(sql, lotId),
    dispositions: (sql.q('SELECT * FROM dispositions WHERE lot_id = ? ORDER BY decided_at').all(lotId) as DispositionDbRow[]).map(toDisposition),
    plannedReceipt: po ? toPlannedReceipt(po) : null,
    readiness: getReadiness(sql, lotId),
  };
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

/** Lot summaries ordered by lot number. `unassessed` selects lots whose readiness was never computed. */
export function listLots(
  sql: Sql,
  opts: { readiness?: ReadinessState; unassessed?: boolean; late?: boolean; vendor?: string; materialId?: string; limit?: number; offset?: number } = {},
): LotSummary[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.readiness !== undefined) {
    where.push('r.state = ?');
    args.push(opts.readiness);
  }
  if (opts.unassessed) where.push('r.lot_id IS NULL');
  if (opts.late !== undefined) {
    where.push('coalesce(r.late, 0) = ?');
    args.push(opts.late ? 1 : 0);
  }
  if (opts.vendor !== undefined) {
    where.push('l.vendor = ?');
    args.push(opts.vendor);
  }
  if (opts.materialId !== undefined) {
    where.push('l.material_id = ?');
    args.push(opts.materialId);
  }
  const text = `SELECT l.id, l.lot_number, l.material_id, l.vendor, l.expiry_date, r.state, r.late, r.readiness, r.computed_at
    FROM lots l LEFT JOIN lot_readiness r ON r.lot_id = l.id
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY l.lot_number, l.material_id LIMIT ? OFFSET ?`;
  const rows = sql.q(text).all(...args, opts.limit ?? 1000, opts.offset ?? 0) as SummaryDbRow[];
  return rows.map(toLotSummary);
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

/** Lots still in play: no disposition yet, or the latest one is not final (quarantine). */
export function listOpenLotIds(sql: Sql): number[] {
  return (
    sql
      .q(
        `SELECT l.id FROM lots l
         WHERE coalesce((SELECT d.decision FROM dispositions d WHERE d.lot_id = l.id ORDER BY d.decided_at DESC LIMIT 1), '') NOT IN ('released', 'rejected')
         ORDER BY l.id`,
      )
      .all() as { id: number }[]
  ).map((r) => r.id);
}

/**
 * Open lots whose readiness the clock may have changed by `nowIso` (clock_due_at passed), that
 * were computed with another rule set (rules_hash), or that have no readiness yet.
 */
export function listClockDueLotIds(sql: Sql, nowIso: string, rulesHash: string): number[] {
  return (
    sql
      .q(
        `SELECT l.id FROM lots l LEFT JOIN lot_readiness r ON r.lot_id = l.id
         WHERE (r.lot_id IS NULL OR r.clock_due_at <= ? OR r.rules_hash IS NOT ?)
           AND coalesce((SELECT d.decision FROM dispositions d WHERE d.lot_id = l.id ORDER BY d.decided_at DESC LIMIT 1), '') NOT IN ('released', 'rejected')
         ORDER BY l.id`,
      )
      .all(nowIso, rulesHash) as { id: number }[]
  ).map((r) => r.id);
}

export function listAllLotIds(sql: Sql): number[] {
  return (sql.q('SELECT id FROM lots ORDER BY id').all() as { id: number }[]).map((r) => r.id);
}
