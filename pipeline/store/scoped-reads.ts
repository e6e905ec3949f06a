// Reads a principal can reach, every one filtered by its scope (scope.ts): the lot board with
// filters and keyset pagination, lot lookup, the provenance of a fact, submissions. A lot or
// submission outside the scope is indistinguishable from one that does not exist.

import type { ReadinessReason, ReadinessState, SubmissionState } from '../model/types.js';
import { expandReadiness } from '../readiness/render.js';
import { toSubmission, type SubmissionDbRow } from './ledger.js';
import { scopeWhere, submissionScopeWhere, type Access } from './scope.js';
import { bool, parseJson, type Sql } from './sql.js';
import type { SubmissionRow } from './types.js';

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

function filterSql(f: LotFilters): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, ...a: unknown[]) => {
    where.push(sql);
    args.push(...a);
  };
  if (f.readiness?.length) add(`r.state IN (SELECT value FROM json_each(?))`, JSON.stringify(f.readiness));
  if (f.late !== undefined) add('coalesce(r.late, 0) = ?', f.late ? 1 : 0);
  if (f.partner !== undefined) {
    const facts = ['lot_identifiers', 'stage_events', 'test_results', 'documents', 'dispositions'].map((t) => `EXISTS (SELECT 1 FROM ${t} x WHERE x.lot_id = l.id AND x.partner = ?1p)`);
    add(`(l.vendor = ? OR l.partner = ? OR ${facts.join(' OR ').replaceAll('?1p', '?')})`, ...Array(7).fill(f.partner));
  }
  if (f.site !== undefined) add('l.site = ?', f.site);
  if (f.materialId !== undefined) add('l.material_id = ?', f.materialId);
  if (f.po !== undefined) add('l.po_number = ?', f.po);
  if (f.lotPrefix !== undefined) add(`substr(l.lot_number, 1, length(?)) = ?`, f.lotPrefix, f.lotPrefix);
  if (f.expiryFrom !== undefined) add('l.expiry_date >= ?', f.expiryFrom);
  if (f.expiryTo !== undefined) add('l.expiry_date <= ?', f.expiryTo);
  if (f.openDeviation !== undefined)
    add(
      `${f.openDeviation ? '' : 'NOT '}EXISTS (SELECT 1 FROM deviation_lots dl JOIN deviations d ON d.id = dl.deviation_id
        WHERE dl.lot_id = l.id AND d.status IN ('open', 'investigation')
          AND d.updated_at = (SELECT max(d2.updated_at) FROM deviations d2 WHERE d2.issuer = d.issuer AND d2.partner_ref = d.partner_ref))`,
    );
  if (f.missingDocType !== undefined)
    add(
      // Compact reasons (readiness/render.ts) name the document by their code or params; rows
      // stored before migration 16 by their evidence.
      `EXISTS (SELECT 1 FROM json_each(r.readiness, '$.reasons') j
        WHERE (json_extract(j.value, '$.code') = 'R_COA_MISSING' AND ? = 'coa')
           OR (json_extract(j.value, '$.code') = 'R_LABEL_APPROVAL_MISSING' AND ? = 'label_approval')
           OR (json_extract(j.value, '$.code') = 'R_DOC_MISSING' AND json_extract(j.value, '$.params.type') = ?)
           OR (json_extract(j.value, '$.code') IN ('R_DOC_MISSING', 'R_COA_MISSING', 'R_LABEL_APPROVAL_MISSING')
               AND EXISTS (SELECT 1 FROM json_each(j.value, '$.evidence') e WHERE json_extract(e.value, '$.kind') = 'document' AND json_extract(e.value, '$.ref') = ?)))`,
      f.missingDocType,
      f.missingDocType,
      f.missingDocType,
      f.missingDocType,
    );
  if (f.oos !== undefined)
    add(`${f.oos ? '' : 'NOT '}EXISTS (SELECT 1 FROM json_each(r.readiness, '$.reasons') j WHERE json_extract(j.value, '$.code') IN (SELECT value FROM json_each(?)))`, JSON.stringify(OOS));
  if (f.q !== undefined && f.q.trim()) {
    const like = `%${f.q.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    add(`(l.lot_number LIKE ? ESCAPE '\\' OR l.material_id LIKE ? ESCAPE '\\' OR coalesce(m.description, '') LIKE ? ESCAPE '\\' OR coalesce(l.po_number, '') LIKE ? ESCAPE '\\')`, like, like, like, like);
  }
  return { where, args };
}

export const FROM = `FROM lots l LEFT JOIN lot_readiness r ON r.lot_id = l.id LEFT JOIN materials m ON m.material_id = l.material_id`;

/**
 * One page of the board in (lot number, material, id) order. `after` is the key of the last row
 * of the previous page (keyset pagination: stable while lots are added).
 */
export function listLotsScoped(
  sql: Sql,
  access: Access,
  f: LotFilters,
  page: { limit: number; after?: { lotNumber: string; materialId: string; id: number } },
): ScopedLotRow[] {
  const { where, args } = filterSql(f);
  const scope = scopeWhere(access, 'l');
  where.push(scope.sql);
  args.push(...scope.args);
  if (page.after) {
    where.push('(l.lot_number, l.material_id, l.id) > (?, ?, ?)');
    args.push(page.after.lotNumber, page.after.materialId, page.after.id);
  }
  const text = `SELECT l.id, l.lot_number, l.material_id, m.description, l.site, l.vendor, l.po_number, l.expiry_date, r.state, r.late, r.readiness, r.computed_at,
      EXISTS (SELECT 1 FROM dirty_lots dl WHERE dl.lot_id = l.id) AS recomputing
    ${FROM} WHERE ${where.join(' AND ')} ORDER BY l.lot_number, l.material_id, l.id LIMIT ?`;
  return (sql.q(text).all(...args, page.limit) as ScopedLotDbRow[]).map(toScopedLotRow);
}

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

export function countLotsScoped(sql: Sql, access: Access, f: LotFilters): number {
  const { where, args } = filterSql(f);
  const scope = scopeWhere(access, 'l');
  where.push(scope.sql);
  args.push(...scope.args);
  return (sql.q(`SELECT count(*) AS n ${FROM} WHERE ${where.join(' AND ')}`).get(...args) as { n: number }).n;
}

/** The lot id when the lot exists and is in scope; undefined otherwise (no difference shown). */
export function lotIdInScope(sql: Sql, access: Access, lotId: number): number | undefined {
  const scope = scopeWhere(access, 'l');
  const r = sql.q(`SELECT l.id FROM lots l WHERE l.id = ? AND ${scope.sql}`).get(lotId, ...scope.args) as { id: number } | undefined;
  return r?.id;
}

/** Lot ids for (lot number[, material]) within scope. */
export function lotIdsByNumberInScope(sql: Sql, access: Access, lotNumber: string, materialId?: string): number[] {
  const scope = scopeWhere(access, 'l');
  return (
    sql
      .q(`SELECT l.id FROM lots l WHERE l.lot_number = ? AND (? IS NULL OR l.material_id = ?) AND ${scope.sql} ORDER BY l.material_id`)
      .all(lotNumber, materialId ?? null, materialId ?? null, ...scope.args) as { id: number }[]
  ).map((r) => r.id);
}

/** Did submission `submissionId` write a fact about lot `lotId`? (at `line`, when given) */
export function submissionTouchedLot(sql: Sql, lotId: number, submissionId: number, line?: number): boolean {
  const tables = ['lots', 'lot_identifiers', 'stage_events', 'test_results', 'documents', 'dispositions', 'deviation_lots'];
  const parts = tables.map((t) =>
    t === 'lot_identifiers'
      ? `SELECT 1 FROM lot_identifiers WHERE lot_id = @lot AND submission_id = @sub`
      : `SELECT 1 FROM ${t} WHERE ${t === 'lots' ? 'id' : 'lot_id'} = @lot AND submission_id = @sub AND (@line IS NULL OR line = @line)`,
  );
  const r = sql.q(`SELECT EXISTS (${parts.join(' UNION ALL ')}) AS y`).get({ lot: lotId, sub: submissionId, line: line ?? null }) as { y: number };
  return r.y === 1;
}

export interface SubmissionFilters {
  partner?: string;
  state?: SubmissionState[];
  since?: string;
  until?: string;
  q?: string;
}

/** Submissions in scope, newest first; `before` is the id of the last row of the previous page. */
export function listSubmissionsScoped(sql: Sql, access: Access, f: SubmissionFilters, page: { limit: number; before?: number }): SubmissionRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.partner !== undefined) {
    where.push('s.partner = ?');
    args.push(f.partner);
  }
  if (f.state?.length) {
    where.push('s.state IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(f.state));
  }
  if (f.since !== undefined) {
    where.push('s.received_at >= ?');
    args.push(f.since);
  }
  if (f.until !== undefined) {
    where.push('s.received_at < ?');
    args.push(f.until);
  }
  if (f.q) {
    where.push(`s.original_name LIKE ? ESCAPE '\\'`);
    args.push(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (page.before !== undefined) {
    where.push('s.id < ?');
    args.push(page.before);
  }
  const scope = submissionScopeWhere(access, 's');
  where.push(scope.sql);
  args.push(...scope.args);
  return (sql.q(`SELECT s.* FROM submissions s WHERE ${where.join(' AND ')} ORDER BY s.id DESC LIMIT ?`).all(...args, page.limit) as SubmissionDbRow[]).map(toSubmission);
}

export function getSubmissionScoped(sql: Sql, access: Access, id: number): SubmissionRow | undefined {
  const scope = submissionScopeWhere(access, 's');
  const r = sql.q(`SELECT s.* FROM submissions s WHERE s.id = ? AND ${scope.sql}`).get(id, ...scope.args) as SubmissionDbRow | undefined;
  return r && toSubmission(r);
}
