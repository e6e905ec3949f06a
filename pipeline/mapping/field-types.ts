// What a mapping field turns into: its canonical definition for the emitted kind, the value
// type the engine applies (declared, or inferred from the canonical type), and the canonical
// form of constants (`const`, `default`, `each.set`). Shared by the loader's checks and the compiler.

import { DateTime } from 'luxon';
import { RECORD_KINDS, type FieldDef, type FieldType } from '../model/records.js';
import type { RecordKind } from '../model/types.js';
import type { FieldSpec, FieldValueType } from './spec.js';
import { ConvError, createNumberParser, parseBoolean, parseResult, splitList, BOOLEAN_WORDS } from './values.js';
import { createSpecParser } from './spec-text.js';
import { isValidZone } from './date-format.js';

/** The pseudo-field of test_result that the engine splits into resultRaw / resultValue / qualifier. */
export const RESULT_FIELD = 'result';
/** The pseudo-field of test_result that the engine splits into specLow / specHigh / specText (+ unit). */
export const SPEC_FIELD = 'spec';

export function isRecordKind(kind: unknown): kind is RecordKind {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(RECORD_KINDS, kind);
}

export function canonicalField(kind: RecordKind, name: string): FieldDef | undefined {
  const fields = RECORD_KINDS[kind].fields;
  return Object.prototype.hasOwnProperty.call(fields, name) ? fields[name] : undefined;
}

export function canonicalFieldNames(kind: RecordKind): string[] {
  const names = Object.keys(RECORD_KINDS[kind].fields);
  return kind === 'test_result' ? [...names, RESULT_FIELD, SPEC_FIELD] : names;
}

const VALUE_TYPE_OF: Record<FieldType, FieldValueType> = {
  string: 'string', decimal: 'decimal', integer: 'integer', date: 'date', datetime: 'datetime', boolean: 'boolean', 'string[]': 'list',
};

/** Value types a mapping may declare for a canonical field without producing invalid records. */
export function allowedValueTypes(kind: RecordKind, name: string, spec: Pick<FieldSpec, 'xref'>): FieldValueType[] {
  if (spec.xref !== undefined) return ['string'];
  if (kind === 'test_result' && name === RESULT_FIELD) return ['result'];
  if (kind === 'test_result' && name === SPEC_FIELD) return ['spec'];
  const def = canonicalField(kind, name);
  if (def === undefined) return ['string'];
  if (def.type === 'decimal') return ['decimal', 'integer'];
  return [VALUE_TYPE_OF[def.type]];
}

/** The type the engine applies: the declared one, else what the canonical field needs. */
export function effectiveType(kind: RecordKind, name: string, spec: Pick<FieldSpec, 'type' | 'xref'>): FieldValueType {
  if (spec.type !== undefined) return spec.type;
  return allowedValueTypes(kind, name, spec)[0];
}

export interface ConstantContext {
  type: FieldValueType;
  enumValues?: readonly string[];
  tz?: string;
  separator?: string;
}

/**
 * A constant written in the mapping file in canonical form: numbers as numbers (or "12.5"),
 * dates as YYYY-MM-DD, datetimes as ISO-8601. Returns the typed value or why it is wrong.
 * A `result` constant yields the split object.
 */
export function coerceConstant(value: unknown, ctx: ConstantContext): unknown {
  const str = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  if (str === undefined) return new ConvError('E_BAD_CONSTANT', `expected a string, number or boolean`);
  switch (ctx.type) {
    case 'string': {
      if (ctx.enumValues !== undefined && !ctx.enumValues.includes(str)) {
        return new ConvError('E_BAD_CONSTANT', `"${str}" is not one of: ${ctx.enumValues.join(', ')}`);
      }
      return str;
    }
    case 'decimal':
    case 'integer': {
      const n = typeof value === 'number' ? value : createNumberParser('.', '')(str.trim());
      if (Number.isNaN(n)) return new ConvError('E_BAD_CONSTANT', `"${str}" is not a number (write constants with "." as decimal separator)`);
      if (ctx.type === 'integer' && !Number.isInteger(n)) return new ConvError('E_BAD_CONSTANT', `${str} is not an integer`);
      return n;
    }
    case 'boolean': {
      const b = typeof value === 'boolean' ? value : parseBoolean(str.trim());
      if (b === undefined) return new ConvError('E_BAD_CONSTANT', `"${str}" is not a boolean (${BOOLEAN_WORDS})`);
      return b;
    }
    case 'date': {
      const dt = /^\d{4}-\d{2}-\d{2}$/.test(str) ? DateTime.fromISO(str, { zone: 'utc' }) : undefined;
      if (dt === undefined || !dt.isValid) return new ConvError('E_BAD_CONSTANT', `"${str}" is not a date as YYYY-MM-DD`);
      return str;
    }
    case 'datetime': {
      const zone = ctx.tz !== undefined && isValidZone(ctx.tz) ? ctx.tz : 'utc';
      const dt = DateTime.fromISO(str, { zone });
      if (!dt.isValid) return new ConvError('E_BAD_CONSTANT', `"${str}" is not an ISO-8601 date/time (e.g. 2024-12-31T13:45:00Z)`);
      return new Date(dt.toMillis()).toISOString();
    }
    case 'list':
      return splitList(str, ctx.separator ?? ',');
    case 'result':
      return parseResult(str, createNumberParser('.', ''), 'a number');
    case 'spec':
      return createSpecParser(createNumberParser('.', ''), 'a number')(str);
  }
}
