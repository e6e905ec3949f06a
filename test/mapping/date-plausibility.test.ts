// Implausible dates are row errors (E_IMPLAUSIBLE_DATE, with line, column and field): a pattern
// that swaps day and month puts a past test months into the future. The window is configurable
// per mapping (plausibleDates) and per field (plausible); forward-looking fields (expiry) have
// no future limit by default.

import { describe, expect, it } from 'vitest';
import { compile, load, mapRows, yaml } from './helpers.js';

const LAB = yaml`
  partner: bravo-lab
  feed: lims
  match: "LIMS_*.csv"
  records:
    - emit: test_result
      fields:
        lotNumber: { from: Lot }
        sampleId: { from: Sample }
        testCode: { from: Test }
        result: { from: Result }
        resultStatus: { const: final }
        testedAt: { from: Tested, type: datetime, format: "MM/dd/yyyy", tz: UTC }
  __EXTRA__
`;

function rows(text: string, lines: string[], now = '2026-03-12T10:00:00Z') {
  const c = compile(text.replace('__EXTRA__', ''));
  c.setNow(new Date(now));
  const bound = c.bindCsvHeader(['Lot', 'Sample', 'Test', 'Result', 'Tested'], 1);
  if ('error' in bound) throw new Error(bound.error.message);
  return mapRows(bound, lines);
}

describe('date plausibility', () => {
  it('a day/month swap that lands months in the future is E_IMPLAUSIBLE_DATE with line, column and field', () => {
    // The lab wrote 03/11/2026 meaning 3 November? No: it meant 11 March, and the pattern reads 3 November.
    const [ok, swapped] = rows(LAB, ['L1,S1,ASSAY,99.1,03/11/2026', 'L1,S1,WATER,1.2,11/03/2026']);
    expect(ok.errors).toEqual([]);
    expect(ok.records[0].fields.testedAt).toBe('2026-03-11T00:00:00.000Z');
    expect(swapped.records).toEqual([]);
    expect(swapped.errors).toEqual([
      {
        line: 3,
        column: 5,
        field: 'testedAt',
        code: 'E_IMPLAUSIBLE_DATE',
        value: '11/03/2026',
        message: expect.stringMatching(/^testedAt: "11\/03\/2026" read as 2026-11-03T00:00:00.000Z is 236 days after today \(2026-03-12\); at most 7 are plausible: check the date pattern \(day and month swapped\?\)/),
      },
    ]);
  });

  it('dates before the floor (default 2000-01-01) are implausible', () => {
    const [r] = rows(LAB, ['L1,S1,ASSAY,99.1,03/11/1926']);
    expect(r.errors[0]).toMatchObject({ code: 'E_IMPLAUSIBLE_DATE', field: 'testedAt', message: expect.stringContaining('is before 2000-01-01') });
  });

  it('the window is configurable per mapping and per field', () => {
    const lenient = LAB.replace('__EXTRA__', 'plausibleDates: { maxFutureDays: 365, notBefore: 1920 }');
    expect(rows(lenient, ['L1,S1,ASSAY,99.1,11/03/2026', 'L1,S1,ASSAY,99.1,03/11/1926']).map((r) => r.errors)).toEqual([[], []]);
    const field = LAB.replace('tz: UTC }', 'tz: UTC, plausible: { maxFutureDays: 0 } }');
    const [tomorrow] = rows(field, ['L1,S1,ASSAY,99.1,03/13/2026']);
    expect(tomorrow.errors[0]).toMatchObject({ code: 'E_IMPLAUSIBLE_DATE', message: expect.stringContaining('at most 0 are plausible') });
    // The field wins over the mapping.
    const both = LAB.replace('__EXTRA__', 'plausibleDates: { maxFutureDays: 0 }').replace('tz: UTC }', 'tz: UTC, plausible: { maxFutureDays: 30 } }');
    expect(rows(both, ['L1,S1,ASSAY,99.1,03/20/2026'])[0].errors).toEqual([]);
  });

  it('forward-looking fields (expiry) have no future limit by default', () => {
    const c = compile(yaml`
      partner: erp
      feed: lots
      match: "LOTS_*.csv"
      records:
        - emit: lot
          fields:
            materialId: { from: Material }
            lotNumber: { from: Lot }
            expiryDate: { from: Expiry, type: date, format: "yyyy-MM-dd" }
            manufactureDate: { from: Made, type: date, format: "yyyy-MM-dd" }
    `);
    c.setNow(new Date('2026-03-12T10:00:00Z'));
    const bound = c.bindCsvHeader(['Material', 'Lot', 'Expiry', 'Made'], 1);
    if ('error' in bound) throw new Error(bound.error.message);
    const [ok, future] = mapRows(bound, ['M1,L1,2031-03-31,2026-03-01', 'M1,L2,2031-03-31,2027-03-01']);
    expect(ok.errors).toEqual([]);
    expect(future.errors).toEqual([expect.objectContaining({ code: 'E_IMPLAUSIBLE_DATE', field: 'manufactureDate' })]);
  });
});

describe('plausible in mapping check', () => {
  it('is a warning on a field that is not a date', () => {
    const d = load(yaml`
      partner: acme
      feed: feed
      match: "x_*.csv"
      records:
        - emit: stage_event
          fields:
            lotNumber: { from: Lot, plausible: { maxFutureDays: 3 } }
            stage: { const: packaging }
            status: { const: completed }
            eventTime: { from: When, tz: UTC, plausible: { maxFutureDays: 3, notBefore: 2015 } }
    `).diagnostics;
    expect(d).toEqual([expect.objectContaining({ code: 'W_UNUSED_OPTION', severity: 'warning', message: expect.stringContaining('plausible only applies') })]);
  });
});
