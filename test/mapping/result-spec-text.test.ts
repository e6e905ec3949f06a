import { describe, expect, it } from 'vitest';
import { buildVocabulary, createResultParser } from '../../pipeline/mapping/result-text.js';
import { createSpecParser } from '../../pipeline/mapping/spec-text.js';
import { ConvError, createNumberParser } from '../../pipeline/mapping/values.js';

const comma = createNumberParser(',', '');
const dot = createNumberParser('.', '');

describe('result text as labs write it', () => {
  const r = createResultParser(comma, 'a comma number', buildVocabulary({ 'nicht nachweisbar': 'ND', '< BG': '<LOQ', entspricht: 'conforms', kleiner: '<', positiv: 'positive' }));
  it('qualifier words, with or without their limit', () => {
    expect(r('ND (<0,01)')).toEqual({ resultRaw: 'ND (<0,01)', resultValue: 0.01, qualifier: 'ND' });
    expect(r('n.d.')).toEqual({ resultRaw: 'n.d.', qualifier: 'ND' });
    expect(r('BLQ')).toEqual({ resultRaw: 'BLQ', qualifier: '<LOQ' });
    expect(r('<LOQ')).toEqual({ resultRaw: '<LOQ', qualifier: '<LOQ' });
    expect(r('<LOQ (0,05)')).toEqual({ resultRaw: '<LOQ (0,05)', resultValue: 0.05, qualifier: '<LOQ' });
    expect(r('> 100')).toEqual({ resultRaw: '> 100', resultValue: 100, qualifier: '>' });
    expect(r('≤ 0,5')).toEqual({ resultRaw: '≤ 0,5', resultValue: 0.5, qualifier: '<=' });
  });
  it('the mapping\'s own words', () => {
    expect(r('Nicht nachweisbar')).toEqual({ resultRaw: 'Nicht nachweisbar', qualifier: 'ND' });
    expect(r('nicht nachweisbar (< 0,02)')).toEqual({ resultRaw: 'nicht nachweisbar (< 0,02)', resultValue: 0.02, qualifier: 'ND' });
    expect(r('<  bg')).toEqual({ resultRaw: '<  bg', qualifier: '<LOQ' });
    expect(r('kleiner 0,05')).toEqual({ resultRaw: 'kleiner 0,05', resultValue: 0.05, qualifier: '<' });
    expect(r('Entspricht')).toEqual({ resultRaw: 'conforms' });
    expect(r('positiv')).toEqual({ resultRaw: 'positive' });
  });
  it('qualitative words stay text, unknown text never becomes a number', () => {
    expect(r('Positive')).toEqual({ resultRaw: 'Positive' });
    expect(r('does not conform')).toEqual({ resultRaw: 'does not conform' });
    expect(r('see report')).toEqual({ resultRaw: 'see report' });
    for (const junk of ['ND (<0.01)', '99.8', '> 1OO', 'kleiner', 'nd (abc)']) {
      const out = r(junk);
      expect(out, junk).toBeInstanceOf(ConvError);
      expect((out as ConvError).code).toBe('E_BAD_NUMBER');
    }
  });
});

describe('specification text', () => {
  const s = createSpecParser(dot, 'a dot number');
  const c = createSpecParser(comma, 'a comma number');
  it('upper, lower and range limits with units', () => {
    expect(s('<= 20')).toEqual({ specText: '<= 20', specHigh: 20 });
    expect(s('≤ 20')).toEqual({ specText: '≤ 20', specHigh: 20 });
    expect(s('NMT 0.5 %')).toEqual({ specText: 'NMT 0.5 %', specHigh: 0.5, unit: '%' });
    expect(s('Not more than 10 ppm')).toEqual({ specText: 'Not more than 10 ppm', specHigh: 10, unit: 'ppm' });
    expect(s('NLT 98.0')).toEqual({ specText: 'NLT 98.0', specLow: 98 });
    expect(s('≥ 80')).toEqual({ specText: '≥ 80', specLow: 80 });
    expect(s('> 0.1')).toEqual({ specText: '> 0.1', specLow: 0.1 });
    expect(s('95.0 - 105.0')).toEqual({ specText: '95.0 - 105.0', specLow: 95, specHigh: 105 });
    expect(s('80–120 %')).toEqual({ specText: '80–120 %', specLow: 80, specHigh: 120, unit: '%' });
    expect(s('90.0 % to 110.0 %')).toEqual({ specText: '90.0 % to 110.0 %', specLow: 90, specHigh: 110, unit: '%' });
    expect(s('≤ 100 CFU/g')).toEqual({ specText: '≤ 100 CFU/g', specHigh: 100, unit: 'CFU/g' });
    expect(c('95,0–105,0')).toEqual({ specText: '95,0–105,0', specLow: 95, specHigh: 105 });
    expect(c('NMT 0,5 %')).toEqual({ specText: 'NMT 0,5 %', specHigh: 0.5, unit: '%' });
  });
  it('text only', () => {
    expect(s('Report')).toEqual({ specText: 'Report' });
    expect(s('Conforms')).toEqual({ specText: 'Conforms' });
    expect(s('White to off-white powder')).toEqual({ specText: 'White to off-white powder' });
  });
  it('text that states a limit but cannot be read is E_BAD_SPEC', () => {
    for (const junk of ['NMT 0,5 %', '95,0 - 105,0', 'NMT', '≤ abc', '105 - 95', '5 % - 10 mg', '20', 'NMT 0.5 % each, NMT 2.0 % total']) {
      const out = s(junk);
      expect(out, junk).toBeInstanceOf(ConvError);
      expect((out as ConvError).code).toBe('E_BAD_SPEC');
    }
  });
});

describe('mapping checks of qualifiers', () => {
  it('a missing marker that is also one of the lab\'s qualifier words is a warning; a wrong target an error', async () => {
    const { load } = await import('./helpers.js');
    const base = (extra: string) =>
      `partner: acme\nfeed: feed\nmatch: ["*.csv"]\nmissing: ["-", "nicht nachweisbar"]\nrecords:\n  - emit: test_result\n    fields:\n      lotNumber: { from: Lot }\n      testCode: { from: Test }\n      result: { from: Result, qualifiers: { "Nicht nachweisbar": ${extra} } }\n`;
    expect(load(base('ND')).diagnostics.map((d) => [d.code, d.line])).toEqual([['W_ND_MISSING', 10]]);
    expect(load(base('nd')).diagnostics.map((d) => d.code)).toContain('E_BAD_VALUE');
  });
});
