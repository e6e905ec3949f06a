// Lot facts: stage events, test results, documents, deviations, dispositions.
//
// Idempotent on natural keys: writing a fact that is already there changes nothing (its
// provenance stays with the earliest submission that said it), so a replayed file never
// duplicates facts. Order-independent: facts carry their own event time, and when two
// writes share a key the outcome is decided by the data (lifecycle rank, filling gaps), not by
// which arrived first. The one exception is two *different* values at the same key and rank —
// a correction with no time to order it by — where the later write wins.

import type { DeviationStatus, DispositionDecision, ResultStatus } from '../model/types.js';
import { normTime, type Sql } from './sql.js';
import type { DeviationInput, DocumentInput, Prov, StageEventInput, TestResultInput, WriteResult } from './types.js';

export const provArgs = (p: Prov) => [p.submissionId, p.line ?? null, p.mappingHash ?? null, p.partner] as const;

/**
 * When several submissions state the same fact, it is credited to the earliest of them (lowest
 * id; a file before a hand entry), so provenance too is independent of arrival order and a
 * replay never takes the credit from the original.
 */
function creditEarliest(sql: Sql, table: 'stage_events' | 'test_results' | 'documents' | 'deviations' | 'dispositions', rowId: number, prov: Prov): void {
  if (prov.submissionId === null) return;
  sql
    .q(
      `UPDATE ${table} SET submission_id = ?, line = ?, mapping_hash = ?, partner = ?
       WHERE id = ? AND (submission_id IS NULL OR submission_id > ?)`,
    )
    .run(...provArgs(prov), rowId, prov.submissionId);
}

export const orNull = (v: string | null | undefined): string | null => (v == null || v === '' ? null : v);

const priorOf = (r: { submission_id: number | null; line: number | null }): WriteResult['prior'] => ({ submissionId: r.submission_id, line: r.line });

export type FactTable = 'stage_events' | 'test_results' | 'documents' | 'deviations' | 'dispositions';

/** The submission and line a fact is credited to now. */
export function factCredit(sql: Sql, table: FactTable, id: number): { submissionId: number | null; line: number | null } {
  const r = sql.q(`SELECT submission_id, line FROM ${table} WHERE id = ?`).get(id) as { submission_id: number | null; line: number | null };
  return { submissionId: r.submission_id, line: r.line };
}

export function insertStageEvent(sql: Sql, lotId: number, e: StageEventInput, prov: Prov): WriteResult {
  const eventTime = normTime(e.eventTime);
  if (!eventTime) throw new Error('insertStageEvent: eventTime is required');
  // Insert first: in a partner's file the event is usually new, and then one statement does.
  const info = sql
    .q(
      `INSERT INTO stage_events (lot_id, stage, status, event_time, site, recorded_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    )
    .run(lotId, e.stage, e.status, eventTime, orNull(e.site), sql.now(), ...provArgs(prov));
  if (info.changes === 1) return { id: Number(info.lastInsertRowid), created: true };
  const existing = sql
    .q('SELECT id, site, submission_id, line FROM stage_events WHERE lot_id = ? AND stage = ? AND status = ? AND event_time = ?')
    .get(lotId, e.stage, e.status, eventTime) as { id: number; site: string | null; submission_id: number | null; line: number | null };
  if (existing.site === null && orNull(e.site)) sql.q('UPDATE stage_events SET site = ? WHERE id = ?').run(e.site, existing.id);
  creditEarliest(sql, 'stage_events', existing.id, prov);
  return { id: existing.id, created: false, prior: priorOf(existing) };
}

// A lab result moves preliminary → final → retracted; a late-arriving earlier state never undoes a later one.
export const RESULT_RANK: Record<ResultStatus, number> = { preliminary: 0, final: 1, retracted: 2 };

export const TEST_VALUE_COLUMNS = [
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
  'analyst',
] as const;

const INSERT_TEST_RESULT = `INSERT INTO test_results (lot_id, sample_id, test_code, tested_at, replicate, ${TEST_VALUE_COLUMNS.join(', ')},
                             recorded_at, submission_id, line, mapping_hash, partner)
   VALUES (?, ?, ?, ?, ?, ${TEST_VALUE_COLUMNS.map(() => '?').join(', ')}, ?, ?, ?, ?, ?)
   ON CONFLICT DO NOTHING`;
const UPDATE_TEST_RESULT = `UPDATE test_results SET ${TEST_VALUE_COLUMNS.map((c) => `${c} = ?`).join(', ')},
     recorded_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
   WHERE id = ?`;

export function upsertTestResult(sql: Sql, lotId: number, r: TestResultInput, prov: Prov): WriteResult {
  const sampleId = orNull(r.sampleId);
  const testedAt = normTime(r.testedAt);
  const replicate = orNull(r.replicate);
  const status: ResultStatus = r.resultStatus ?? 'final';
  const values: Record<(typeof TEST_VALUE_COLUMNS)[number], unknown> = {
    test_name: orNull(r.testName),
    method: orNull(r.method),
    result_raw: r.resultRaw ?? null,
    result_value: r.resultValue ?? null,
    qualifier: r.qualifier ?? null,
    unit: orNull(r.unit),
    spec_low: r.specLow ?? null,
    spec_high: r.specHigh ?? null,
    spec_text: orNull(r.specText),
    result_status: status,
    analyst: orNull(r.analyst),
  };
  // Insert first: in a lab's file the result is usually new, and then one statement does.
  const info = sql.q(INSERT_TEST_RESULT).run(lotId, sampleId, r.testCode, testedAt, replicate, ...TEST_VALUE_COLUMNS.map((c) => values[c]), sql.now(), ...provArgs(prov));
  if (info.changes === 1) return { id: Number(info.lastInsertRowid), created: true };
  const existing = sql
    .q(
      `SELECT * FROM test_results
       WHERE lot_id = ? AND test_code = ? AND coalesce(sample_id, '') = ? AND coalesce(tested_at, '') = ? AND coalesce(replicate, '') = ?`,
    )
    .get(lotId, r.testCode, sampleId ?? '', testedAt ?? '', replicate ?? '') as Record<string, unknown> & {
    id: number;
    result_status: ResultStatus;
    submission_id: number | null;
    line: number | null;
  };
  const prior = priorOf(existing);
  if (RESULT_RANK[status] < RESULT_RANK[existing.result_status]) return { id: existing.id, created: false, prior };
  if (TEST_VALUE_COLUMNS.every((c) => existing[c] === values[c])) {
    creditEarliest(sql, 'test_results', existing.id, prov);
    return { id: existing.id, created: false, prior };
  }
  sql.q(UPDATE_TEST_RESULT).run(...TEST_VALUE_COLUMNS.map((c) => values[c]), sql.now(), ...provArgs(prov), existing.id);
  return { id: existing.id, created: false, prior };
}

export function upsertDocument(sql: Sql, lotId: number, d: DocumentInput, prov: Prov): WriteResult {
  const version = d.version ?? 1;
  const existing = sql
    .q('SELECT id, submission_id, line FROM documents WHERE lot_id = ? AND type = ? AND doc_id = ? AND version = ?')
    .get(lotId, d.type, d.docId, version) as { id: number; submission_id: number | null; line: number | null } | undefined;
  const rest = [orNull(d.sha256), orNull(d.storedPath), normTime(d.issuedAt), orNull(d.supersedes)];
  if (existing) {
    // Same document version again: only fill what was unknown; the first copy stays the evidence.
    sql
      .q(
        `UPDATE documents SET sha256 = coalesce(sha256, ?), stored_path = coalesce(stored_path, ?),
           issued_at = coalesce(issued_at, ?), supersedes = coalesce(supersedes, ?)
         WHERE id = ?`,
      )
      .run(...rest, existing.id);
    creditEarliest(sql, 'documents', existing.id, prov);
    return { id: existing.id, created: false, prior: priorOf(existing) };
  }
  const info = sql
    .q(
      `INSERT INTO documents (lot_id, type, doc_id, version, sha256, stored_path, issued_at, supersedes, recorded_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(lotId, d.type, d.docId, version, ...rest, sql.now(), ...provArgs(prov));
  return { id: Number(info.lastInsertRowid), created: true };
}

export const DEVIATION_RANK: Record<DeviationStatus, number> = { open: 0, investigation: 1, closed: 2, cancelled: 2 };

export interface DeviationVersionDb {
  id: number;
  qms_ref: string | null;
  title: string | null;
  classification: string;
  status: DeviationStatus;
  capa_refs: string;
  opened_at: string;
  closed_at: string | null;
  submission_id: number | null;
  line: number | null;
}

/**
 * One version of a deviation (key: issuer + partnerRef + updatedAt) and the lots it affects.
 * Versions are kept; readers take the latest updatedAt per (issuer, partnerRef).
 */
export function upsertDeviation(sql: Sql, lotIds: number[], d: DeviationInput, issuer: string, prov: Prov): WriteResult {
  const openedAt = normTime(d.openedAt);
  if (!openedAt) throw new Error('upsertDeviation: openedAt is required');
  const closedAt = normTime(d.closedAt);
  const updatedAt = normTime(d.updatedAt) ?? closedAt ?? openedAt;
  const capaRefs = [...new Set((d.capaRefs ?? []).filter((c) => c !== ''))].sort();
  const existing = sql
    .q('SELECT * FROM deviations WHERE issuer = ? AND partner_ref = ? AND updated_at = ?')
    .get(issuer, d.partnerRef, updatedAt) as DeviationVersionDb | undefined;
  let id: number;
  let created = false;
  if (existing) {
    id = existing.id;
    if (DEVIATION_RANK[d.status] >= DEVIATION_RANK[existing.status]) {
      const merged = {
        qms_ref: orNull(d.qmsRef) ?? existing.qms_ref,
        title: orNull(d.title) ?? existing.title,
        classification: d.classification,
        status: d.status,
        capa_refs: JSON.stringify([...new Set([...(JSON.parse(existing.capa_refs) as string[]), ...capaRefs])].sort()),
        opened_at: openedAt,
        closed_at: closedAt ?? existing.closed_at,
      };
      const same = (Object.keys(merged) as (keyof typeof merged)[]).every((k) => merged[k] === existing[k]);
      if (same) creditEarliest(sql, 'deviations', id, prov);
      else {
        sql
          .q(
            `UPDATE deviations SET qms_ref = ?, title = ?, classification = ?, status = ?, capa_refs = ?, opened_at = ?, closed_at = ?,
               recorded_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
             WHERE id = ?`,
          )
          .run(merged.qms_ref, merged.title, merged.classification, merged.status, merged.capa_refs, merged.opened_at, merged.closed_at, sql.now(), ...provArgs(prov), id);
      }
    }
  } else {
    const info = sql
      .q(
        `INSERT INTO deviations (issuer, partner_ref, qms_ref, title, classification, status, capa_refs, opened_at, closed_at, updated_at,
                                 recorded_at, submission_id, line, mapping_hash, partner)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(issuer, d.partnerRef, orNull(d.qmsRef), orNull(d.title), d.classification, d.status, JSON.stringify(capaRefs), openedAt, closedAt, updatedAt, sql.now(), ...provArgs(prov));
    id = Number(info.lastInsertRowid);
    created = true;
  }
  const link = sql.q('INSERT INTO deviation_lots (deviation_id, lot_id, submission_id, line) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
  for (const lotId of new Set(lotIds)) link.run(id, lotId, prov.submissionId, prov.line ?? null);
  return existing ? { id, created, prior: priorOf(existing) } : { id, created };
}

// Two decisions at the same instant: the more restrictive one stands, whatever the order.
export const DECISION_RANK: Record<DispositionDecision, number> = { released: 0, quarantine: 1, rejected: 2 };

export function insertDisposition(
  sql: Sql,
  lotId: number,
  d: { decision: DispositionDecision; decidedBy?: string | null; decidedAt: string },
  prov: Prov,
): WriteResult {
  const decidedAt = normTime(d.decidedAt);
  if (!decidedAt) throw new Error('insertDisposition: decidedAt is required');
  const existing = sql
    .q('SELECT id, decision, decided_by, submission_id, line FROM dispositions WHERE lot_id = ? AND decided_at = ?')
    .get(lotId, decidedAt) as { id: number; decision: DispositionDecision; decided_by: string | null; submission_id: number | null; line: number | null } | undefined;
  if (existing) {
    if (DECISION_RANK[d.decision] > DECISION_RANK[existing.decision]) {
      sql
        .q('UPDATE dispositions SET decision = ?, decided_by = ?, recorded_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ? WHERE id = ?')
        .run(d.decision, orNull(d.decidedBy), sql.now(), ...provArgs(prov), existing.id);
    } else if (d.decision === existing.decision) {
      if (existing.decided_by === null && orNull(d.decidedBy)) sql.q('UPDATE dispositions SET decided_by = ? WHERE id = ?').run(d.decidedBy, existing.id);
      creditEarliest(sql, 'dispositions', existing.id, prov);
    }
    return { id: existing.id, created: false, prior: priorOf(existing) };
  }
  const info = sql
    .q(
      `INSERT INTO dispositions (lot_id, decision, decided_by, decided_at, recorded_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(lotId, d.decision, orNull(d.decidedBy), decidedAt, sql.now(), ...provArgs(prov));
  return { id: Number(info.lastInsertRowid), created: true };
}
