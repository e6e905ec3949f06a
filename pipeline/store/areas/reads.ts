// The reads area of the async store: the read model the API, the CLI and the board use — one
// lot in full, the lot list, and every read a principal can reach filtered by its scope: the
// board with filters and keyset pagination, lot lookup, the provenance of a fact, submissions.
// One implementation for both dialects (db/db.ts); the rows and filters are reads-rows.ts.
//
// The scope predicate is built in one place, store/scope.ts (scopeWhere / submissionScopeWhere),
// and used here as it is. The lot detail is assembled from the other areas' reads (masterdata,
// readiness).
//
// Where the dialects differ: the board's JSON filters (`missingDocType`, `oos`) read the stored
// readiness document with json_each/json_extract on SQLite and jsonb_array_elements/->> on
// PostgreSQL (jsonFns below); lists that were a JSON array parameter (`IN (SELECT value FROM
// json_each(?))`) are plain IN lists; free text matches with lower(…) LIKE lower(…) because
// SQLite's LIKE ignores ASCII case and PostgreSQL's does not; optional conditions are left out in
// JS rather than written `(? IS NULL OR …)`.

import type { ReadinessState } from '../../model/types.js';
import type { Db } from '../db/db.js';
import { marks } from '../db/db.js';
import {
  toDeviation,
  toDisposition,
  toDocument,
  toLot,
  toMaterial,
  toPlannedReceipt,
  toStageEvent,
  toTestResult,
  type DeviationDbRow,
  type DispositionDbRow,
  type DocumentDbRow,
  type IdentifierDbRow,
  type LotDbRow,
  type MaterialDbRow,
  type StageDbRow,
  type SubmissionDbRow,
  type TestDbRow,
  toSubmission,
} from '../rows.js';
import { scopeWhere, submissionScopeWhere, type Access, type SqlPart } from '../scope.js';
import { bool } from '../values.js';
import type { LotDetail, LotSummary, SubmissionRow } from '../types.js';
import { masterdataArea } from './masterdata.js';
import { readinessArea } from './readiness.js';
import { conflictingIdentifiers } from './readiness-facts.js';
import {
  FROM,
  OOS,
  stageSummaries,
  toIdentifierDetail,
  toLotSummary,
  toScopedLotRow,
  type LotFilters,
  type ScopedLotDbRow,
  type ScopedLotRow,
  type SubmissionFilters,
  type SummaryDbRow,
} from './reads-rows.js';

export type { LotFilters, ScopedLotRow, SubmissionFilters } from './reads-rows.js';

export interface ListLotsOptions {
  readiness?: ReadinessState;
  unassessed?: boolean;
  late?: boolean;
  vendor?: string;
  materialId?: string;
  limit?: number;
  offset?: number;
}

/** Keyset of the board: the (lot number, material, id) of the last row of the previous page. */
export interface LotPageKey {
  lotNumber: string;
  materialId: string;
  id: number;
}

export interface ReadsArea {
  /** Lots by the sponsor's lot number: undefined when none, one detail, or all matches when ambiguous. */
  getLotDetail(lotNumber: string, materialId?: string): Promise<LotDetail | LotDetail[] | undefined>;
  getLotDetailById(lotId: number): Promise<LotDetail | undefined>;
  /** Lot summaries ordered by lot number. `unassessed` selects lots whose readiness was never computed. */
  listLots(opts?: ListLotsOptions): Promise<LotSummary[]>;
  /** One page of the board in (lot number, material, id) order, after the key of the previous page. */
  listLotsScoped(access: Access, f: LotFilters, page: { limit: number; after?: LotPageKey }): Promise<ScopedLotRow[]>;
  countLotsScoped(access: Access, f: LotFilters): Promise<number>;
  /** The lot id when the lot exists and is in scope; undefined otherwise (no difference shown). */
  lotIdInScope(access: Access, lotId: number): Promise<number | undefined>;
  /** Lot ids for (lot number[, material]) within scope, by material. */
  lotIdsByNumberInScope(access: Access, lotNumber: string, materialId?: string): Promise<number[]>;
  /** Did submission `submissionId` write a fact about lot `lotId`? (at `line`, when given) */
  submissionTouchedLot(lotId: number, submissionId: number, line?: number): Promise<boolean>;
  /** Submissions in scope, newest first; `before` is the id of the last row of the previous page. */
  listSubmissionsScoped(access: Access, f: SubmissionFilters, page: { limit: number; before?: number }): Promise<SubmissionRow[]>;
  getSubmissionScoped(access: Access, id: number): Promise<SubmissionRow | undefined>;
}

export function readsArea(db: Db): ReadsArea {
  const masterdata = masterdataArea(db);
  const detail = (lot: LotDbRow) => detailOf(db, lot);
  return {
    getLotDetail: async (lotNumber, materialId) => {
      const lots = await masterdata.lotsByNumber(lotNumber, materialId);
      if (lots.length === 0) return undefined;
      if (lots.length === 1) return detail(lots[0]);
      const out: LotDetail[] = [];
      for (const l of lots) out.push(await detail(l));
      return out;
    },
    getLotDetailById: async (lotId) => {
      const lot = await masterdata.getLot(lotId);
      return lot && detail(lot);
    },
    listLots: (opts) => listLots(db, opts),
    listLotsScoped: (access, f, page) => listLotsScoped(db, access, f, page),
    countLotsScoped: (access, f) => countLotsScoped(db, access, f),
    lotIdInScope: (access, lotId) => lotIdInScope(db, access, lotId),
    lotIdsByNumberInScope: (access, lotNumber, materialId) => lotIdsByNumberInScope(db, access, lotNumber, materialId),
    submissionTouchedLot: (lotId, submissionId, line) => submissionTouchedLot(db, lotId, submissionId, line),
    listSubmissionsScoped: (access, f, page) => listSubmissionsScoped(db, access, f, page),
    getSubmissionScoped: (access, id) => getSubmissionScoped(db, access, id),
  };
}

// ---------------------------------------------------------------- one lot in full

/** One lot in full; every statement's order ends on a unique key, so both dialects agree. */
async function detailOf(db: Db, lotDb: LotDbRow): Promise<LotDetail> {
  const lotId = lotDb.id;
  const stageEvents = (await db.all<StageDbRow>('SELECT * FROM stage_events WHERE lot_id = ? ORDER BY event_time, stage, status', [lotId])).map(toStageEvent);
  const material = await db.get<MaterialDbRow>('SELECT * FROM materials WHERE material_id = ?', [lotDb.material_id]);
  const po = await masterdataArea(db).plannedReceiptOf(lotDb);
  const identifiers = await db.all<IdentifierDbRow>('SELECT * FROM lot_identifiers WHERE lot_id = ? ORDER BY scheme, value, issuer', [lotId]);
  const tests = await db.all<TestDbRow>(
    `SELECT * FROM test_results WHERE lot_id = ? ORDER BY test_code, coalesce(tested_at, ''), coalesce(sample_id, ''), coalesce(replicate, ''), id`,
    [lotId],
  );
  const documents = await db.all<DocumentDbRow>('SELECT * FROM documents WHERE lot_id = ? ORDER BY type, doc_id, version', [lotId]);
  const dispositions = await db.all<DispositionDbRow>('SELECT * FROM dispositions WHERE lot_id = ? ORDER BY decided_at', [lotId]);
  return {
    lot: toLot(lotDb),
    material: material ? toMaterial(material) : null,
    identifiers: identifiers.map(toIdentifierDetail),
    conflictingIdentifiers: await conflictingIdentifiers(db, lotId),
    stages: stageSummaries(stageEvents),
    stageEvents,
    tests: tests.map((r) => toTestResult(r, true)),
    documents: documents.map(toDocument),
    deviations: await currentDeviations(db, lotId),
    dispositions: dispositions.map(toDisposition),
    plannedReceipt: po ? toPlannedReceipt(po) : null,
    readiness: await readinessArea(db).getReadiness(lotId),
  };
}

/** The latest version (by updatedAt) of every deviation that has ever named the lot. */
async function currentDeviations(db: Db, lotId: number) {
  const rows = await db.all<DeviationDbRow>(
    `SELECT d.* FROM deviations d
     WHERE d.id IN (
       SELECT (SELECT v.id FROM deviations v WHERE v.issuer = a.issuer AND v.partner_ref = a.partner_ref ORDER BY v.updated_at DESC LIMIT 1)
       FROM (SELECT DISTINCT dv.issuer, dv.partner_ref FROM deviation_lots dl JOIN deviations dv ON dv.id = dl.deviation_id WHERE dl.lot_id = ?) a
     )
     ORDER BY d.issuer, d.partner_ref`,
    [lotId],
  );
  return rows.map(toDeviation);
}

// ---------------------------------------------------------------- lot list (CLI)

async function listLots(db: Db, opts: ListLotsOptions = {}): Promise<LotSummary[]> {
  const where = new Where();
  if (opts.readiness !== undefined) where.add('r.state = ?', opts.readiness);
  if (opts.unassessed) where.add('r.lot_id IS NULL');
  if (opts.late !== undefined) where.add('coalesce(r.late, 0) = ?', opts.late ? 1 : 0);
  if (opts.vendor !== undefined) where.add('l.vendor = ?', opts.vendor);
  if (opts.materialId !== undefined) where.add('l.material_id = ?', opts.materialId);
  // (lot_number, material_id) is the lots key: the order is complete on both dialects.
  const rows = await db.all<SummaryDbRow>(
    `SELECT l.id, l.lot_number, l.material_id, l.vendor, l.expiry_date, r.state, r.late, r.readiness, r.computed_at
     FROM lots l LEFT JOIN lot_readiness r ON r.lot_id = l.id
     ${where.sql()} ORDER BY l.lot_number, l.material_id LIMIT ? OFFSET ?`,
    [...where.args, opts.limit ?? 1000, opts.offset ?? 0],
  );
  return rows.map(toLotSummary);
}

// ---------------------------------------------------------------- scoped reads

/** A conjunction built in JS: conditions with their arguments, in order. */
class Where {
  readonly parts: string[] = [];
  readonly args: unknown[] = [];
  add(sql: string, ...args: unknown[]): this {
    this.parts.push(sql);
    this.args.push(...args);
    return this;
  }
  addPart(p: SqlPart): this {
    return this.add(p.sql, ...p.args);
  }
  sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/**
 * The JSON of a stored readiness, per dialect. `each(doc, key, alias)` is a row source over the
 * array `doc.key` whose rows have a column `value` (SQLite's json_each shape); `text(value, path)`
 * reads a scalar as text. On PostgreSQL a missing or non-array `key` gives no rows, as json_each
 * does for a missing one.
 */
interface JsonFns {
  doc(textColumn: string): string;
  each(doc: string, key: string, alias: string): string;
  text(value: string, path: readonly string[]): string;
}

const SQLITE_JSON: JsonFns = {
  doc: (col) => col,
  each: (doc, key, alias) => `json_each(${doc}, '$.${key}') ${alias}`,
  text: (value, path) => `json_extract(${value}, '$.${path.join('.')}')`,
};

const POSTGRES_JSON: JsonFns = {
  doc: (col) => `CAST(${col} AS jsonb)`,
  each: (doc, key, alias) => `jsonb_array_elements(CASE WHEN jsonb_typeof(${doc} -> '${key}') = 'array' THEN ${doc} -> '${key}' END) AS ${alias}(value)`,
  text: (value, path) => `${value}${path.map((k, i) => `${i === path.length - 1 ? ' ->> ' : ' -> '}'${k}'`).join('')}`,
};

const jsonFns = (db: Db): JsonFns => (db.dialect === 'postgres' ? POSTGRES_JSON : SQLITE_JSON);

const DOC_MISSING_CODES = ['R_DOC_MISSING', 'R_COA_MISSING', 'R_LABEL_APPROVAL_MISSING'];
const quoted = (codes: readonly string[]) => codes.map((c) => `'${c}'`).join(', ');

/** `%text%` for LIKE … ESCAPE '\', the text's own wildcards escaped. */
const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Case-insensitive (ASCII, as SQLite's LIKE) contains-match on both dialects. */
const likeLower = (col: string) => `lower(${col}) LIKE lower(CAST(? AS TEXT)) ESCAPE '\\'`;

/** The board's filters as SQL. */
function lotFilterWhere(db: Db, f: LotFilters): Where {
  const json = jsonFns(db);
  const w = new Where();
  if (f.readiness?.length) w.add(`r.state IN (${marks(f.readiness)})`, ...f.readiness);
  if (f.late !== undefined) w.add('coalesce(r.late, 0) = ?', f.late ? 1 : 0);
  if (f.partner !== undefined) {
    const facts = ['lot_identifiers', 'stage_events', 'test_results', 'documents', 'dispositions'].map((t) => `EXISTS (SELECT 1 FROM ${t} x WHERE x.lot_id = l.id AND x.partner = ?)`);
    w.add(`(l.vendor = ? OR l.partner = ? OR ${facts.join(' OR ')})`, ...Array<string>(7).fill(f.partner));
  }
  if (f.site !== undefined) w.add('l.site = ?', f.site);
  if (f.materialId !== undefined) w.add('l.material_id = ?', f.materialId);
  if (f.po !== undefined) w.add('l.po_number = ?', f.po);
  if (f.lotPrefix !== undefined) w.add('substr(l.lot_number, 1, length(CAST(? AS TEXT))) = ?', f.lotPrefix, f.lotPrefix);
  if (f.expiryFrom !== undefined) w.add('l.expiry_date >= ?', f.expiryFrom);
  if (f.expiryTo !== undefined) w.add('l.expiry_date <= ?', f.expiryTo);
  if (f.openDeviation !== undefined)
    w.add(
      `${f.openDeviation ? '' : 'NOT '}EXISTS (SELECT 1 FROM deviation_lots dl JOIN deviations d ON d.id = dl.deviation_id
        WHERE dl.lot_id = l.id AND d.status IN ('open', 'investigation')
          AND d.updated_at = (SELECT max(d2.updated_at) FROM deviations d2 WHERE d2.issuer = d.issuer AND d2.partner_ref = d.partner_ref))`,
    );
  if (f.missingDocType !== undefined) w.addPart(missingDocPart(json, f.missingDocType));
  if (f.oos !== undefined)
    w.add(`${f.oos ? '' : 'NOT '}EXISTS (SELECT 1 FROM ${json.each(json.doc('r.readiness'), 'reasons', 'j')} WHERE ${json.text('j.value', ['code'])} IN (${quoted(OOS)}))`);
  if (f.q !== undefined && f.q.trim()) {
    const like = containsPattern(f.q.trim());
    w.add(`(${likeLower('l.lot_number')} OR ${likeLower('l.material_id')} OR ${likeLower(`coalesce(m.description, '')`)} OR ${likeLower(`coalesce(l.po_number, '')`)})`, like, like, like, like);
  }
  return w;
}

/**
 * A reason saying document `type` is missing. Compact reasons (readiness/render.ts) name the
 * document by their code (CoA, label approval) or params; rows stored before migration 16 by
 * their evidence. The two code-only cases depend on `type` alone, so they are decided here.
 */
function missingDocPart(json: JsonFns, type: string): SqlPart {
  const code = json.text('j.value', ['code']);
  const alternatives: string[] = [];
  const args: unknown[] = [];
  if (type === 'coa') alternatives.push(`${code} = 'R_COA_MISSING'`);
  if (type === 'label_approval') alternatives.push(`${code} = 'R_LABEL_APPROVAL_MISSING'`);
  alternatives.push(`(${code} = 'R_DOC_MISSING' AND ${json.text('j.value', ['params', 'type'])} = ?)`);
  args.push(type);
  alternatives.push(
    `(${code} IN (${quoted(DOC_MISSING_CODES)})
      AND EXISTS (SELECT 1 FROM ${json.each('j.value', 'evidence', 'e')} WHERE ${json.text('e.value', ['kind'])} = 'document' AND ${json.text('e.value', ['ref'])} = ?))`,
  );
  args.push(type);
  return { sql: `EXISTS (SELECT 1 FROM ${json.each(json.doc('r.readiness'), 'reasons', 'j')} WHERE ${alternatives.join(' OR ')})`, args };
}

/** The filters and the scope of a board query. */
function boardWhere(db: Db, access: Access, f: LotFilters): Where {
  return lotFilterWhere(db, f).addPart(scopeWhere(access, 'l'));
}

async function listLotsScoped(db: Db, access: Access, f: LotFilters, page: { limit: number; after?: LotPageKey }): Promise<ScopedLotRow[]> {
  const where = boardWhere(db, access, f);
  if (page.after) where.add('(l.lot_number, l.material_id, l.id) > (?, ?, ?)', page.after.lotNumber, page.after.materialId, page.after.id);
  const rows = await db.all<ScopedLotDbRow>(
    `SELECT l.id, l.lot_number, l.material_id, m.description, l.site, l.vendor, l.po_number, l.expiry_date, r.state, r.late, r.readiness, r.computed_at,
       EXISTS (SELECT 1 FROM dirty_lots dl WHERE dl.lot_id = l.id) AS recomputing
     ${FROM} ${where.sql()} ORDER BY l.lot_number, l.material_id, l.id LIMIT ?`,
    [...where.args, page.limit],
  );
  return rows.map(toScopedLotRow);
}

async function countLotsScoped(db: Db, access: Access, f: LotFilters): Promise<number> {
  const where = boardWhere(db, access, f);
  const r = await db.get<{ n: number }>(`SELECT count(*) AS n ${FROM} ${where.sql()}`, where.args);
  return Number(r!.n);
}

async function lotIdInScope(db: Db, access: Access, lotId: number): Promise<number | undefined> {
  const where = new Where().add('l.id = ?', lotId).addPart(scopeWhere(access, 'l'));
  const r = await db.get<{ id: number }>(`SELECT l.id FROM lots l ${where.sql()}`, where.args);
  return r?.id;
}

async function lotIdsByNumberInScope(db: Db, access: Access, lotNumber: string, materialId?: string): Promise<number[]> {
  const where = new Where().add('l.lot_number = ?', lotNumber);
  if (materialId !== undefined) where.add('l.material_id = ?', materialId);
  where.addPart(scopeWhere(access, 'l'));
  return (await db.all<{ id: number }>(`SELECT l.id FROM lots l ${where.sql()} ORDER BY l.material_id`, where.args)).map((r) => r.id);
}

/** The tables a submission writes lot facts to, with their lot column. */
const FACT_TABLES: readonly { table: string; lot: string; hasLine: boolean }[] = [
  { table: 'lots', lot: 'id', hasLine: true },
  { table: 'lot_identifiers', lot: 'lot_id', hasLine: false },
  { table: 'stage_events', lot: 'lot_id', hasLine: true },
  { table: 'test_results', lot: 'lot_id', hasLine: true },
  { table: 'documents', lot: 'lot_id', hasLine: true },
  { table: 'dispositions', lot: 'lot_id', hasLine: true },
  { table: 'deviation_lots', lot: 'lot_id', hasLine: true },
];

async function submissionTouchedLot(db: Db, lotId: number, submissionId: number, line?: number): Promise<boolean> {
  const parts: string[] = [];
  const args: unknown[] = [];
  for (const t of FACT_TABLES) {
    // Identifiers carry no line: any identifier the submission wrote counts.
    // `line == null`: no line given (null too).
    const byLine = line != null && t.hasLine;
    parts.push(`SELECT 1 FROM ${t.table} WHERE ${t.lot} = ? AND submission_id = ?${byLine ? ' AND line = ?' : ''}`);
    args.push(lotId, submissionId, ...(byLine ? [line] : []));
  }
  const r = await db.get<{ y: unknown }>(`SELECT EXISTS (${parts.join(' UNION ALL ')}) AS y`, args);
  return bool(r?.y);
}

async function listSubmissionsScoped(db: Db, access: Access, f: SubmissionFilters, page: { limit: number; before?: number }): Promise<SubmissionRow[]> {
  const where = new Where();
  if (f.partner !== undefined) where.add('s.partner = ?', f.partner);
  if (f.state?.length) where.add(`s.state IN (${marks(f.state)})`, ...f.state);
  if (f.since !== undefined) where.add('s.received_at >= ?', f.since);
  if (f.until !== undefined) where.add('s.received_at < ?', f.until);
  if (f.q) where.add(likeLower('s.original_name'), containsPattern(f.q));
  if (page.before !== undefined) where.add('s.id < ?', page.before);
  where.addPart(submissionScopeWhere(access, 's'));
  const rows = await db.all<SubmissionDbRow>(`SELECT s.* FROM submissions s ${where.sql()} ORDER BY s.id DESC LIMIT ?`, [...where.args, page.limit]);
  return rows.map(toSubmission);
}

async function getSubmissionScoped(db: Db, access: Access, id: number): Promise<SubmissionRow | undefined> {
  const where = new Where().add('s.id = ?', id).addPart(submissionScopeWhere(access, 's'));
  const r = await db.get<SubmissionDbRow>(`SELECT s.* FROM submissions s ${where.sql()}`, where.args);
  return r && toSubmission(r);
}
