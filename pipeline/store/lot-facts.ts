// What the readiness rules see of one lot, and the readiness last computed for it.
// Every list is in a fixed order defined by the data itself, so the same facts give the same
// LotFacts whatever order the files arrived in (storage ids are left out for that reason).

import { hash as digestOf } from 'node:crypto';
import type { IdentifierRow, LotFacts, Readiness } from '../model/types.js';
import { compactReadiness, expandReadiness, expandReason } from '../readiness/render.js';
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
  type PurchaseOrderDbRow,
  type StageDbRow,
  type TestDbRow,
} from './rows.js';
import { bool, parseJson, type Sql } from './sql.js';
import type { StoredReadiness } from './types.js';

export function loadLotFacts(sql: Sql, lotId: number): LotFacts {
  return loadLotFactsBatch(sql, [lotId])[0];
}

/** Per-lot rows of one fact table for a batch of lots: one statement, grouped by lot in JS. */
function byLot<T>(sql: Sql, query: string, ids: string, lotIds: readonly number[]): Map<number, T[]> {
  const out = new Map<number, T[]>(lotIds.map((id) => [id, []]));
  for (const row of sql.q(query).all(ids) as (T & { lot_id: number })[]) out.get(row.lot_id)!.push(row);
  return out;
}

const IN_BATCH = 'lot_id IN (SELECT value FROM json_each(?))';

export const DOC_COLUMNS = (
  ['type', 'doc_id', 'version', 'sha256', 'stored_path', 'issued_at', 'supersedes', 'submission_id'] as const satisfies readonly (keyof DocumentDbRow)[]
).join(', ');
export const PO_COLUMNS = (
  ['po_number', 'po_item', 'material_id', 'quantity', 'uom', 'vendor', 'planned_date', 'confirmed_date', 'lot_number', 'status'] as const satisfies readonly (keyof PurchaseOrderDbRow)[]
)
  .map((c) => `p.${c}`)
  .join(', ');
export const LOT_COLUMNS = (
  ['id', 'material_id', 'lot_number', 'expiry_date', 'manufacture_date', 'quantity', 'uom', 'site', 'vendor', 'quality_state', 'po_number', 'po_item'] as const satisfies readonly (keyof LotDbRow)[]
).join(', ');

/**
 * loadLotFacts for several lots: every fact table — the lot rows, identifiers, stages, tests,
 * documents, deviations, dispositions, PO lines — is read with one statement for the whole batch
 * (ordered as for one lot, grouped by lot here) instead of one statement per lot and table.
 */
export function loadLotFactsBatch(sql: Sql, lotIds: readonly number[]): LotFacts[] {
  if (lotIds.length === 0) return [];
  const ids = JSON.stringify(lotIds);
  // Only the columns the model carries (provenance columns make rows wide).
  const lots = new Map((sql.q(`SELECT ${LOT_COLUMNS} FROM lots WHERE id IN (SELECT value FROM json_each(?))`).all(ids) as LotDbRow[]).map((l) => [l.id, l]));
  const stages = byLot<StageDbRow>(sql, `SELECT lot_id, id, stage, status, event_time, site, submission_id, line FROM stage_events WHERE ${IN_BATCH} ORDER BY lot_id, event_time, stage, status`, ids, lotIds);
  const docs = byLot<DocumentDbRow>(sql, `SELECT lot_id, ${DOC_COLUMNS} FROM documents WHERE ${IN_BATCH} ORDER BY lot_id, type, doc_id, version`, ids, lotIds);
  const disps = byLot<DispositionDbRow>(sql, `SELECT * FROM dispositions WHERE ${IN_BATCH} ORDER BY lot_id, decided_at`, ids, lotIds);
  // Identifiers, and whether each also names another lot; the lot numbers of a conflict (rare)
  // only for a lot that has one.
  const idRows = byLot<IdentifierFlagRow>(
    sql,
    `SELECT i.lot_id, i.scheme, i.value, i.issuer,
       EXISTS (SELECT 1 FROM lot_identifiers o WHERE o.scheme = i.scheme AND o.value = i.value AND o.issuer = i.issuer AND o.lot_id <> i.lot_id) AS shared
     FROM lot_identifiers i WHERE i.${IN_BATCH} ORDER BY i.lot_id, i.scheme, i.value, i.issuer`,
    ids,
    lotIds,
  );
  const deviations = byLot<DeviationDbRow & { lot_id: number }>(
    sql,
    `SELECT a.lot_id, d.* FROM (
       SELECT DISTINCT dl.lot_id, dv.issuer, dv.partner_ref FROM deviation_lots dl JOIN deviations dv ON dv.id = dl.deviation_id WHERE dl.${IN_BATCH}
     ) a
     JOIN deviations d ON d.id = (SELECT v.id FROM deviations v WHERE v.issuer = a.issuer AND v.partner_ref = a.partner_ref ORDER BY v.updated_at DESC LIMIT 1)
     ORDER BY a.lot_id, d.issuer, d.partner_ref`,
    ids,
    lotIds,
  );
  const receipts = plannedReceiptsOf(sql, ids);
  const tests = testResultsOfBatch(sql, ids, lotIds);
  // A batch's lots share a few materials.
  const materials = new Map<string, MaterialDbRow | undefined>();
  return lotIds.map((lotId) => {
    const lotDb = lots.get(lotId);
    if (!lotDb) throw new Error(`loadLotFacts: no lot ${lotId}`);
    const ident = idRows.get(lotId)!;
    const identifiers: IdentifierRow[] = ident.map(({ scheme, value, issuer }) => ({ scheme, value, issuer }));
    const conflicting = ident.some((r) => r.shared) ? conflictingIdentifiers(sql, lotId) : [];
    const po = receipts.get(lotId);
    if (!materials.has(lotDb.material_id)) materials.set(lotDb.material_id, materialRow(sql, lotDb.material_id));
    const material = materials.get(lotDb.material_id);
    return {
      lot: toLot(lotDb),
      identifiers,
      conflictingIdentifiers: conflicting,
      stageEvents: stages.get(lotId)!.map(toStageEvent),
      testResults: tests.get(lotId)!,
      documents: docs.get(lotId)!.map(toDocument),
      deviations: deviations.get(lotId)!.map(toDeviation),
      dispositions: disps.get(lotId)!.map(toDisposition),
      plannedReceipt: po ? toPlannedReceipt(po) : null,
      material: material ? toMaterial(material) : null,
    };
  });
}

export interface IdentifierFlagRow {
  scheme: IdentifierRow['scheme'];
  value: string;
  issuer: string;
  shared: number;
}

/**
 * masterdata.ts plannedReceiptOf for a batch of lots (two statements): the line a lot links
 * explicitly, else the line naming its lot number (open lines first, then by PO and item).
 */
function plannedReceiptsOf(sql: Sql, ids: string): Map<number, PurchaseOrderDbRow> {
  const out = new Map<number, PurchaseOrderDbRow>();
  const linked = sql
    .q(
      `SELECT l.id AS lot_id, ${PO_COLUMNS} FROM lots l JOIN purchase_orders p ON p.po_number = l.po_number AND p.po_item = l.po_item
       WHERE l.id IN (SELECT value FROM json_each(?))`,
    )
    .all(ids) as (PurchaseOrderDbRow & { lot_id: number })[];
  for (const r of linked) out.set(r.lot_id, r);
  const byNumber = sql
    .q(
      `SELECT l.id AS lot_id, ${PO_COLUMNS} FROM lots l JOIN purchase_orders p ON p.material_id = l.material_id AND p.lot_number = l.lot_number
       WHERE l.id IN (SELECT value FROM json_each(?))
       ORDER BY l.id, (coalesce(p.status, 'open') = 'open') DESC, p.po_number, p.po_item`,
    )
    .all(ids) as (PurchaseOrderDbRow & { lot_id: number })[];
  for (const r of byNumber) if (!out.has(r.lot_id)) out.set(r.lot_id, r);
  return out;
}

// A lot's results are the widest rows readiness reads: only the columns the model carries, as
// arrays (raw) rather than objects, which is most of what reading them costs.
export const TEST_FACT_COLUMNS = [
  'sample_id',
  'test_code',
  'test_name',
  'method',
  'result_raw',
  'result_value',
  'qualifier',
  'unit',
  'spec_low',
  'spec_high',
  'spec_text',
  'result_status',
  'tested_at',
  'submission_id',
  'line',
] as const satisfies readonly (keyof TestDbRow)[];
const SELECT_TEST_FACTS_BATCH = `SELECT lot_id, ${TEST_FACT_COLUMNS.join(', ')} FROM test_results WHERE ${IN_BATCH}
  ORDER BY lot_id, test_code, coalesce(tested_at, ''), coalesce(sample_id, ''), coalesce(replicate, '')`;

function testResultsOfBatch(sql: Sql, ids: string, lotIds: readonly number[]) {
  const out = new Map<number, ReturnType<typeof toTestResult>[]>(lotIds.map((id) => [id, []]));
  for (const v of sql.raw(SELECT_TEST_FACTS_BATCH).all(ids) as unknown[][]) {
    const r = {} as Record<(typeof TEST_FACT_COLUMNS)[number], unknown>;
    for (let i = 0; i < TEST_FACT_COLUMNS.length; i++) r[TEST_FACT_COLUMNS[i]] = v[i + 1];
    out.get(v[0] as number)!.push(toTestResult(r as unknown as TestDbRow, false));
  }
  return out;
}

/** A material's row; remembered for the open ingest transaction (a file's lots share a few materials). */
function materialRow(sql: Sql, materialId: string): MaterialDbRow | undefined {
  const cache = sql.tx.active ? sql.tx.materials : undefined;
  const hit = cache?.get(materialId);
  if (hit !== undefined) return hit ?? undefined;
  const row = sql.q('SELECT * FROM materials WHERE material_id = ?').get(materialId) as MaterialDbRow | undefined;
  cache?.set(materialId, row ?? null);
  return row;
}

export function listIdentifiers(sql: Sql, lotId: number): IdentifierDbRow[] {
  return sql.q('SELECT * FROM lot_identifiers WHERE lot_id = ? ORDER BY scheme, value, issuer').all(lotId) as IdentifierDbRow[];
}

/** Identifiers of this lot whose (scheme, value, issuer) also names another lot. */
export function conflictingIdentifiers(sql: Sql, lotId: number): (IdentifierRow & { lotNumbers: string[] })[] {
  const rows = sql
    .q(
      `SELECT mine.scheme, mine.value, mine.issuer, json_group_array(l.lot_number) AS lot_numbers
       FROM lot_identifiers mine
       JOIN lot_identifiers other ON other.scheme = mine.scheme AND other.value = mine.value AND other.issuer = mine.issuer
       JOIN lots l ON l.id = other.lot_id
       WHERE mine.lot_id = ?
       GROUP BY mine.scheme, mine.value, mine.issuer
       HAVING count(DISTINCT other.lot_id) > 1
       ORDER BY mine.scheme, mine.value, mine.issuer`,
    )
    .all(lotId) as { scheme: IdentifierRow['scheme']; value: string; issuer: string; lot_numbers: string }[];
  return rows.map((r) => ({
    scheme: r.scheme,
    value: r.value,
    issuer: r.issuer,
    lotNumbers: [...new Set(JSON.parse(r.lot_numbers) as string[])].sort(),
  }));
}

/** The latest version (by updatedAt) of every deviation that has ever named this lot. */
export function currentDeviations(sql: Sql, lotId: number) {
  const rows = sql
    .q(
      `SELECT d.* FROM deviations d
       WHERE d.id IN (
         SELECT (SELECT v.id FROM deviations v WHERE v.issuer = a.issuer AND v.partner_ref = a.partner_ref ORDER BY v.updated_at DESC LIMIT 1)
         FROM (SELECT DISTINCT dv.issuer, dv.partner_ref FROM deviation_lots dl JOIN deviations dv ON dv.id = dl.deviation_id WHERE dl.lot_id = ?) a
       )
       ORDER BY d.issuer, d.partner_ref`,
    )
    .all(lotId) as DeviationDbRow[];
  return rows.map(toDeviation);
}

export interface ReadinessDbRow {
  state: string;
  late: number;
  readiness: string;
  computed_at: string;
  lot_number: string;
  material_id: string;
}

/** The lot's stored readiness with its reasons' messages rendered (readiness/render.ts). */
export function getReadiness(sql: Sql, lotId: number): StoredReadiness | null {
  const r = sql
    .q('SELECT r.state, r.late, r.readiness, r.computed_at, l.lot_number, l.material_id FROM lot_readiness r JOIN lots l ON l.id = r.lot_id WHERE r.lot_id = ?')
    .get(lotId) as ReadinessDbRow | undefined;
  if (!r) return null;
  const stored = parseJson<Readiness | null>(r.readiness, null);
  if (!stored) return { state: r.state as Readiness['state'], late: bool(r.late), reasons: [], computedAt: r.computed_at };
  return { ...expandReadiness(stored, { lotNumber: r.lot_number, materialId: r.material_id }), computedAt: r.computed_at };
}

/**
 * Stores the readiness; `changed` when state, late or the set of reason codes differ from before.
 * An identical readiness is not written again (a sweep over 100k unchanged lots writes nothing),
 * so `computed_at` is when the stored readiness was last computed differently.
 */
/**
 * When the clock alone would next change this readiness (readiness/clock.ts; null: never) and
 * the hash of the rules it was computed with: what the scheduled sweep selects lots by.
 */
export interface ReadinessClock {
  dueAt: string | null;
  rulesHash: string;
}

/** What a recompute compares with before writing: the stored readiness's digest and clock. */
export interface ReadinessStamp {
  hash: string | null;
  dueAt: string | null;
  rulesHash: string | null;
}

/** The stored stamps of a batch of lots (one statement); a lot without readiness is absent. */
export function readinessStamps(sql: Sql, lotIds: readonly number[]): Map<number, ReadinessStamp> {
  const out = new Map<number, ReadinessStamp>();
  if (lotIds.length === 0) return out;
  const rows = sql.raw(`SELECT lot_id, readiness_hash, clock_due_at, rules_hash FROM lot_readiness WHERE ${IN_BATCH}`).all(JSON.stringify(lotIds)) as [number, string | null, string | null, string | null][];
  for (const [lotId, hash, dueAt, rulesHash] of rows) out.set(lotId, { hash, dueAt, rulesHash });
  return out;
}

/**
 * Digest of a readiness document as stored (its JSON text: the compact form, codes + params +
 * evidence, readiness/render.ts). Rows stored before that (rendered messages) have another
 * digest: their first recompute rewrites them compactly without counting a change.
 */
export function readinessHash(text: string): string {
  return digestOf('sha1', text, 'base64url');
}

/** The stored text of a readiness (its compact form) and its digest. */
export function readinessText(r: Readiness): { text: string; hash: string } {
  const text = JSON.stringify(compactReadiness(r));
  return { text, hash: readinessHash(text) };
}

/**
 * Stores the readiness; `changed` when state, late or the set of reason codes differ from before.
 * An identical readiness is not written again (a sweep over 100k unchanged lots writes nothing):
 * the stored digest says so, without reading the stored document back. `stamp` is the lot's
 * stored stamp when the caller read it for a batch (readinessStamps; null: no readiness yet);
 * omitted, it is read here.
 */
export function saveReadiness(
  sql: Sql,
  lotId: number,
  r: Readiness,
  at: string,
  clock?: ReadinessClock,
  stamp?: ReadinessStamp | null,
): { changed: boolean; previous: Readiness | null } {
  const { text, hash } = readinessText(r);
  const stored = stamp !== undefined ? stamp : readinessStamps(sql, [lotId]).get(lotId) ?? null;
  const sameClock = (s: ReadinessStamp) => !clock || (s.dueAt === clock.dueAt && s.rulesHash === clock.rulesHash);
  if (stored && stored.hash === hash) {
    if (!sameClock(stored)) sql.q('UPDATE lot_readiness SET clock_due_at = ?, rules_hash = ? WHERE lot_id = ?').run(clock!.dueAt, clock!.rulesHash, lotId);
    return { changed: false, previous: r };
  }
  return sql.atomic(() => {
    // No digest yet (stored before migration 13): the same document is only given its digest.
    if (stored && stored.hash === null) {
      const doc = sql.q('SELECT readiness FROM lot_readiness WHERE lot_id = ?').pluck().get(lotId) as string | undefined;
      if (doc === text) {
        sql.q('UPDATE lot_readiness SET readiness_hash = ?, clock_due_at = ?, rules_hash = ? WHERE lot_id = ?').run(hash, clock?.dueAt ?? stored.dueAt, clock?.rulesHash ?? stored.rulesHash, lotId);
        return { changed: false, previous: r };
      }
    }
    const prevStored = stored ? getReadiness(sql, lotId) : null;
    let previous: Readiness | null = null;
    if (prevStored) {
      const { computedAt: _computedAt, ...rest } = prevStored;
      previous = rest;
    }
    const changed = !previous || previous.state !== r.state || previous.late !== r.late || reasonKey(previous) !== reasonKey(r);
    // Only the stored form differs (a row written before migration 16, rendered messages): the
    // readiness readers see is the same, so it keeps the time it was computed at.
    const sameAsRead = !changed && previous !== null && JSON.stringify(previous) === JSON.stringify(asRead(r));
    sql
      .q(
        `INSERT INTO lot_readiness (lot_id, state, late, readiness, computed_at, clock_due_at, rules_hash, readiness_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (lot_id) DO UPDATE SET state = excluded.state, late = excluded.late, readiness = excluded.readiness,
           computed_at = CASE WHEN ? THEN lot_readiness.computed_at ELSE excluded.computed_at END,
           clock_due_at = excluded.clock_due_at, rules_hash = excluded.rules_hash, readiness_hash = excluded.readiness_hash`,
      )
      .run(lotId, r.state, r.late ? 1 : 0, text, at, clock?.dueAt ?? null, clock?.rulesHash ?? null, hash, sameAsRead ? 1 : 0);
    return { changed, previous };
  });
}

/** The readiness as getReadiness gives it back (messages, no params), for comparing. */
export function asRead(r: Readiness): Readiness {
  const out: Readiness = { state: r.state, reasons: r.reasons.map((x) => expandReason({ ...x, params: undefined }, { lotNumber: '', materialId: '' })), late: r.late };
  if (r.lateStages !== undefined) out.lateStages = r.lateStages;
  return out;
}

export function reasonKey(r: Readiness): string {
  return r.reasons
    .map((x) => x.code)
    .sort()
    .join('\u0000');
}
