// Scenario 9's CSV row → bulk fact input (bench/lib/lims-rows.ts): one row, one failure, and the
// /proc stat reading. No timings.

import { describe, expect, it } from 'vitest';
import { LIMS_HEADER } from '../../bench/gen/lims.js';
import { limsRowConverter } from '../../bench/lib/lims-rows.js';
import { statCpuSeconds } from '../../bench/lib/postgres.js';

describe('bench: LIMS row → applyTestResults input', () => {
  const convert = limsRowConverter(LIMS_HEADER.split(','), new Map([['NW26-000001', 7]]), { submissionId: 3, partner: 'bravo-lab' });

  it('converts as the lims-results mapping does, the lot from the Map', () => {
    const row = 'S26-0000001,NW26-000001,IMP-TOT,Total impurities (HPLC),BL-M-0113,<0.05,%,,0.5,Prelim,K. Osei,11/18/26 2:05 PM'.split(',');
    expect(convert(row, 2)).toEqual({
      lotId: 7,
      result: {
        sampleId: 'S26-0000001', testCode: 'IMP_TOTAL', testName: 'Total impurities (HPLC)', method: 'BL-M-0113',
        resultRaw: '<0.05', resultValue: 0.05, qualifier: '<', unit: '%', specLow: null, specHigh: 0.5,
        resultStatus: 'preliminary', analyst: 'K. Osei', testedAt: '2026-11-18T19:05:00.000Z',
      },
      prov: { submissionId: 3, partner: 'bravo-lab', line: 2 },
    });
  });

  it('fails on a lot the Map does not know', () => {
    const row = 'S26-0000001,NW26-999999,HARD,Hardness,BL-M-0201,101,N,80,140,Final,M. Chen,11/18/26 2:05 PM'.split(',');
    expect(() => convert(row, 5)).toThrow(/line 5: unknown lot "NW26-999999"/);
  });

  it('reads utime + stime from a /proc/<pid>/stat line', () => {
    expect(statCpuSeconds('4242 (postgres: x) S 1 2 3 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 1 0')).toBe(1.75);
  });
});
