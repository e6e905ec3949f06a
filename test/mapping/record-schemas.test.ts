import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { RECORD_KINDS } from '../../pipeline/model/records.js';
import { recordSchemas, validateRecord } from '../../pipeline/model/schemas.js';
import type { MappedRecord, RecordKind } from '../../pipeline/model/types.js';

const stage = (fields: Record<string, unknown>, ids = [{ scheme: 'cmo_batch' as const, value: 'AC-1' }]): MappedRecord => ({ kind: 'stage_event', line: 4, ids, fields });

describe('record schemas', () => {
  it('has one draft-07 schema per kind, compiling in strict ajv, listing every canonical field', () => {
    const ajv = new Ajv({ strict: true });
    for (const kind of Object.keys(RECORD_KINDS) as RecordKind[]) {
      const schema = recordSchemas[kind] as { properties: { fields: { properties: object; required: string[] } } };
      expect(() => ajv.compile(schema)).not.toThrow();
      expect(Object.keys(schema.properties.fields.properties)).toEqual(Object.keys(RECORD_KINDS[kind].fields));
      expect(schema.properties.fields.required).toEqual(Object.entries(RECORD_KINDS[kind].fields).filter(([, f]) => f.required).map(([n]) => n));
    }
  });

  it('accepts a well-formed record', () => {
    expect(validateRecord(stage({ stage: 'filling', status: 'completed', eventTime: '2026-01-01T10:00:00.000Z' }))).toEqual([]);
  });

  it('reports enum, required, type, date-shape and unknown-field problems with the field and value', () => {
    const errors = validateRecord(stage({ stage: 'filling', status: 'Done', eventTime: '2026-01-01 10:00', site: 7, bogus: 'x' }));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 4, field: 'status', code: 'E_INVALID_VALUE', value: 'Done' }),
        expect.objectContaining({ field: 'eventTime', code: 'E_BAD_DATE', value: '2026-01-01 10:00' }),
        expect.objectContaining({ field: 'site', code: 'E_BAD_TYPE', value: '7' }),
        expect.objectContaining({ field: 'bogus', code: 'E_UNKNOWN_FIELD' }),
      ]),
    );
    expect(validateRecord(stage({ stage: 'filling', status: 'started' }))).toEqual([
      expect.objectContaining({ field: 'eventTime', code: 'E_REQUIRED' }),
    ]);
  });

  it('a lot-referencing kind needs an id, a lotNumber or a poNumber', () => {
    const fields = { stage: 'filling', status: 'started', eventTime: '2026-01-01T10:00:00.000Z' };
    expect(validateRecord(stage(fields, []))).toEqual([expect.objectContaining({ code: 'E_NO_LOT_REF', line: 4 })]);
    expect(validateRecord(stage({ ...fields, lotNumber: 'NW1' }, []))).toEqual([]);
    expect(validateRecord(stage({ ...fields, poNumber: '4500' }, []))).toEqual([]);
    expect(validateRecord({ kind: 'material', line: 2, ids: [], fields: { materialId: '0001' } })).toEqual([]);
  });

  it('rejects empty identifier values and unknown schemes', () => {
    const errors = validateRecord(stage({ stage: 'filling', status: 'started', eventTime: '2026-01-01T10:00:00.000Z' }, [{ scheme: 'x' as never, value: '' }]));
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });
});
