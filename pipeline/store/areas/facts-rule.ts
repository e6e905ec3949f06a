// The rules of lot facts (facts.ts), pure: SQL is elsewhere.
//
// Facts are idempotent on natural keys: writing a fact that is already there changes nothing (its
// provenance stays with the earliest submission that said it), so a replayed file never
// duplicates facts. Order-independent: facts carry their own event time, and when two writes
// share a key the outcome is decided by the data (lifecycle rank, filling gaps), not by which
// arrived first. The one exception is two *different* values at the same key and rank — a
// correction with no time to order it by — where the later write wins.
//
// Below: the ranks, and the one rule for writing a test result onto what is stored at its key,
// shared by the row-by-row upsertTestResult and the bulk applyTestResults of the facts area, so
// the two paths cannot drift apart (a state in, the next state and the WriteResult out): a lower
// lifecycle rank never undoes a higher one; the same values again only move the credit to the
// earliest submission; different values at the same (or a higher) rank overwrite values,
// recorded_at and provenance.

import type { DeviationStatus, DispositionDecision, ResultStatus } from '../../model/types.js';
import { normTime } from '../values.js';
import type { Prov, TestResultInput, WriteResult } from '../types.js';

/** Empty text is no value. */
export const orNull = (v: string | null | undefined): string | null => (v == null || v === '' ? null : v);

export type FactTable = 'stage_events' | 'test_results' | 'documents' | 'deviations' | 'dispositions';

// A lab result moves preliminary → final → retracted; a late-arriving earlier state never undoes a later one.
export const RESULT_RANK: Record<ResultStatus, number> = { preliminary: 0, final: 1, retracted: 2 };

/** The columns of a test result that are its values (not its key, not its provenance). */
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

// Deviations are versioned by updated_at; two writes of the same version: an earlier status
// (open → investigation → closed/cancelled) never overwrites a later one.
export const DEVIATION_RANK: Record<DeviationStatus, number> = { open: 0, investigation: 1, closed: 2, cancelled: 2 };

/** The stored version of a deviation its upsert decides from. */
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

// Two decisions at the same instant: the more restrictive one stands, whatever the order.
export const DECISION_RANK: Record<DispositionDecision, number> = { released: 0, quarantine: 1, rejected: 2 };

export type TestValueColumn = (typeof TEST_VALUE_COLUMNS)[number];
export type TestValues = Record<TestValueColumn, string | number | null>;

/** The key of a result as the unique index test_results_key sees it (coalesce(…, '')). */
export interface TestKey {
  lotId: number;
  testCode: string;
  sampleId: string | null;
  testedAt: string | null;
  replicate: string | null;
}

/** A result as stored: key, values, provenance columns. */
export interface NormalizedTestResult extends TestKey {
  values: TestValues;
  prov: ProvColumns;
}

export interface ProvColumns {
  submission_id: number | null;
  line: number | null;
  mapping_hash: string | null;
  partner: string;
}

/** What is stored at a key: the row's id (null until inserted), values, recorded_at, provenance. */
export interface TestState {
  id: number | null;
  values: TestValues;
  recordedAt: string;
  prov: ProvColumns;
}

export const provColumns = (p: Prov): ProvColumns => ({ submission_id: p.submissionId, line: p.line ?? null, mapping_hash: p.mappingHash ?? null, partner: p.partner });

/** upsertTestResult's normalisation: empty text is absent, times in the store's one form, status defaults to final. */
export function normalizeTestResult(lotId: number, r: TestResultInput, prov: Prov): NormalizedTestResult {
  const status: ResultStatus = r.resultStatus ?? 'final';
  return {
    lotId,
    testCode: r.testCode,
    sampleId: orNull(r.sampleId),
    testedAt: normTime(r.testedAt),
    replicate: orNull(r.replicate),
    values: {
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
    },
    prov: provColumns(prov),
  };
}

/** A stable text for Map keys; JSON so no character of a value can make two keys collide. */
export const keyText = (k: TestKey): string => JSON.stringify([k.lotId, k.testCode, k.sampleId ?? '', k.testedAt ?? '', k.replicate ?? '']);

/** A stored row (SELECT *) as a state. */
export function stateOfRow(row: Record<string, unknown>): TestState {
  const values = {} as TestValues;
  for (const c of TEST_VALUE_COLUMNS) values[c] = row[c] as string | number | null;
  return {
    id: Number(row.id),
    values,
    recordedAt: row.recorded_at as string,
    prov: {
      submission_id: row.submission_id === null ? null : Number(row.submission_id),
      line: row.line === null ? null : Number(row.line),
      mapping_hash: row.mapping_hash as string | null,
      partner: row.partner as string,
    },
  };
}

export type Step = 'created' | 'updated' | 'credited' | 'unchanged';

export interface Folded {
  next: TestState;
  step: Step;
  /** The credit before this write (absent for a created row), as WriteResult.prior. */
  prior?: WriteResult['prior'];
}

/** One write onto the state at its key (undefined: nothing stored yet). `now` stamps recorded_at. */
export function foldTestResult(state: TestState | undefined, r: NormalizedTestResult, now: string): Folded {
  if (!state) return { next: { id: null, values: r.values, recordedAt: now, prov: r.prov }, step: 'created' };
  const prior = { submissionId: state.prov.submission_id, line: state.prov.line };
  const rank = RESULT_RANK[r.values.result_status as ResultStatus];
  if (rank < RESULT_RANK[state.values.result_status as ResultStatus]) return { next: state, step: 'unchanged', prior };
  if (TEST_VALUE_COLUMNS.every((c) => state.values[c] === r.values[c])) {
    // creditEarliest: a known submission takes the credit from a later one or from none.
    const sub = r.prov.submission_id;
    if (sub !== null && (state.prov.submission_id === null || state.prov.submission_id > sub)) return { next: { ...state, prov: r.prov }, step: 'credited', prior };
    return { next: state, step: 'unchanged', prior };
  }
  return { next: { id: state.id, values: r.values, recordedAt: now, prov: r.prov }, step: 'updated', prior };
}
