import { describe, expect, it } from 'vitest';
import type { TestResultRow } from '../../pipeline/model/types.js';
import { effectiveLimits, evaluateResult } from '../../pipeline/readiness/evaluate-result.js';

const r = (over: Partial<TestResultRow>): TestResultRow => ({ testCode: 'T', resultStatus: 'final', ...over });

describe('evaluateResult: plain values', () => {
  const spec = { specLow: 95, specHigh: 105 };
  it.each([
    [95, 'pass'],
    [105, 'pass'],
    [99.8, 'pass'],
    [94.99, 'fail'],
    [105.01, 'fail'],
  ] as const)('%s against 95–105 is %s', (v, want) => {
    expect(evaluateResult(r({ resultValue: v }), spec)).toBe(want);
  });

  it('handles one-sided limits', () => {
    expect(evaluateResult(r({ resultValue: 80 }), { specLow: 80 })).toBe('pass');
    expect(evaluateResult(r({ resultValue: 79.9 }), { specLow: 80 })).toBe('fail');
    expect(evaluateResult(r({ resultValue: 3.0 }), { specHigh: 3 })).toBe('pass');
    expect(evaluateResult(r({ resultValue: 3.01 }), { specHigh: 3 })).toBe('fail');
  });

  it("prefers the result's own limits over the spec's, as a pair", () => {
    expect(evaluateResult(r({ resultValue: 92, specLow: 90, specHigh: 110 }), spec)).toBe('pass');
    expect(evaluateResult(r({ resultValue: 106, specLow: 90, specHigh: 110 }), spec)).toBe('pass');
    // Own upper limit only: the spec's lower limit is not mixed in.
    expect(evaluateResult(r({ resultValue: 10, specHigh: 110 }), spec)).toBe('pass');
    expect(effectiveLimits({ specHigh: 110 }, spec)).toEqual({ high: 110, source: 'result' });
    expect(effectiveLimits({}, spec)).toEqual({ low: 95, high: 105, source: 'spec' });
    expect(effectiveLimits({ specLow: null }, {})).toEqual({ source: 'none' });
  });

  it('is unknown for a number with no limits anywhere', () => {
    expect(evaluateResult(r({ resultValue: 42 }))).toBe('unknown');
    expect(evaluateResult(r({ resultValue: 42 }), {})).toBe('unknown');
  });

  it('reads resultRaw when the value was not split out', () => {
    expect(evaluateResult(r({ resultRaw: '99.1' }), spec)).toBe('pass');
    expect(evaluateResult(r({ resultRaw: ' 93.0 % ' }), spec)).toBe('fail');
    expect(evaluateResult(r({ resultRaw: '<0.05' }), { specHigh: 0.5 })).toBe('pass');
    expect(evaluateResult(r({ resultRaw: '≤ 0.6' }), { specHigh: 0.5 })).toBe('fail');
    expect(evaluateResult(r({ resultRaw: '0.2 EU/mL' }), { specHigh: 0.5 })).toBe('pass');
  });
});

describe('evaluateResult: qualified values', () => {
  it('`<x` and `<=x` pass an upper limit when x ≤ specHigh', () => {
    expect(evaluateResult(r({ qualifier: '<', resultValue: 0.5 }), { specHigh: 0.5 })).toBe('pass');
    expect(evaluateResult(r({ qualifier: '<=', resultValue: 0.5 }), { specHigh: 0.5 })).toBe('pass');
    expect(evaluateResult(r({ qualifier: '<', resultValue: 0.6 }), { specHigh: 0.5 })).toBe('fail');
  });

  it('`<x` cannot show a lower limit above 0 was reached; a lower limit of 0 does not bind', () => {
    expect(evaluateResult(r({ qualifier: '<', resultValue: 100 }), { specLow: 95, specHigh: 105 })).toBe('fail');
    expect(evaluateResult(r({ qualifier: '<', resultValue: 0.05 }), { specLow: 0, specHigh: 0.5 })).toBe('pass');
  });

  it('`>x` against a lower limit passes when x ≥ specLow, fails against an upper limit', () => {
    expect(evaluateResult(r({ qualifier: '>', resultValue: 80 }), { specLow: 80 })).toBe('pass');
    expect(evaluateResult(r({ qualifier: '>=', resultValue: 85 }), { specLow: 80 })).toBe('pass');
    expect(evaluateResult(r({ qualifier: '>', resultValue: 79 }), { specLow: 80 })).toBe('fail');
    expect(evaluateResult(r({ qualifier: '>', resultValue: 90 }), { specLow: 80, specHigh: 120 })).toBe('fail');
  });

  it('ND and <LOQ pass an upper-limit-only spec and fail a lower limit', () => {
    for (const qualifier of ['ND', '<LOQ'] as const) {
      expect(evaluateResult(r({ qualifier, resultRaw: qualifier }), { specHigh: 0.5 })).toBe('pass');
      expect(evaluateResult(r({ qualifier, resultRaw: qualifier }), { specLow: 80 })).toBe('fail');
      expect(evaluateResult(r({ qualifier, resultRaw: qualifier }), { specLow: 95, specHigh: 105 })).toBe('fail');
    }
    expect(evaluateResult(r({ resultRaw: 'n.d.' }), { specHigh: 0.1 })).toBe('pass');
    expect(evaluateResult(r({ resultRaw: '<LOQ' }), { specHigh: 0.1 })).toBe('pass');
  });

  it('a reported LOQ above the limit cannot show conformity', () => {
    expect(evaluateResult(r({ qualifier: '<LOQ', resultValue: 0.2 }), { specHigh: 0.1 })).toBe('fail');
    expect(evaluateResult(r({ qualifier: '<LOQ', resultValue: 0.05 }), { specHigh: 0.1 })).toBe('pass');
  });
});

describe('evaluateResult: text results', () => {
  it.each(['Pass', 'conforms', 'COMPLIES', 'Negative', 'sterile', 'Conforms.'])('%s with no limits passes', (raw) => {
    expect(evaluateResult(r({ resultRaw: raw }))).toBe('pass');
  });

  it.each(['Fail', 'Does not comply', 'Not sterile', 'Positive', 'see attached', 'growth observed'])('%s with no limits fails', (raw) => {
    expect(evaluateResult(r({ resultRaw: raw }))).toBe('fail');
  });

  it('compares with specText', () => {
    expect(evaluateResult(r({ resultRaw: 'Positive', specText: 'Positive' }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'White powder', specText: 'white  powder' }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'Negative', specText: 'Positive' }))).toBe('fail');
    expect(evaluateResult(r({ resultRaw: 'Absent', specText: 'Absent in 10 g' }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'Absent', specText: 'Present' }))).toBe('fail');
    expect(evaluateResult(r({ resultRaw: 'Negative', specText: 'Negatively charged' }))).toBe('fail');
    expect(evaluateResult(r({ resultRaw: 'Absent', specText: 'Negative' }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'Conforms', specText: 'White to off-white powder' }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'Fails', specText: 'Fails' }))).toBe('fail');
  });

  it('an ND with no limits is judged as text', () => {
    expect(evaluateResult(r({ qualifier: 'ND', resultRaw: 'ND' }))).toBe('pass');
    expect(evaluateResult(r({ qualifier: 'ND', resultRaw: 'ND', specText: 'Positive' }))).toBe('fail');
  });

  it('is unknown for an empty result', () => {
    expect(evaluateResult(r({ resultRaw: '  ' }), { specHigh: 1 })).toBe('unknown');
    expect(evaluateResult(r({}))).toBe('unknown');
  });
});

describe('evaluateResult: lab qualifiers and spec text as mapped from real lab files', () => {
  it('ND with its detection limit, <LOQ and BLQ against an upper limit', () => {
    expect(evaluateResult(r({ qualifier: 'ND', resultRaw: 'ND (<0,01)', resultValue: 0.01, specHigh: 0.5, specText: 'NMT 0.5 %' }))).toBe('pass');
    expect(evaluateResult(r({ qualifier: 'ND', resultRaw: 'ND (<0,8)', resultValue: 0.8, specHigh: 0.5 }))).toBe('fail');
    expect(evaluateResult(r({ qualifier: '<LOQ', resultRaw: 'BLQ', specHigh: 20 }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'BLQ' }), { specHigh: 20 })).toBe('pass');
    expect(evaluateResult(r({ qualifier: 'ND', resultRaw: 'n.d.', specLow: 98 }))).toBe('fail');
  });
  it('> 100 against a high limit fails, against a low limit passes', () => {
    expect(evaluateResult(r({ qualifier: '>', resultValue: 100, resultRaw: '> 100', specHigh: 120 }))).toBe('fail');
    expect(evaluateResult(r({ qualifier: '>', resultValue: 100, resultRaw: '> 100', specLow: 80 }))).toBe('pass');
  });
  it('a report-only spec passes any reported result that does not itself state a failure', () => {
    expect(evaluateResult(r({ resultValue: 3.2, resultRaw: '3.2', specText: 'Report' }))).toBe('pass');
    expect(evaluateResult(r({ qualifier: 'ND', resultRaw: 'ND', specText: 'Report result' }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'Does not conform', specText: 'Report' }))).toBe('fail');
    expect(evaluateResult(r({ resultRaw: '', specText: 'Report' }))).toBe('unknown');
    expect(evaluateResult(r({ resultValue: 3.2, resultRaw: '3.2' }))).toBe('unknown');
  });
  it('positive / negative / conforms against specText', () => {
    expect(evaluateResult(r({ resultRaw: 'positive', specText: 'Positive' }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'negative', specText: 'Negative' }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'positive', specText: 'Negative' }))).toBe('fail');
    expect(evaluateResult(r({ resultRaw: 'conforms', specText: 'Conforms' }))).toBe('pass');
    expect(evaluateResult(r({ resultRaw: 'does not conform', specText: 'Conforms' }))).toBe('fail');
  });
});
