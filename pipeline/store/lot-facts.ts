// What the readiness rules see of one lot, and the readiness last computed for it.
// Every list is in a fixed order defined by the data itself, so the same facts give the same
// LotFacts whatever order the files arrived in (storage ids are left out for that reason).

import type { IdentifierRow, LotFacts, Readiness } from '../model/types.js';
import { getLot, plannedReceiptOf } from './masterdata.js';
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
  type MaterialDbRow,
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

/**
 * loadLotFacts for several lots: the fact tables are read with one statement each for the whole
 * batch (ordered as for one lot, grouped by lot here) instead of one statement per lot and table.
 */
export function loadLotFactsBatch(sql: Sql, lotIds: readonly number[]): LotFacts[] {
  if (lotIds.length === 0) return [];
  const ids = JSON.stringify(lotIds);
  const stages = byLot<StageDbRow>(sql, `SELECT * FROM stage_events WHERE ${IN_BATCH} ORDER BY lot_id, event_time, stage, status`, ids, lotIds);
  const docs = byLot<DocumentDbRow>(sql, `SELECT * FROM documents WHERE ${IN_BATCH} ORDER BY lot_id, type, doc_id, version`, ids, lotIds);
  const disps = byLot<DispositionDbRow>(sql, `SELECT * FROM dispositions WHERE ${IN_BATCH} ORDER BY lot_id, decided_at`, ids, lotIds);
  const tests = testResultsOfBatch(sql, ids, lotIds);
  // A batch's lots share a few materials.
  const materials = new Map<string, MaterialDbRow | undefined>();
  return lotIds.map((lotId) => {
    const lotDb = getLot(sql, lotId);
    if (!lotDb) throw new Error(`loadLotFacts: no lot ${lotId}`);
    // One statement for the identifiers and whether each also names another lot; the lot numbers
    // of a conflict (rare) only when there is one.
    const idRows = sql
      .q(
        `SELECT scheme, value, issuer,
           EXISTS (SELECT 1 FROM lot_identifiers o WHERE o.scheme = i.scheme AND o.value = i.value AND o.issuer = i.issuer AND o.lot_id <> i.lot_id) AS shared
         FROM lot_identifiers i WHERE lot_id = ? ORDER BY scheme, value, issuer`,
      )
      .all(lotId) as { scheme: IdentifierRow['scheme']; value: string; issuer: string; shared: number }[];
    const identifiers: IdentifierRow[] = idRows.map(({ scheme, value, issuer }) => ({ scheme, value, issuer }));
    const conflicting = idRows.some((r) => r.shared) ? conflictingIdentifiers(sql, lotId) : [];
    const po = plannedReceiptOf(sql, lotDb);
    if (!materials.has(lotDb.material_id)) materials.set(lotDb.material_id, materialRow(sql, lotDb.material_id));
    const material = materials.get(lotDb.material_id);
    return {
      lot: toLot(lotDb),
      identifiers,
      conflictingIdentifiers: conflicting,
      stageEvents: stages.get(lotId)!.map(toStageEvent),
      testResults: tests.get(lotId)!,
      documents: docs.get(lotId)!.map(toDocument),
      deviations: currentDeviations(sql, lotId),
      dispositions: disps.get(lotId)!.map(toDisposition),
      plannedReceipt: po ? toPlannedReceipt(po) : null,
      material: material ? toMaterial(material) : null,
    };
  });
}

// A lot's results are the widest rows readiness reads: only the columns the model carries, as
// arrays (raw) rather than objects, which is most of what reading them costs.
const TEST_FACT_COLUMNS = [
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

interface ReadinessDbRow {
  state: string;
  late: number;
  readiness: string;
  computed_at: string;
}

export function getReadiness(sql: Sql, lotId: number): StoredReadiness | null {
  const r = sql.q('SELECT * FROM lot_readiness WHERE lot_id = ?').get(lotId) as ReadinessDbRow | undefined;
  if (!r) return null;
  const stored = parseJson<Readiness | null>(r.readiness, null);
  if (!stored) return { state: r.state as Readiness['state'], late: bool(r.late), reasons: [], computedAt: r.computed_at };
  return { ...stored, computedAt: r.computed_at };
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

export function saveReadiness(sql: Sql, lotId: number, r: Readiness, at: string, clock?: ReadinessClock): { changed: boolean; previous: Readiness | null } {
  const text = JSON.stringify(r);
  const stored = sql.raw('SELECT readiness, clock_due_at, rules_hash FROM lot_readiness WHERE lot_id = ?').get(lotId) as [string, string | null, string | null] | undefined;
  if (stored && stored[0] === text) {
    if (clock && (stored[1] !== clock.dueAt || stored[2] !== clock.rulesHash)) {
      sql.q('UPDATE lot_readiness SET clock_due_at = ?, rules_hash = ? WHERE lot_id = ?').run(clock.dueAt, clock.rulesHash, lotId);
    }
    return { changed: false, previous: r };
  }
  return sql.atomic(() => {
    const prevStored = getReadiness(sql, lotId);
    let previous: Readiness | null = null;
    if (prevStored) {
      const { computedAt: _computedAt, ...rest } = prevStored;
      previous = rest;
    }
    const changed = !previous || previous.state !== r.state || previous.late !== r.late || reasonKey(previous) !== reasonKey(r);
    sql
      .q(
        `INSERT INTO lot_readiness (lot_id, state, late, readiness, computed_at, clock_due_at, rules_hash) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (lot_id) DO UPDATE SET state = excluded.state, late = excluded.late, readiness = excluded.readiness, computed_at = excluded.computed_at,
           clock_due_at = excluded.clock_due_at, rules_hash = excluded.rules_hash`,
      )
      .run(lotId, r.state, r.late ? 1 : 0, text, at, clock?.dueAt ?? null, clock?.rulesHash ?? null);
    return { changed, previous };
  });
}

function reasonKey(r: Readiness): string {
  return r.reasons
    .map((x) => x.code)
    .sort()
    .join('\u0000');
}
