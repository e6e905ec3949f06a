// What the apply area (apply.ts) reads a mapped record with: its fields checked one by one
// against the schema's value lists (a bad field stops the record with a coded RowError), and
// what applying a record returns.

import type { ErrorCode } from '../../codes.js';
import type { DeviationClass, DeviationStatus, DispositionDecision, DocumentType, IdRef, MappedRecord, Qualifier, ResultStatus, RowError, StageStatus } from '../../model/types.js';
import type { LotRef, TestResultInput } from '../types.js';
import { ID_SCHEMES } from '../../model/types.js';

export type ApplyResult = { lotIds: number[]; fact?: FactWrite } | { error: RowError };

/**
 * Set when the record wrote a lot fact that an earlier row of the same submission had written
 * (same fact key): the two rows overwrite each other, and only one of them is stored.
 */
export interface FactWrite {
  /** The key in words, e.g. `test_result ASSAY, sample S-1, lot NW26-0411`. */
  key: string;
  /** Line of this submission the fact was credited to before this write. */
  priorLine: number | null;
  /** Line of this submission it is credited to now (null: an earlier submission keeps the credit). */
  heldByLine: number | null;
}

/** The lot a record names, in words (its lot number, else its identifiers). */
export const lotWords = (rec: MappedRecord): string => {
  const n = rec.fields.lotNumber;
  return typeof n === 'string' && n !== '' ? `lot ${n}` : (rec.ids ?? []).map((i) => `${i.scheme} ${i.value}`).join(', ') || 'the lot';
};

// The values the schema's CHECK constraints allow: a record outside them is refused field by field.
export const STAGE_STATUSES: readonly StageStatus[] = ['started', 'completed', 'on_hold', 'aborted'];
export const RESULT_STATUSES: readonly ResultStatus[] = ['preliminary', 'final', 'retracted'];
export const QUALIFIERS: readonly Qualifier[] = ['<', '>', '<=', '>=', 'ND', '<LOQ'];
export const DOC_TYPES: readonly DocumentType[] = ['coa', 'batch_record', 'packaging_record', 'test_report', 'label_approval'];
export const DEV_CLASSES: readonly DeviationClass[] = ['minor', 'major', 'critical'];
export const DEV_STATUSES: readonly DeviationStatus[] = ['open', 'investigation', 'closed', 'cancelled'];
export const DECISIONS: readonly DispositionDecision[] = ['released', 'rejected', 'quarantine'];
export const PO_STATUSES = ['open', 'closed', 'cancelled'] as const;

/** Thrown inside the reader to stop at the first bad field; caught in applyRecord. */
export class FieldProblem {
  constructor(readonly error: RowError) {}
}

export class FieldReader {
  constructor(
    private readonly fields: Record<string, unknown>,
    private readonly line: number,
  ) {}

  private problem(field: string, code: ErrorCode, message: string, value?: unknown): never {
    const error: RowError = { line: this.line, field, code, message };
    if (value !== undefined && value !== null) error.value = String(value);
    throw new FieldProblem(error);
  }

  str(k: string, required: true): string;
  str(k: string, required?: boolean): string | null;
  str(k: string, required = false): string | null {
    const v = this.fields[k];
    let s: string | null = null;
    if (v instanceof Date) s = v.toISOString();
    else if (typeof v === 'string') s = v.trim() === '' ? null : v;
    else if (typeof v === 'number' || typeof v === 'boolean') s = String(v);
    else if (v != null) this.problem(k, 'E_BAD_VALUE', `Field ${k} must be text.`, JSON.stringify(v));
    if (s === null && required) this.problem(k, 'E_REQUIRED', `Field ${k} is required.`);
    return s;
  }

  num(k: string): number | null {
    const v = this.fields[k];
    if (v == null || v === '') return null;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
    if (!Number.isFinite(n)) this.problem(k, 'E_BAD_NUMBER', `Field ${k} must be a number.`, v);
    return n;
  }

  int(k: string): number | null {
    const n = this.num(k);
    if (n !== null && !Number.isInteger(n)) this.problem(k, 'E_BAD_NUMBER', `Field ${k} must be a whole number.`, n);
    return n;
  }

  oneOf<T extends string>(k: string, values: readonly T[], required: true): T;
  oneOf<T extends string>(k: string, values: readonly T[], required?: boolean): T | null;
  oneOf<T extends string>(k: string, values: readonly T[], required = false): T | null {
    const s = this.str(k, required);
    if (s === null) return null;
    if (!(values as readonly string[]).includes(s)) this.problem(k, 'E_BAD_VALUE', `Field ${k} must be one of ${values.join(', ')}.`, s);
    return s as T;
  }

  list(k: string): string[] {
    const v = this.fields[k];
    if (v == null || v === '') return [];
    if (Array.isArray(v)) return v.filter((x) => x != null && x !== '').map(String);
    if (typeof v === 'string') return v.split(',').map((x) => x.trim()).filter((x) => x !== '');
    return this.problem(k, 'E_BAD_VALUE', `Field ${k} must be a list of text.`, JSON.stringify(v));
  }

  lotRef(ids: IdRef[]): LotRef {
    const ref: LotRef = { ids };
    const lotNumber = this.str('lotNumber');
    const materialId = this.str('materialId');
    const poNumber = this.str('poNumber');
    const poItem = this.str('poItem');
    if (lotNumber !== null) ref.lotNumber = lotNumber;
    if (materialId !== null) ref.materialId = materialId;
    if (poNumber !== null) ref.poNumber = poNumber;
    if (poItem !== null) ref.poItem = poItem;
    return ref;
  }
}

/** A test result's fields, read and checked (FieldProblem on a bad one). */
export function readTestResult(f: FieldReader): TestResultInput {
  return {
    testCode: f.str('testCode', true),
    sampleId: f.str('sampleId'),
    testName: f.str('testName'),
    method: f.str('method'),
    resultRaw: f.str('resultRaw'),
    resultValue: f.num('resultValue'),
    qualifier: f.oneOf('qualifier', QUALIFIERS),
    unit: f.str('unit'),
    specLow: f.num('specLow'),
    specHigh: f.num('specHigh'),
    specText: f.str('specText'),
    resultStatus: f.oneOf('resultStatus', RESULT_STATUSES) ?? 'final',
    testedAt: f.str('testedAt'),
    analyst: f.str('analyst'),
    replicate: f.str('replicate'),
  };
}

/** A test result's key in words, for the row that overwrote another row of its file. */
export const testResultWords = (t: TestResultInput, rec: MappedRecord): string =>
  [`test_result ${t.testCode}`, t.sampleId ? `sample ${t.sampleId}` : null, t.testedAt ? `tested ${t.testedAt}` : null, t.replicate ? `replicate ${t.replicate}` : null, lotWords(rec)]
    .filter(Boolean)
    .join(', ');

/** Identifiers of a scheme the schema does not know cannot be learned after the fact (the row would fail then). */
export const learnsUnknownScheme = (learned: readonly IdRef[]): boolean => learned.some((id) => !(ID_SCHEMES as readonly string[]).includes(id.scheme));
