// The files every run sends, generated once per chaos run from a seed (same bytes in every run):
// two labs' LIMS exports in Bravo's real format, two CMOs' stage-event exports, one file with
// row errors per format, one broken file, one resend of a file already sent (a duplicate),
// and the large LIMS export for the SIGTERM fault. Every file names its own samples and lots
// slice, so no two files write the same fact and facts can be counted per file.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isoMinute, workingTime } from '../../bench/gen/dates.js';
import type { GenLot, MasterData } from '../../bench/gen/erp.js';
import { LIMS_HEADER, limsRow, TESTS, writeLimsFile } from '../../bench/gen/lims.js';
import { LineWriter } from '../../bench/lib/line-writer.js';
import { Rng } from '../../bench/lib/rng.js';
import type { FileKind, SentFile } from '../report.js';

export const LABS = ['lab-a', 'lab-b'] as const;
export const CMOS = ['acme-cmo', 'delta-cmo'] as const;

export interface ChaosFile extends SentFile {
  local: string;
}

export interface FileSet {
  /** The standard set, in upload order (the duplicate last). */
  standard: ChaosFile[];
  /** The large LIMS export (fault 3, and the clean run). */
  large: ChaosFile;
  rows: number;
}

export interface Sizes {
  goodFilesPerLab: number;
  rowsPerLimsFile: number;
  stageFilesPerCmo: number;
  largeRows: number;
}

const PANEL = [TESTS.assay, TESTS.disso, TESTS.water, TESTS.imp, TESTS.impA, TESTS.ident, TESTS.cu, TESTS.hard, TESTS.friab, TESTS.tamc];
const STEPS = ['Compounding', 'Filling', 'Packaging', 'QC Testing', 'QA Review'];

async function put(w: LineWriter, line: string): Promise<void> {
  const p = w.line(line);
  if (p) await p;
}

/** A LIMS export where every 20th row has an unparseable date and every 50th names an unknown lot. */
async function writeLimsWithRowErrors(file: string, rows: number, lots: readonly GenLot[], seed: number, prefix: string): Promise<void> {
  const r = new Rng(seed);
  const w = new LineWriter(file);
  await put(w, LIMS_HEADER);
  for (let i = 0; i < rows; i++) {
    const t = PANEL[i % PANEL.length];
    const sample = `${prefix}${String(Math.floor(i / PANEL.length) + 1).padStart(6, '0')}`;
    const lot = i % 50 === 49 ? 'NW26-999999' : lots[r.int(0, lots.length - 1)].lotNumber;
    let line = limsRow(r, sample, lot, t, r.int(-60, -1), 'Final');
    if (i % 20 === 19) line = line.slice(0, line.lastIndexOf(',') + 1) + '2026-11-03 09:05';
    await put(w, line);
  }
  await w.close();
}

/** A CMO stage export (bench/gen/facts.ts `stages` feed) for `lots`; `unmappedEvery` rows get a step the mapping does not know. */
async function writeStages(file: string, lots: readonly GenLot[], seed: number, unmappedEvery = 0): Promise<number> {
  const r = new Rng(seed);
  const w = new LineWriter(file);
  await put(w, 'Batch,Step,Status,Time,Site');
  let n = 0;
  for (const lot of lots) {
    let day = -40 + r.int(0, 10);
    for (const step of STEPS) {
      for (const status of ['Started', 'Completed']) {
        n++;
        const s = unmappedEvery && n % unmappedEvery === 0 ? 'Rework' : step;
        await put(w, `${lot.vendorBatch},${s},${status},${isoMinute(workingTime(day, r.int(0, 600)))},${lot.vendor === 'acme-cmo' ? 'Loerrach' : 'Durham NC'}`);
        day += r.int(1, 3);
      }
    }
  }
  await w.close();
  return n;
}

export async function writeFileSet(dir: string, md: MasterData, sizes: Sizes, seed: number): Promise<FileSet> {
  mkdirSync(dir, { recursive: true });
  const standard: ChaosFile[] = [];
  const add = (partner: string, name: string, kind: FileKind) => {
    const f = { partner, name, kind, local: path.join(dir, partner, name) };
    mkdirSync(path.dirname(f.local), { recursive: true });
    standard.push(f);
    return f;
  };
  let rows = 0;
  for (const [li, lab] of LABS.entries()) {
    for (let k = 1; k <= sizes.goodFilesPerLab; k++) {
      const f = add(lab, `LIMS_EXPORT_${lab}_${String(k).padStart(4, '0')}.csv`, 'good');
      await writeLimsFile(f.local, sizes.rowsPerLimsFile, md.lots, seed + 100 * li + k, `${lab.toUpperCase()}-${k}-`);
      rows += sizes.rowsPerLimsFile;
    }
  }
  const errRows = Math.max(200, Math.floor(sizes.rowsPerLimsFile / 2));
  await writeLimsWithRowErrors(add('lab-a', 'LIMS_EXPORT_lab-a_errors.csv', 'row-errors').local, errRows, md.lots, seed + 900, 'LAB-A-ERR-');
  rows += errRows;
  for (const [ci, cmo] of CMOS.entries()) {
    const own = md.lots.filter((l) => l.vendor === cmo);
    const per = Math.max(1, Math.floor(own.length / (sizes.stageFilesPerCmo + 1)));
    for (let k = 1; k <= sizes.stageFilesPerCmo; k++) {
      rows += await writeStages(add(cmo, `STAGES_${cmo}_${String(k).padStart(4, '0')}.csv`, 'good').local, own.slice((k - 1) * per, k * per), seed + 1000 + 10 * ci + k);
    }
    if (ci === 0) rows += await writeStages(add(cmo, `STAGES_${cmo}_errors.csv`, 'row-errors').local, own.slice(sizes.stageFilesPerCmo * per), seed + 1100, 7);
  }
  // A broken file: a quote opened on line 3 and never closed (E_CSV_QUOTE, nothing applied).
  const bad = add('lab-b', 'LIMS_EXPORT_lab-b_broken.csv', 'bad');
  writeFileSync(bad.local, `${LIMS_HEADER}\nLAB-B-BAD-1,${md.lots[0].lotNumber},ASSAY-HPLC,Assay (HPLC),BL-M-0112,99.1,%,95.0,105.0,Final,K. Osei,10/2/26 9:15 AM\nLAB-B-BAD-2,${md.lots[1].lotNumber},"ASSAY-HPLC,Assay (HPLC),BL-M-0112,98.7,%,95.0,105.0,Final,K. Osei,10/2/26 9:20 AM\n`);
  rows += 2;
  // The same bytes as lab-a's first file under another name: must be answered `duplicate`.
  const first = standard.find((f) => f.partner === 'lab-a' && f.kind === 'good')!;
  const dup = add('lab-a', first.name.replace(/\.csv$/, '_resend.csv'), 'duplicate');
  copyFileSync(first.local, dup.local);
  rows += sizes.rowsPerLimsFile;

  const large: ChaosFile = { partner: 'lab-b', name: 'LIMS_EXPORT_lab-b_large.csv', kind: 'good', local: path.join(dir, 'lab-b', 'LIMS_EXPORT_lab-b_large.csv') };
  await writeLimsFile(large.local, sizes.largeRows, md.lots, seed + 5000, 'LAB-B-LARGE-');
  return { standard, large, rows };
}
