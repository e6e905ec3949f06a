// A column the mapping names that is not in the file's header is an error (E_MISSING_COLUMN,
// naming the field, the headers present and a did-you-mean), for plain fields and for `each`
// columns alike, unless the mapping says the column may be absent (`optional: true`).

import { describe, expect, it } from 'vitest';
import { compile, yaml } from './helpers.js';

const COA = yaml`
  partner: acme-cmo
  feed: coa-values
  match: "COA_*.csv"
  dialect: { delimiter: ";" }
  records:
    - emit: test_result
      fields:
        lotNumber: { from: Charge, required: true }
        testCode: { from: Test }
        result: { from: Wert }
        specLow: { from: "Grenze Unten", type: decimal }
        specHigh: { from: "Grenze Oben X", type: decimal }
`;

const WIDE = yaml`
  partner: bravo-lab
  feed: summary
  match: "SUM_*.csv"
  records:
    - emit: test_result
      each:
        - { column: Assay, set: { testCode: ASSAY } }
        - { column: "Water KF", set: { testCode: WATER } }
      fields:
        lotNumber: { from: Lot }
        result: { from: $each }
`;

function bindError(text: string, header: string[]) {
  const bound = compile(text).bindCsvHeader(header, 1);
  return 'error' in bound ? bound.error : undefined;
}

describe('named columns missing from the header', () => {
  const header = ['Charge', 'Test', 'Wert', 'Grenze Unten', 'Grenze Oben'];

  it('a typo in an optional column is E_MISSING_COLUMN with the headers present and a did-you-mean', () => {
    const e = bindError(COA, header);
    expect(e).toMatchObject({ code: 'E_MISSING_COLUMN', line: 1, field: 'specHigh' });
    expect(e!.message).toContain(`no column for field 'specHigh' (tried "Grenze Oben X"; did you mean "Grenze Oben"?)`);
    expect(e!.message).toContain('the header (line 1) has: "Charge", "Test", "Wert", "Grenze Unten", "Grenze Oben"');
  });

  it('optional: true lets the column be absent (a warning, the field stays empty)', () => {
    const bound = compile(COA.replace('specHigh: { from: "Grenze Oben X", type: decimal }', 'specHigh: { from: "Grenze Oben X", type: decimal, optional: true }')).bindCsvHeader(header, 1);
    expect('error' in bound).toBe(false);
    if ('error' in bound) return;
    expect(bound.warnings).toEqual([expect.objectContaining({ code: 'W_COLUMN_NOT_FOUND', field: 'specHigh' })]);
  });

  it('a typo in one `each` column is an error even when another each column is there', () => {
    const e = bindError(WIDE, ['Lot', 'Assay', 'Water (KF)']);
    expect(e).toMatchObject({ code: 'E_MISSING_COLUMN' });
    expect(e!.message).toContain(`no column for test_result 'each' column (tried "Water KF"; did you mean "Water (KF)"?)`);
    expect(bindError(WIDE.replace('{ column: "Water KF", set: { testCode: WATER } }', '{ column: "Water KF", set: { testCode: WATER }, optional: true }'), ['Lot', 'Assay'])).toBeUndefined();
  });

  it('a header garbled by a wrong encoding matches no column: E_HEADER_NOT_FOUND blames the mapping and hints at the encoding', () => {
    const e = bindError(WIDE, ['L\u0000o\u0000t\u0000', 'A\u0000s\u0000s\u0000a\u0000y\u0000']);
    expect(e?.code).toBe('E_HEADER_NOT_FOUND');
    expect(e!.message).toMatch(/None of the columns the mapping names is in the header row \(line 1\).*The mapping does not fit this file.*is dialect\.encoding \(utf-8\) right\?/);
  });

  it('a header row in the wrong place or a wrong delimiter: E_HEADER_NOT_FOUND shows the line and hints', () => {
    const e = bindError(COA, ['Charge,Test,Wert,Grenze Unten,Grenze Oben']);
    expect(e?.code).toBe('E_HEADER_NOT_FOUND');
    expect(e!.message).toContain('which reads: Charge,Test,Wert,Grenze Unten,Grenze Oben');
    expect(e!.message).toContain('the line has a single column with delimiter ";", but it contains ",": is that the delimiter?');
    expect(bindError(COA, ['Report', 'created 2026-11-19'])?.message).toContain('dialect.headerRow is 1: is the header on that line?');
  });
});
