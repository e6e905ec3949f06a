// JSON Schemas of mapped records, one per kind, generated from RECORD_KINDS, and the validator
// every record passes before it may reach the store. The mapping engine already types values;
// this is the contract check (enums, required fields, canonical shapes) with row-level errors.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { RECORD_KINDS, type FieldDef } from './records.js';
import { ID_SCHEMES, type MappedRecord, type RecordKind, type RowError } from './types.js';

type Schema = Record<string, unknown>;

export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';
export const DATETIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$';

function fieldSchema(def: FieldDef): Schema {
  switch (def.type) {
    case 'string':
      return def.enum ? { type: 'string', enum: [...def.enum] } : { type: 'string' };
    case 'decimal':
      return { type: 'number' };
    case 'integer':
      return { type: 'integer' };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', pattern: DATE_PATTERN };
    case 'datetime':
      return { type: 'string', pattern: DATETIME_PATTERN };
    case 'string[]':
      return { type: 'array', items: { type: 'string' } };
  }
}

export function recordSchemaFor(kind: RecordKind): Schema {
  const def = RECORD_KINDS[kind];
  const properties: Schema = {};
  for (const [name, f] of Object.entries(def.fields)) properties[name] = fieldSchema(f);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `lotgate ${kind} record`,
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'line', 'ids', 'fields'],
    properties: {
      kind: { const: kind },
      line: { type: 'integer', minimum: 0 },
      ids: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['scheme', 'value'],
          properties: { scheme: { enum: [...ID_SCHEMES] }, value: { type: 'string', minLength: 1 } },
        },
      },
      fields: {
        type: 'object',
        additionalProperties: false,
        required: Object.entries(def.fields).filter(([, f]) => f.required).map(([n]) => n),
        properties,
      },
    },
  };
}

export const recordSchemas: Record<RecordKind, Schema> = Object.fromEntries(
  (Object.keys(RECORD_KINDS) as RecordKind[]).map((k) => [k, recordSchemaFor(k)]),
) as Record<RecordKind, Schema>;

export type RecordValidator = (rec: MappedRecord) => RowError[];

/** Errors for one record, located by its line and the canonical field at fault. */
export function createRecordValidator(): RecordValidator {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validators = new Map<RecordKind, ValidateFunction>();
  return (rec: MappedRecord): RowError[] => {
    if (!Object.prototype.hasOwnProperty.call(RECORD_KINDS, rec.kind)) {
      return [{ line: rec.line, code: 'E_INVALID_RECORD', message: `unknown record kind '${String(rec.kind)}'` }];
    }
    let validate = validators.get(rec.kind);
    if (validate === undefined) {
      validate = ajv.compile(recordSchemas[rec.kind]);
      validators.set(rec.kind, validate);
    }
    const errors: RowError[] = validate(rec) ? [] : (validate.errors ?? []).map((e) => toRowError(e, rec));
    if (RECORD_KINDS[rec.kind].lotRef && errors.length === 0 && !hasLotRef(rec)) {
      errors.push({
        line: rec.line,
        code: 'E_NO_LOT_REF',
        message: `${rec.kind} names no lot: no identifier, lotNumber or poNumber has a value`,
      });
    }
    return errors;
  };
}

function hasLotRef(rec: MappedRecord): boolean {
  const f = rec.fields;
  return rec.ids.length > 0 || (typeof f.lotNumber === 'string' && f.lotNumber !== '') || (typeof f.poNumber === 'string' && f.poNumber !== '');
}

function show(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v);
}

function toRowError(e: ErrorObject, rec: MappedRecord): RowError {
  const params = e.params as Record<string, unknown>;
  const segs = e.instancePath.split('/').slice(1);
  let field = segs[0] === 'fields' ? segs[1] : undefined;
  if (e.keyword === 'required' && e.instancePath === '/fields') field = String(params.missingProperty);
  if (e.keyword === 'additionalProperties' && e.instancePath === '/fields') field = String(params.additionalProperty);
  const value = field !== undefined ? rec.fields[field] : undefined;
  const base = { line: rec.line, ...(field !== undefined ? { field } : {}), ...(value !== undefined ? { value: typeof value === 'string' ? value : JSON.stringify(value) } : {}) };
  const name = field ?? (e.instancePath || 'record');
  switch (e.keyword) {
    case 'required':
      return { ...base, code: 'E_REQUIRED', message: `${rec.kind} needs '${String(params.missingProperty)}', which has no value` };
    case 'enum':
      return { ...base, code: 'E_INVALID_VALUE', message: `${name} must be one of: ${(params.allowedValues as unknown[]).join(', ')}; got ${show(value)}` };
    case 'additionalProperties':
      return { ...base, code: 'E_UNKNOWN_FIELD', message: `'${String(params.additionalProperty)}' is not a field of ${rec.kind}` };
    case 'pattern': {
      const what = params.pattern === DATE_PATTERN ? 'a date as YYYY-MM-DD' : 'a UTC date/time as YYYY-MM-DDTHH:mm:ss.sssZ';
      return { ...base, code: 'E_BAD_DATE', message: `${name} must be ${what}; got ${show(value)}` };
    }
    case 'type':
      return { ...base, code: 'E_BAD_TYPE', message: `${name} must be ${String(params.type)}; got ${show(value)}` };
    default:
      return { ...base, code: 'E_INVALID_RECORD', message: `${name} ${e.message ?? 'is invalid'}` };
  }
}

// A compiled validator is a pure function of constant schemas; one per process is a cache.
let defaultValidator: RecordValidator | undefined;

/** Validates one mapped record against its kind's schema (plus the lot-reference rule). */
export function validateRecord(rec: MappedRecord): RowError[] {
  defaultValidator ??= createRecordValidator();
  return defaultValidator(rec);
}
