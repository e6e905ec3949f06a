import { describe, expect, it } from 'vitest';
import { checkDateFormat, createDateParser, formatHasOffset, isValidZone, tokenizeFormat } from '../../pipeline/mapping/date-format.js';
import { ConvError, createNumberParser, parseBoolean, parseResult, splitList } from '../../pipeline/mapping/values.js';

describe('numbers with declared separators', () => {
  it('parses the declared notation strictly', () => {
    const de = createNumberParser(',', '.');
    expect([de('1.234,5'), de('239.850'), de('-0,05'), de(',5'), de('12'), de('1,5e-3')]).toEqual([1234.5, 239850, -0.05, 0.5, 12, 0.0015]);
    for (const junk of ['1.5', '1,2,3', '12a', '', '1.23,4', 'NaN', 'Infinity', '0x10', ' ']) expect(de(junk), junk).toBeNaN();
    const us = createNumberParser('.', ',');
    expect([us('240,000.000'), us('1,234'), us('\u22125')]).toEqual([240000, 1234, -5]);
    expect(us('1,23')).toBeNaN();
    const plain = createNumberParser();
    expect([plain('99.6'), plain('1e3'), plain('+4')]).toEqual([99.6, 1000, 4]);
    expect(plain('1,5')).toBeNaN();
  });
});

describe('lab results', () => {
  const num = createNumberParser('.', '');
  const r = (s: string) => parseResult(s, num, 'a number');
  it('splits qualifiers and values, recognises ND and <LOQ spellings, keeps text results', () => {
    expect(r('<0.05')).toEqual({ resultRaw: '<0.05', resultValue: 0.05, qualifier: '<' });
    expect(r(' > 100 ')).toEqual({ resultRaw: '> 100', resultValue: 100, qualifier: '>' });
    expect(r('≤0.1')).toEqual({ resultRaw: '≤0.1', resultValue: 0.1, qualifier: '<=' });
    expect(r('ND')).toEqual({ resultRaw: 'ND', qualifier: 'ND' });
    expect(r('Not Detected')).toEqual({ resultRaw: 'Not Detected', qualifier: 'ND' });
    expect(r('<LOD')).toEqual({ resultRaw: '<LOD', qualifier: 'ND' });
    expect(r('<LOQ')).toEqual({ resultRaw: '<LOQ', qualifier: '<LOQ' });
    expect(r('< loq')).toEqual({ resultRaw: '< loq', qualifier: '<LOQ' });
    expect(r('99.8')).toEqual({ resultRaw: '99.8', resultValue: 99.8 });
    expect(r('Conforms')).toEqual({ resultRaw: 'Conforms' });
  });
  it('rejects number-like junk instead of keeping it as text', () => {
    for (const junk of ['99,8', '1.2.3', '<abc', '>=']) {
      const out = r(junk);
      expect(out, junk).toBeInstanceOf(ConvError);
      expect((out as ConvError).code).toBe('E_BAD_NUMBER');
    }
  });
  it('honours a decimal comma', () => {
    expect(parseResult('99,8', createNumberParser(',', ''), 'x')).toEqual({ resultRaw: '99,8', resultValue: 99.8 });
  });
});

describe('booleans and lists', () => {
  it('booleans in English and German', () => {
    expect(['yes', 'No', 'TRUE', 'false', '1', '0', 'Y', 'n', 'ja', 'Nein'].map(parseBoolean)).toEqual([true, false, true, false, true, false, true, false, true, false]);
    expect(parseBoolean('maybe')).toBeUndefined();
  });
  it('lists drop empty parts and trim', () => {
    expect(splitList(' A, B ,,C ', ',')).toEqual(['A', 'B', 'C']);
  });
});

describe('date formats', () => {
  it('tokenizes like Luxon, with quoted literals', () => {
    expect(tokenizeFormat("yyyy-MM-dd'T'HH:mm")).toEqual([
      { literal: false, val: 'yyyy' }, { literal: true, val: '-' }, { literal: false, val: 'MM' }, { literal: true, val: '-' },
      { literal: false, val: 'dd' }, { literal: true, val: 'T' }, { literal: false, val: 'HH' }, { literal: true, val: ':' }, { literal: false, val: 'mm' },
    ]);
  });
  it('flags moment-style and unknown tokens, warns about 12-hour clocks without AM/PM and mm for months', () => {
    expect(checkDateFormat('dd.MM.yyyy HH:mm')).toEqual({ errors: [], warnings: [] });
    expect(checkDateFormat('DD.MM.YYYY').errors).toHaveLength(2);
    expect(checkDateFormat('yyyy-MM-ddTHH:mm').errors[0]).toContain("single quotes (e.g. 'T')");
    expect(checkDateFormat('dd.MM.yyyy Uhr').errors[0]).toContain('unknown token "Uhr"');
    expect(checkDateFormat('dd.MM.yyyy hh:mm').warnings[0]).toContain('"a"');
    expect(checkDateFormat('dd.mm.yyyy').warnings[0]).toContain('"MM"');
    expect(checkDateFormat('iso')).toEqual({ errors: [], warnings: [] });
    expect(formatHasOffset("yyyy-MM-dd'T'HH:mm:ssZZ")).toBe(true);
    expect(formatHasOffset('dd.MM.yyyy HH:mm')).toBe(false);
  });
  it('validates zones', () => {
    expect(isValidZone('Europe/Berlin')).toBe(true);
    expect(isValidZone('UTC')).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
  });
  it('the fast path and the Luxon path agree', () => {
    // "MMM" forces the Luxon path for the same calendar values.
    const fast = createDateParser({ kind: 'datetime', formats: ['dd.MM.yyyy HH:mm'], tz: 'Europe/Berlin' });
    const luxon = createDateParser({ kind: 'datetime', formats: ['dd MMM yyyy HH:mm'], tz: 'Europe/Berlin' });
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    for (let m = 1; m <= 12; m++) {
      for (const day of [1, 15, 28]) {
        for (const time of ['00:00', '03:30', '12:00', '23:59']) {
          const a = fast.parse(`${String(day).padStart(2, '0')}.${String(m).padStart(2, '0')}.2026 ${time}`);
          const b = luxon.parse(`${String(day).padStart(2, '0')} ${months[m - 1]} 2026 ${time}`);
          expect(a, `${day}.${m} ${time}`).toBe(b);
        }
      }
    }
  });
  it('handles offsets in the value, ISO, dates, and several patterns in order', () => {
    const off = createDateParser({ kind: 'datetime', formats: ["yyyy-MM-dd'T'HH:mm:ssZZ"], tz: 'Europe/Berlin' });
    expect(off.parse('2026-01-15T08:30:00-05:00')).toBe('2026-01-15T13:30:00.000Z');
    const iso = createDateParser({ kind: 'datetime', formats: ['iso'], tz: 'America/New_York' });
    expect(iso.parse('2026-07-01T12:00:00')).toBe('2026-07-01T16:00:00.000Z');
    expect(iso.parse('2026-07-01T12:00:00Z')).toBe('2026-07-01T12:00:00.000Z');
    const date = createDateParser({ kind: 'date', formats: ['yyyyMMdd', 'dd.MM.yyyy'] });
    expect([date.parse('20290930'), date.parse('29.02.2028')]).toEqual(['2029-09-30', '2028-02-29']);
    expect(date.parse('29.02.2027')).toBeInstanceOf(ConvError);
    const us = createDateParser({ kind: 'datetime', formats: ['M/d/yy h:mm a'], tz: 'UTC' });
    expect(us.parse('12/31/99 11:59 pm')).toBe('1999-12-31T23:59:00.000Z');
    const bad = us.parse('31/12/99 11:59 PM');
    expect(bad).toBeInstanceOf(ConvError);
    expect((bad as ConvError).message).toContain('month 31 does not exist');
    const none = us.parse('yesterday');
    expect((none as ConvError).message).toBe('expected a date/time as "M/d/yy h:mm a" (e.g. "12/31/24 1:45 PM"); got "yesterday"');
  });
  it('ambiguous fall-back times resolve, spring-forward gaps are rejected', () => {
    const p = createDateParser({ kind: 'datetime', formats: ['yyyy-MM-dd HH:mm'], tz: 'America/New_York' });
    expect(p.parse('2026-03-08 02:30')).toBeInstanceOf(ConvError);
    expect(p.parse('2026-03-08 03:30')).toBe('2026-03-08T07:30:00.000Z');
    expect(p.parse('2026-11-01 01:30')).toMatch(/^2026-11-01T0[56]:30:00\.000Z$/);
  });
});
