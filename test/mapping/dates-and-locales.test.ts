// Smaller date and result findings of issue 8 §1: an explicit `locale: en-US` (the documented
// default) behaves exactly like none; a locale nobody knows fails `mapping check`; a date
// without a time of day stays that calendar date whatever the zone; <LOQ and ND, both
// non-detects, are judged alike when a test has no limits.

import { describe, expect, it } from 'vitest';
import { createDateParser } from '../../pipeline/mapping/date-format.js';
import type { TestResultRow } from '../../pipeline/model/types.js';
import { evaluateResult } from '../../pipeline/readiness/evaluate-result.js';
import { load, yaml } from './helpers.js';

describe('locale', () => {
  const values = ['10/20/26 9:42 AM', '10/20/26 9:42 a.m.', '10/20/26 9:42 P.M.', '2/30/26 9:42 AM', '3/8/26 2:30 AM'];
  it('an explicit en-US parses (and refuses) exactly what the default does', () => {
    const plain = createDateParser({ kind: 'datetime', formats: ['M/d/yy h:mm a'], tz: 'America/New_York' });
    const enUS = createDateParser({ kind: 'datetime', formats: ['M/d/yy h:mm a'], tz: 'America/New_York', locale: 'en-US' });
    expect(values.map((v) => enUS.parse(v))).toEqual(values.map((v) => plain.parse(v)));
    expect(enUS.parse('10/20/26 9:42 a.m.')).toBe('2026-10-20T13:42:00.000Z');
  });

  it('a locale the system does not know is an error in mapping check', () => {
    const mapping = (locale: string) => yaml`
      partner: acme
      feed: feed
      match: "x_*.csv"
      records:
        - emit: stage_event
          fields:
            lotNumber: { from: Lot }
            stage: { const: packaging }
            status: { const: completed }
            eventTime: { from: When, format: "dd MMM yyyy HH:mm", tz: Europe/Berlin, locale: ${locale} }
    `;
    expect(load(mapping('de-DE')).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(load(mapping('en-US')).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    for (const bogus of ['xx-bogus', 'klingon']) {
      expect(load(mapping(bogus)).diagnostics).toEqual([expect.objectContaining({ code: 'E_BAD_LOCALE', severity: 'error', message: expect.stringContaining(`'${bogus}'`) })]);
    }
  });
});

describe('date-only values in datetime fields', () => {
  it('stay the calendar date written, whatever the zone (no shift to the previous day)', () => {
    for (const tz of ['Europe/Berlin', 'Asia/Tokyo', 'America/New_York']) {
      const p = createDateParser({ kind: 'datetime', formats: ['dd.MM.yyyy HH:mm', 'dd.MM.yyyy'], tz });
      expect(p.parse('07.10.2026'), tz).toBe('2026-10-07T00:00:00.000Z');
      const iso = createDateParser({ kind: 'datetime', formats: ['iso'], tz });
      expect(iso.parse('2026-10-07'), tz).toBe('2026-10-07T00:00:00.000Z');
      const named = createDateParser({ kind: 'datetime', formats: ['d MMMM yyyy'], tz, locale: 'de-DE' });
      expect(named.parse('7 Oktober 2026'), tz).toBe('2026-10-07T00:00:00.000Z');
    }
    // A value with a time is still an instant in its zone.
    expect(createDateParser({ kind: 'datetime', formats: ['dd.MM.yyyy HH:mm', 'dd.MM.yyyy'], tz: 'Europe/Berlin' }).parse('07.10.2026 06:15')).toBe('2026-10-07T04:15:00.000Z');
  });
});

describe('non-detects without limits', () => {
  const result = (raw: string, extra: Partial<TestResultRow> = {}): TestResultRow =>
    ({ id: 1, lotId: 1, testCode: 'IMP_A', resultRaw: raw, resultStatus: 'final', ...extra }) as TestResultRow;

  it('<LOQ, <LOD, BLOQ and ND all conform when the test has no limits', () => {
    for (const raw of ['ND', 'n.d.', '<LOQ', '< LOQ', '<LOD', 'BLOQ']) expect(evaluateResult(result(raw)), raw).toBe('pass');
    expect(evaluateResult(result('<LOQ', { qualifier: '<LOQ' }))).toBe('pass');
    expect(evaluateResult(result('ND', { qualifier: 'ND' }))).toBe(evaluateResult(result('<LOQ', { qualifier: '<LOQ' })));
  });

  it('and fail alike when the spec text asks for something else', () => {
    expect(evaluateResult(result('ND', { specText: 'Positive' }))).toBe('fail');
    expect(evaluateResult(result('<LOQ', { specText: 'Positive' }))).toBe('fail');
    expect(evaluateResult(result('<LOQ', { specText: 'Not detected' }))).toBe('pass');
  });
});
