// Generated LIMS exports in Bravo Analytical's format (mappings/bravo-lab/lims-results.yaml):
// one row per test result, 12 columns, ~100 bytes a row. Results are text as real LIMS send
// them: numbers, "<0.05", "ND", "<LOQ", "Conforms"; most final, some preliminary or retracted.

import { Rng } from '../lib/rng.js';
import { LineWriter } from '../lib/line-writer.js';
import { usDateTime, workingTime } from './dates.js';
import type { GenLot } from './erp.js';

export const LIMS_HEADER = 'Sample ID,Lot Number,Test Code,Test Name,Method,Result,Units,Spec Low,Spec High,Status,Analyst,Tested On';

interface TestDef {
  code: string;
  name: string;
  method: string;
  unit: string;
  low: string;
  high: string;
  result: (r: Rng) => string;
}

const q = (s: string) => (s.includes(',') ? `"${s}"` : s);

export const TESTS: Record<string, TestDef> = {
  assay: { code: 'ASSAY-HPLC', name: 'Assay (HPLC)', method: 'BL-M-0112', unit: '%', low: '95.0', high: '105.0', result: (r) => r.real(96.5, 103.5).toFixed(1) },
  disso: { code: 'DISS-Q30', name: 'Dissolution (Q at 30 min)', method: q('USP <711>, Apparatus 2'), unit: '%', low: '80', high: '', result: (r) => String(r.int(82, 99)) },
  water: { code: 'KF-H2O', name: 'Water (Karl Fischer)', method: 'USP <921> Method Ia', unit: '%', low: '', high: '3.0', result: (r) => r.real(0.6, 2.7).toFixed(1) },
  imp: { code: 'IMP-TOT', name: 'Total impurities (HPLC)', method: 'BL-M-0113', unit: '%', low: '', high: '0.5', result: (r) => (r.chance(0.15) ? '<0.05' : r.real(0.05, 0.42).toFixed(2)) },
  impA: { code: 'IMP-A', name: 'Impurity A (HPLC)', method: 'BL-M-0113', unit: '%', low: '', high: '0.15', result: (r) => (r.chance(0.4) ? 'ND' : r.chance(0.3) ? '<LOQ' : r.real(0.02, 0.12).toFixed(2)) },
  ident: { code: 'ID-IR', name: 'Identification (IR)', method: 'USP <197K>', unit: '', low: '', high: '', result: () => 'Conforms' },
  cu: { code: 'CU-AV', name: 'Content uniformity (AV)', method: 'USP <905>', unit: '', low: '', high: '15.0', result: (r) => r.real(1.5, 9.5).toFixed(1) },
  hard: { code: 'HARD', name: 'Hardness', method: 'BL-M-0201', unit: 'N', low: '80', high: '140', result: (r) => String(r.int(90, 130)) },
  friab: { code: 'FRIAB', name: 'Friability', method: 'USP <1216>', unit: '%', low: '', high: '1.0', result: (r) => r.real(0.1, 0.6).toFixed(2) },
  tamc: { code: 'TAMC', name: 'Total aerobic microbial count', method: 'USP <61>', unit: 'cfu/g', low: '', high: '1000', result: (r) => (r.chance(0.7) ? '<10' : String(r.int(10, 90))) },
  endo: { code: 'ENDO-LAL', name: 'Bacterial endotoxins (LAL)', method: 'USP <85>', unit: 'EU/mL', low: '', high: '0.5', result: (r) => (r.chance(0.5) ? '<0.05' : r.real(0.05, 0.3).toFixed(2)) },
  steril: { code: 'STERIL', name: 'Sterility', method: 'USP <71>', unit: '', low: '', high: '', result: () => 'Complies' },
};

/** The ten tests of a full oral-solid release panel, one sample each. */
const PANEL = [TESTS.assay, TESTS.disso, TESTS.water, TESTS.imp, TESTS.impA, TESTS.ident, TESTS.cu, TESTS.hard, TESTS.friab, TESTS.tamc];

const ANALYSTS = ['J. Ramirez', 'K. Osei', 'M. Chen', 'A. Novak', 'S. Patel', 'L. Brennan', 'T. Nguyen', 'R. Alvarez'];

function status(r: Rng): string {
  const x = r.next();
  return x < 0.93 ? 'Final' : x < 0.98 ? 'Prelim' : 'Retracted';
}

export function limsRow(r: Rng, sampleId: string, lotNumber: string, t: TestDef, testedDay: number, resultStatus?: string): string {
  const when = workingTime(testedDay, r.int(0, 659));
  return `${sampleId},${lotNumber},${t.code},${t.name},${t.method},${t.result(r)},${t.unit},${t.low},${t.high},${resultStatus ?? status(r)},${r.pick(ANALYSTS)},${usDateTime(when)}`;
}

/**
 * Writes a LIMS export of exactly `rows` data rows: samples of ten tests each, every sample
 * logged against a random known lot. Sample ids are `<samplePrefix><n>`: give every file of a
 * run its own prefix, so no two files claim the same sample for different lots.
 * Returns the file size in bytes.
 */
export async function writeLimsFile(file: string, rows: number, lots: readonly GenLot[], seed: number, samplePrefix = 'S26-'): Promise<number> {
  const r = new Rng(seed);
  const w = new LineWriter(file);
  await w.line(LIMS_HEADER);
  let written = 0;
  let sample = 0;
  while (written < rows) {
    sample++;
    const lot = lots[r.int(0, lots.length - 1)];
    const sampleId = `${samplePrefix}${String(sample).padStart(7, '0')}`;
    const day = r.int(-60, -1);
    for (const t of PANEL) {
      if (written >= rows) break;
      const p = w.line(limsRow(r, sampleId, lot.lotNumber, t, day));
      written++;
      if (p) await p;
    }
  }
  return w.close();
}
