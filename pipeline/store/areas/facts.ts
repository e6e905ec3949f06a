// The facts area of the async store: one implementation for both dialects (db/db.ts).
//
// Lot facts — stage events, test results, documents, deviations, dispositions — with the
// semantics of facts-rule.ts (read its header): idempotent on natural keys, order-independent,
// provenance credited to the earliest submission. One function per fact kind, plus
// applyTestResults, the bulk path for big lab files (facts-bulk.ts).
//
// Across machines: every function runs in one transaction (a savepoint inside the caller's),
// inserts with ON CONFLICT DO NOTHING so two writers of the same new fact cannot both fail or
// both create, and on PostgreSQL locks the stored row (FOR UPDATE) before deciding from it, so a
// concurrent writer's change is never overwritten by a decision taken on a stale read. (SQLite
// needs no lock: a write transaction holds the whole file.)

import type { DeviationStatus, DispositionDecision } from '../../model/types.js';
import type { Db } from '../db/db.js';
import { provArgs } from '../rows.js';
import { normTime } from '../values.js';
import type { DeviationInput, DocumentInput, Prov, StageEventInput, TestResultInput, WriteResult } from '../types.js';
import { applyTestResults, type TestResultRowInput, type TestResultsApplied } from './facts-bulk.js';
import { DECISION_RANK, DEVIATION_RANK, foldTestResult, normalizeTestResult, orNull, stateOfRow, TEST_VALUE_COLUMNS, type DeviationVersionDb, type FactTable } from './facts-rule.js';

export type { AppliedTestResult, TestResultRowInput, TestResultsApplied } from './facts-bulk.js';

export interface DispositionInput {
  decision: DispositionDecision;
  decidedBy?: string | null;
  decidedAt: string;
}

export interface FactsArea {
  insertStageEvent(lotId: number, e: StageEventInput, prov: Prov): Promise<WriteResult>;
  upsertTestResult(lotId: number, r: TestResultInput, prov: Prov): Promise<WriteResult>;
  /**
   * upsertTestResult for a batch, with the same stored rows and the same per-row results as
   * calling it row by row in the given order (COPY + one merge on PostgreSQL, multi-row
   * statements on SQLite). Runs in one transaction (a savepoint inside the caller's).
   */
  applyTestResults(rows: readonly TestResultRowInput[]): Promise<TestResultsApplied>;
  upsertDocument(lotId: number, d: DocumentInput, prov: Prov): Promise<WriteResult>;
  /** One version of a deviation (key: issuer + partnerRef + updatedAt) and the lots it affects. */
  upsertDeviation(lotIds: number[], d: DeviationInput, issuer: string, prov: Prov): Promise<WriteResult>;
  insertDisposition(lotId: number, d: DispositionInput, prov: Prov): Promise<WriteResult>;
  /** The submission and line a fact is credited to now. */
  factCredit(table: FactTable, id: number): Promise<{ submissionId: number | null; line: number | null }>;
}

/** fn inside the caller's transaction when there is one, else in a transaction of its own (sql.atomic). */
export const atomic = <T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> => (db.inTransaction ? fn(db) : db.transaction(fn));

/** Row lock for a read that a write will be decided on; SQLite has no FOR UPDATE (and needs none). */
export const forUpdate = (db: Db): string => (db.dialect === 'postgres' ? ' FOR UPDATE' : '');

type Credit = { submission_id: number | null; line: number | null };
const priorOf = (r: Credit): WriteResult['prior'] => ({ submissionId: r.submission_id === null ? null : Number(r.submission_id), line: r.line === null ? null : Number(r.line) });

/** The earliest submission that stated a fact keeps the credit. */
async function creditEarliest(db: Db, table: FactTable, rowId: number, prov: Prov): Promise<void> {
  if (prov.submissionId === null) return;
  await db.run(
    `UPDATE ${table} SET submission_id = ?, line = ?, mapping_hash = ?, partner = ?
     WHERE id = ? AND (submission_id IS NULL OR submission_id > ?)`,
    [...provArgs(prov), rowId, prov.submissionId],
  );
}

/** INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or undefined when the key was taken. */
async function insertNew(db: Db, sql: string, params: readonly unknown[]): Promise<number | undefined> {
  const r = await db.run(`${sql} ON CONFLICT DO NOTHING RETURNING id`, params);
  return r.rows.length ? Number(r.rows[0].id) : undefined;
}

async function insertStageEvent(db: Db, lotId: number, e: StageEventInput, prov: Prov): Promise<WriteResult> {
  const eventTime = normTime(e.eventTime);
  if (!eventTime) throw new Error('insertStageEvent: eventTime is required');
  return atomic(db, async (tx) => {
    // Insert first: in a partner's file the event is usually new, and then one statement does.
    const id = await insertNew(
      tx,
      `INSERT INTO stage_events (lot_id, stage, status, event_time, site, recorded_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [lotId, e.stage, e.status, eventTime, orNull(e.site), tx.now(), ...provArgs(prov)],
    );
    if (id !== undefined) return { id, created: true };
    const existing = (await tx.get<{ id: number; site: string | null } & Credit>(
      `SELECT id, site, submission_id, line FROM stage_events WHERE lot_id = ? AND stage = ? AND status = ? AND event_time = ?${forUpdate(tx)}`,
      [lotId, e.stage, e.status, eventTime],
    ))!;
    const existingId = Number(existing.id);
    if (existing.site === null && orNull(e.site)) await tx.run('UPDATE stage_events SET site = ? WHERE id = ?', [e.site, existingId]);
    await creditEarliest(tx, 'stage_events', existingId, prov);
    return { id: existingId, created: false, prior: priorOf(existing) };
  });
}

const INSERT_TEST_RESULT = `INSERT INTO test_results (lot_id, sample_id, test_code, tested_at, replicate, ${TEST_VALUE_COLUMNS.join(', ')},
                             recorded_at, submission_id, line, mapping_hash, partner)
   VALUES (?, ?, ?, ?, ?, ${TEST_VALUE_COLUMNS.map(() => '?').join(', ')}, ?, ?, ?, ?, ?)`;
const UPDATE_TEST_RESULT = `UPDATE test_results SET ${TEST_VALUE_COLUMNS.map((c) => `${c} = ?`).join(', ')},
     recorded_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
   WHERE id = ?`;

async function upsertTestResult(db: Db, lotId: number, r: TestResultInput, prov: Prov): Promise<WriteResult> {
  const n = normalizeTestResult(lotId, r, prov);
  return atomic(db, async (tx) => {
    const now = tx.now();
    // Insert first: in a lab's file the result is usually new, and then one statement does.
    const id = await insertNew(tx, INSERT_TEST_RESULT, [lotId, n.sampleId, n.testCode, n.testedAt, n.replicate, ...TEST_VALUE_COLUMNS.map((c) => n.values[c]), now, ...provArgs(prov)]);
    if (id !== undefined) return { id, created: true };
    const row = (await tx.get(
      `SELECT * FROM test_results
       WHERE lot_id = ? AND test_code = ? AND coalesce(sample_id, '') = ? AND coalesce(tested_at, '') = ? AND coalesce(replicate, '') = ?${forUpdate(tx)}`,
      [lotId, n.testCode, n.sampleId ?? '', n.testedAt ?? '', n.replicate ?? ''],
    ))!;
    const state = stateOfRow(row);
    const f = foldTestResult(state, n, now);
    const stored = state.id!;
    if (f.step === 'credited') await creditEarliest(tx, 'test_results', stored, prov);
    if (f.step === 'updated') await tx.run(UPDATE_TEST_RESULT, [...TEST_VALUE_COLUMNS.map((c) => n.values[c]), now, ...provArgs(prov), stored]);
    return { id: stored, created: false, prior: f.prior };
  });
}

/**
 * A fact that is read before it is inserted: look (locked), else insert; when a concurrent
 * writer inserted the key between the two, look again — it is there now — and merge into it.
 */
async function findOrInsert<R>(
  tx: Db,
  find: () => Promise<R | undefined>,
  insert: () => Promise<number | undefined>,
): Promise<{ existing: R } | { id: number }> {
  const existing = await find();
  if (existing) return { existing };
  const id = await insert();
  if (id !== undefined) return { id };
  const raced = await find();
  if (!raced) throw new Error('a fact inserted by another writer vanished before it could be read');
  return { existing: raced };
}

async function upsertDocument(db: Db, lotId: number, d: DocumentInput, prov: Prov): Promise<WriteResult> {
  const version = d.version ?? 1;
  const rest = [orNull(d.sha256), orNull(d.storedPath), normTime(d.issuedAt), orNull(d.supersedes)];
  return atomic(db, async (tx) => {
    const found = await findOrInsert(
      tx,
      () => tx.get<{ id: number } & Credit>(`SELECT id, submission_id, line FROM documents WHERE lot_id = ? AND type = ? AND doc_id = ? AND version = ?${forUpdate(tx)}`, [lotId, d.type, d.docId, version]),
      () =>
        insertNew(
          tx,
          `INSERT INTO documents (lot_id, type, doc_id, version, sha256, stored_path, issued_at, supersedes, recorded_at, submission_id, line, mapping_hash, partner)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [lotId, d.type, d.docId, version, ...rest, tx.now(), ...provArgs(prov)],
        ),
    );
    if ('id' in found) return { id: found.id, created: true };
    const id = Number(found.existing.id);
    // Same document version again: only fill what was unknown; the first copy stays the evidence.
    await tx.run(
      `UPDATE documents SET sha256 = coalesce(sha256, ?), stored_path = coalesce(stored_path, ?),
         issued_at = coalesce(issued_at, ?), supersedes = coalesce(supersedes, ?)
       WHERE id = ?`,
      [...rest, id],
    );
    await creditEarliest(tx, 'documents', id, prov);
    return { id, created: false, prior: priorOf(found.existing) };
  });
}

/** A stored deviation version merged with a write of the same version at the same or a higher rank. */
function mergeDeviation(existing: DeviationVersionDb, d: DeviationInput, openedAt: string, closedAt: string | null, capaRefs: string[]) {
  return {
    qms_ref: orNull(d.qmsRef) ?? existing.qms_ref,
    title: orNull(d.title) ?? existing.title,
    classification: d.classification,
    status: d.status,
    capa_refs: JSON.stringify([...new Set([...(JSON.parse(existing.capa_refs) as string[]), ...capaRefs])].sort()),
    opened_at: openedAt,
    closed_at: closedAt ?? existing.closed_at,
  };
}

async function upsertDeviation(db: Db, lotIds: number[], d: DeviationInput, issuer: string, prov: Prov): Promise<WriteResult> {
  const openedAt = normTime(d.openedAt);
  if (!openedAt) throw new Error('upsertDeviation: openedAt is required');
  const closedAt = normTime(d.closedAt);
  const updatedAt = normTime(d.updatedAt) ?? closedAt ?? openedAt;
  const capaRefs = [...new Set((d.capaRefs ?? []).filter((c) => c !== ''))].sort();
  return atomic(db, async (tx) => {
    const found = await findOrInsert(
      tx,
      () => tx.get<DeviationVersionDb>(`SELECT * FROM deviations WHERE issuer = ? AND partner_ref = ? AND updated_at = ?${forUpdate(tx)}`, [issuer, d.partnerRef, updatedAt]),
      () =>
        insertNew(
          tx,
          `INSERT INTO deviations (issuer, partner_ref, qms_ref, title, classification, status, capa_refs, opened_at, closed_at, updated_at,
                                   recorded_at, submission_id, line, mapping_hash, partner)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [issuer, d.partnerRef, orNull(d.qmsRef), orNull(d.title), d.classification, d.status, JSON.stringify(capaRefs), openedAt, closedAt, updatedAt, tx.now(), ...provArgs(prov)],
        ),
    );
    const id = 'id' in found ? found.id : Number(found.existing.id);
    if ('existing' in found && DEVIATION_RANK[d.status] >= DEVIATION_RANK[found.existing.status as DeviationStatus]) {
      const existing = found.existing;
      const merged = mergeDeviation(existing, d, openedAt, closedAt, capaRefs);
      const same = (Object.keys(merged) as (keyof typeof merged)[]).every((k) => merged[k] === existing[k]);
      if (same) await creditEarliest(tx, 'deviations', id, prov);
      else {
        await tx.run(
          `UPDATE deviations SET qms_ref = ?, title = ?, classification = ?, status = ?, capa_refs = ?, opened_at = ?, closed_at = ?,
             recorded_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
           WHERE id = ?`,
          [merged.qms_ref, merged.title, merged.classification, merged.status, merged.capa_refs, merged.opened_at, merged.closed_at, tx.now(), ...provArgs(prov), id],
        );
      }
    }
    // Sorted, so two writers linking the same lots take the row locks in the same order.
    for (const lotId of [...new Set(lotIds)].sort((a, b) => a - b)) {
      await tx.run('INSERT INTO deviation_lots (deviation_id, lot_id, submission_id, line) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [id, lotId, prov.submissionId, prov.line ?? null]);
    }
    return 'existing' in found ? { id, created: false, prior: priorOf(found.existing) } : { id, created: true };
  });
}

async function insertDisposition(db: Db, lotId: number, d: DispositionInput, prov: Prov): Promise<WriteResult> {
  const decidedAt = normTime(d.decidedAt);
  if (!decidedAt) throw new Error('insertDisposition: decidedAt is required');
  return atomic(db, async (tx) => {
    const found = await findOrInsert(
      tx,
      () =>
        tx.get<{ id: number; decision: DispositionDecision; decided_by: string | null } & Credit>(
          `SELECT id, decision, decided_by, submission_id, line FROM dispositions WHERE lot_id = ? AND decided_at = ?${forUpdate(tx)}`,
          [lotId, decidedAt],
        ),
      () =>
        insertNew(
          tx,
          `INSERT INTO dispositions (lot_id, decision, decided_by, decided_at, recorded_at, submission_id, line, mapping_hash, partner)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [lotId, d.decision, orNull(d.decidedBy), decidedAt, tx.now(), ...provArgs(prov)],
        ),
    );
    if ('id' in found) return { id: found.id, created: true };
    const existing = found.existing;
    const id = Number(existing.id);
    // Two decisions at the same instant: the more restrictive one stands, whatever the order.
    if (DECISION_RANK[d.decision] > DECISION_RANK[existing.decision]) {
      await tx.run('UPDATE dispositions SET decision = ?, decided_by = ?, recorded_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ? WHERE id = ?', [
        d.decision,
        orNull(d.decidedBy),
        tx.now(),
        ...provArgs(prov),
        id,
      ]);
    } else if (d.decision === existing.decision) {
      if (existing.decided_by === null && orNull(d.decidedBy)) await tx.run('UPDATE dispositions SET decided_by = ? WHERE id = ?', [d.decidedBy, id]);
      await creditEarliest(tx, 'dispositions', id, prov);
    }
    return { id, created: false, prior: priorOf(existing) };
  });
}

async function factCredit(db: Db, table: FactTable, id: number): Promise<{ submissionId: number | null; line: number | null }> {
  const r = await db.get<Credit>(`SELECT submission_id, line FROM ${table} WHERE id = ?`, [id]);
  if (!r) throw new Error(`factCredit: no ${table} row ${id}`);
  return priorOf(r)!;
}

export function factsArea(db: Db): FactsArea {
  return {
    insertStageEvent: (lotId, e, prov) => insertStageEvent(db, lotId, e, prov),
    upsertTestResult: (lotId, r, prov) => upsertTestResult(db, lotId, r, prov),
    applyTestResults: (rows) => applyTestResults(db, rows),
    upsertDocument: (lotId, d, prov) => upsertDocument(db, lotId, d, prov),
    upsertDeviation: (lotIds, d, issuer, prov) => upsertDeviation(db, lotIds, d, issuer, prov),
    insertDisposition: (lotId, d, prov) => insertDisposition(db, lotId, d, prov),
    factCredit: (table, id) => factCredit(db, table, id),
  };
}
