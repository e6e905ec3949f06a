// What the readiness rules see of a batch of lots (loadLotFactsBatch), for both dialects. Every
// list is in a fixed order defined by the data itself, so the same facts give the same LotFacts
// whatever order the files arrived in (storage ids are left out for that reason). Each fact table
// is read with one statement per chunk of lots (IN lists of at most IN_CHUNK ids), grouped by lot
// in JS.

import type { IdentifierRow, LotFacts } from '../../model/types.js';
import type { Db } from '../db/db.js';
import { chunks, marks } from '../db/db.js';
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
  type LotDbRow,
  type MaterialDbRow,
  type PurchaseOrderDbRow,
  type StageDbRow,
  type TestDbRow,
} from '../rows.js';

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

export interface IdentifierFlagRow {
  scheme: IdentifierRow['scheme'];
  value: string;
  issuer: string;
  shared: number;
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


/** loadLotFactsBatch: the facts of each lot, in the order of lotIds; throws for an unknown lot. */
export async function loadLotFactsBatch(db: Db, lotIds: readonly number[]): Promise<LotFacts[]> {
  const out: LotFacts[] = [];
  // Materials are shared by a batch's lots; remembered across its chunks.
  const materials = new Map<string, MaterialDbRow | undefined>();
  for (const chunk of chunks(lotIds)) out.push(...(await loadChunk(db, chunk, materials)));
  return out;
}

/** Per-lot rows of one fact table for a chunk of lots: one statement, grouped by lot in JS. */
async function byLot<T>(db: Db, query: string, lotIds: readonly number[]): Promise<Map<number, T[]>> {
  const out = new Map<number, T[]>(lotIds.map((id) => [id, []]));
  for (const row of await db.all<T & { lot_id: number }>(query, lotIds)) out.get(row.lot_id)!.push(row);
  return out;
}

async function loadChunk(db: Db, lotIds: readonly number[], materials: Map<string, MaterialDbRow | undefined>): Promise<LotFacts[]> {
  const inBatch = `lot_id IN (${marks(lotIds)})`;
  const lots = new Map((await db.all<LotDbRow>(`SELECT ${LOT_COLUMNS} FROM lots WHERE id IN (${marks(lotIds)})`, lotIds)).map((l) => [l.id, l]));
  const stages = await byLot<StageDbRow>(db, `SELECT lot_id, id, stage, status, event_time, site, submission_id, line FROM stage_events WHERE ${inBatch} ORDER BY lot_id, event_time, stage, status`, lotIds);
  const docs = await byLot<DocumentDbRow>(db, `SELECT lot_id, ${DOC_COLUMNS} FROM documents WHERE ${inBatch} ORDER BY lot_id, type, doc_id, version`, lotIds);
  const disps = await byLot<DispositionDbRow>(db, `SELECT * FROM dispositions WHERE ${inBatch} ORDER BY lot_id, decided_at`, lotIds);
  // Identifiers, and whether each also names another lot (a boolean on PostgreSQL, 0/1 on SQLite).
  const idRows = await byLot<IdentifierFlagRow>(
    db,
    `SELECT i.lot_id, i.scheme, i.value, i.issuer,
       EXISTS (SELECT 1 FROM lot_identifiers o WHERE o.scheme = i.scheme AND o.value = i.value AND o.issuer = i.issuer AND o.lot_id <> i.lot_id) AS shared
     FROM lot_identifiers i WHERE i.${inBatch} ORDER BY i.lot_id, i.scheme, i.value, i.issuer`,
    lotIds,
  );
  // The current version (newest updated_at; unique per deviation) of every deviation naming the lot.
  const deviations = await byLot<DeviationDbRow & { lot_id: number }>(
    db,
    `SELECT a.lot_id, d.* FROM (
       SELECT DISTINCT dl.lot_id, dv.issuer, dv.partner_ref FROM deviation_lots dl JOIN deviations dv ON dv.id = dl.deviation_id WHERE dl.${inBatch}
     ) a
     JOIN deviations d ON d.id = (SELECT v.id FROM deviations v WHERE v.issuer = a.issuer AND v.partner_ref = a.partner_ref ORDER BY v.updated_at DESC LIMIT 1)
     ORDER BY a.lot_id, d.issuer, d.partner_ref`,
    lotIds,
  );
  const receipts = await plannedReceiptsOf(db, lotIds);
  const tests = await testResultsOf(db, lotIds);
  const out: LotFacts[] = [];
  for (const lotId of lotIds) {
    const lotDb = lots.get(lotId);
    if (!lotDb) throw new Error(`loadLotFacts: no lot ${lotId}`);
    const ident = idRows.get(lotId)!;
    const identifiers: IdentifierRow[] = ident.map(({ scheme, value, issuer }) => ({ scheme, value, issuer }));
    const conflicting = ident.some((r) => r.shared) ? await conflictingIdentifiers(db, lotId) : [];
    const po = receipts.get(lotId);
    if (!materials.has(lotDb.material_id)) materials.set(lotDb.material_id, await db.get<MaterialDbRow>('SELECT * FROM materials WHERE material_id = ?', [lotDb.material_id]));
    const material = materials.get(lotDb.material_id);
    out.push({
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
    });
  }
  return out;
}

/** The PO line a lot links explicitly, else the one naming its lot number (open lines first). */
async function plannedReceiptsOf(db: Db, lotIds: readonly number[]): Promise<Map<number, PurchaseOrderDbRow>> {
  const out = new Map<number, PurchaseOrderDbRow>();
  const linked = await db.all<PurchaseOrderDbRow & { lot_id: number }>(
    `SELECT l.id AS lot_id, ${PO_COLUMNS} FROM lots l JOIN purchase_orders p ON p.po_number = l.po_number AND p.po_item = l.po_item
     WHERE l.id IN (${marks(lotIds)})`,
    lotIds,
  );
  for (const r of linked) out.set(r.lot_id, r);
  const byNumber = await db.all<PurchaseOrderDbRow & { lot_id: number }>(
    `SELECT l.id AS lot_id, ${PO_COLUMNS} FROM lots l JOIN purchase_orders p ON p.material_id = l.material_id AND p.lot_number = l.lot_number
     WHERE l.id IN (${marks(lotIds)})
     ORDER BY l.id, (coalesce(p.status, 'open') = 'open') DESC, p.po_number, p.po_item`,
    lotIds,
  );
  for (const r of byNumber) if (!out.has(r.lot_id)) out.set(r.lot_id, r);
  return out;
}

/** Test results of the chunk's lots, only the columns the model carries (unique order: test_results_key). */
async function testResultsOf(db: Db, lotIds: readonly number[]): Promise<Map<number, ReturnType<typeof toTestResult>[]>> {
  const out = new Map<number, ReturnType<typeof toTestResult>[]>(lotIds.map((id) => [id, []]));
  const rows = await db.all<TestDbRow & { lot_id: number }>(
    `SELECT lot_id, ${TEST_FACT_COLUMNS.join(', ')} FROM test_results WHERE lot_id IN (${marks(lotIds)})
     ORDER BY lot_id, test_code, coalesce(tested_at, ''), coalesce(sample_id, ''), coalesce(replicate, '')`,
    lotIds,
  );
  for (const r of rows) out.get(r.lot_id)!.push(toTestResult(r, false));
  return out;
}

/** Identifiers of this lot whose (scheme, value, issuer) also names another lot, with those lots' numbers. */
export async function conflictingIdentifiers(db: Db, lotId: number): Promise<(IdentifierRow & { lotNumbers: string[] })[]> {
  const rows = await db.all<{ scheme: IdentifierRow['scheme']; value: string; issuer: string; other: number; lot_number: string }>(
    `SELECT mine.scheme, mine.value, mine.issuer, other.lot_id AS other, l.lot_number
     FROM lot_identifiers mine
     JOIN lot_identifiers other ON other.scheme = mine.scheme AND other.value = mine.value AND other.issuer = mine.issuer
     JOIN lots l ON l.id = other.lot_id
     WHERE mine.lot_id = ?
     ORDER BY mine.scheme, mine.value, mine.issuer, other.lot_id`,
    [lotId],
  );
  // GROUP BY … HAVING count(DISTINCT other.lot_id) > 1, with json_group_array done here.
  const groups = new Map<string, { id: IdentifierRow; lots: Set<number>; numbers: Set<string> }>();
  for (const r of rows) {
    const key = JSON.stringify([r.scheme, r.value, r.issuer]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { id: { scheme: r.scheme, value: r.value, issuer: r.issuer }, lots: new Set(), numbers: new Set() }));
    g.lots.add(r.other);
    g.numbers.add(r.lot_number);
  }
  return [...groups.values()].filter((g) => g.lots.size > 1).map((g) => ({ ...g.id, lotNumbers: [...g.numbers].sort() }));
}
