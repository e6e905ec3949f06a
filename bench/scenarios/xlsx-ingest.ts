// Scenario 8 — Excel workbook ingest (`--only xlsx`). A LIMS export of 200k rows (20k in quick
// mode) saved as an .xlsx workbook (shared strings, numbers as numbers, as Excel writes it) is
// ingested through `lotgate ingest` with the lims-results mapping in `format: xlsx`; the same
// rows as CSV through the same mapping in `format: csv` are the reference, so the ratio is the
// price of the workbook (inflating, XML, the pre-parse ZIP scan) over the CSV path. The target
// is the figure issue 11 measured for exceljs's streaming reader on Node 20: 200k rows in 18 s
// at 289 MB peak RSS.

import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { side } from '../lib/context.js';
import { generateMasterData, writeErpFiles } from '../gen/erp.js';
import { writeLimsFile } from '../gen/lims.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { createWorkspace, repoMapping, type MappingDef } from '../lib/workspace.js';
import { checkApplied, ERP_MAPPINGS, freshDataDir, lotgateIngest, removeDir, STANDARD_PARTNERS, type IngestFixture } from './ingest-fixture.js';

export const TARGET_SECONDS = 18;
export const TARGET_RSS_MB = 289;
const LOTS = 5_000;

export function xlsxRows(ctx: BenchContext): number {
  return ctx.quick ? 20_000 : 200_000;
}

/** The shipped lims-results mapping, reading a workbook (same feed, same fields). */
function xlsxMapping(): MappingDef {
  const m = repoMapping('bravo-lab', 'lims-results');
  const text = m.text
    .replace(/^format: csv$/m, 'format: xlsx')
    .replace(/^match: .*$/m, 'match: ["LIMS_EXPORT_*.xlsx", "LIMS_EXPORT_*.csv"]')
    .replace(/^dialect: .*$/m, 'dialect: { headerRow: 1 }');
  if (!text.includes('format: xlsx')) throw new Error('bench: format not found in mappings/bravo-lab/lims-results.yaml');
  return { ...m, text };
}

function csvMapping(): MappingDef {
  const m = repoMapping('bravo-lab', 'lims-results');
  return { ...m, text: m.text.replace(/^match: .*$/m, 'match: ["LIMS_EXPORT_*.xlsx", "LIMS_EXPORT_*.csv"]') };
}

const NUMERIC = /^-?\d+(\.\d+)?$/;
/** Columns Excel would hold as numbers (the result when it is one, the spec limits). */
const NUMBER_COLUMNS = new Set(['Result', 'Spec Low', 'Spec High']);

/** Converts the CSV into a workbook with exceljs's streaming writer (bounded memory). */
async function csvToXlsx(csv: string, xlsx: string): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: xlsx, useSharedStrings: true, useStyles: false });
  const ws = wb.addWorksheet('Results');
  let header: string[] | undefined;
  for await (const rec of createReadStream(csv).pipe(parse({ relax_column_count: false })) as AsyncIterable<string[]>) {
    if (header === undefined) {
      header = rec;
      ws.addRow(rec).commit();
      continue;
    }
    ws.addRow(rec.map((v, i) => (NUMBER_COLUMNS.has(header![i]) && NUMERIC.test(v) ? Number(v) : v))).commit();
  }
  ws.commit();
  await wb.commit();
}

async function fixture(ctx: BenchContext, mapping: MappingDef, name: string): Promise<IngestFixture> {
  const dir = path.join(ctx.workDir, name);
  const ws = createWorkspace(path.join(dir, 'ws'), { partners: STANDARD_PARTNERS, mappings: [...ERP_MAPPINGS, mapping] });
  const md = generateMasterData(ctx.seed, LOTS);
  const input = path.join(ctx.workDir, 'xlsx-input');
  mkdirSync(input, { recursive: true });
  mkdirSync(path.join(dir, 'erp'), { recursive: true });
  const erpFiles = await writeErpFiles(path.join(dir, 'erp'), md);
  const seeded = path.join(dir, 'seeded-data');
  checkApplied('seeding the ERP master data', await lotgateIngest(ws, seeded, 'erp', erpFiles));
  return { ws, md, seededDataDir: seeded, dir };
}

export async function xlsxIngest(ctx: BenchContext): Promise<ScenarioResult> {
  const rows = xlsxRows(ctx);
  ctx.log(`  seeding ${LOTS.toLocaleString('en-US')} lots twice (a workspace per format)`);
  const fxX = await fixture(ctx, xlsxMapping(), 'xlsx-ws');
  const fxC = await fixture(ctx, csvMapping(), 'csv-ws');
  const input = path.join(ctx.workDir, 'xlsx-input');
  const csv = path.join(input, `LIMS_EXPORT_${rows}_0300.csv`);
  const xlsx = path.join(input, `LIMS_EXPORT_${rows}_0300.xlsx`);
  if (!existsSync(xlsx)) {
    ctx.log(`  generating the ${rows.toLocaleString('en-US')}-row LIMS export as CSV and as .xlsx`);
    await writeLimsFile(csv, rows, fxX.md.lots, ctx.seed + rows);
    await csvToXlsx(csv, xlsx);
  }
  const xBytes = statSync(xlsx).size;
  const cBytes = statSync(csv).size;
  const lg: { s: number; rss: number | null; cpu: number | null }[] = [];
  const ref: { s: number; rss: number | null; cpu: number | null }[] = [];
  for (let i = 0; i < ctx.runs; i++) {
    const d1 = freshDataDir(fxX, 'run-data');
    const r = await lotgateIngest(fxX.ws, d1, 'bravo-lab', [xlsx], nodeFlags(ctx, 'scenario-8'));
    checkApplied(`lotgate ingest of the ${rows}-row workbook`, r, rows);
    lg.push({ s: r.seconds, rss: r.peakRssMb, cpu: r.cpuSeconds });
    removeDir(d1);
    const d2 = freshDataDir(fxC, 'run-data');
    const q = await lotgateIngest(fxC.ws, d2, 'bravo-lab', [csv]);
    checkApplied(`lotgate ingest of the ${rows}-row CSV`, q, rows);
    ref.push({ s: q.seconds, rss: q.peakRssMb, cpu: q.cpuSeconds });
    removeDir(d2);
    ctx.log(`  run ${i + 1}/${ctx.runs}: xlsx ${r.seconds.toFixed(2)} s, CPU ${r.cpuSeconds?.toFixed(2) ?? 'n/a'} s (peak RSS ${r.peakRssMb?.toFixed(0)} MB); csv ${q.seconds.toFixed(2)} s, CPU ${q.cpuSeconds?.toFixed(2) ?? 'n/a'} s (peak RSS ${q.peakRssMb?.toFixed(0)} MB)`);
  }
  const profiles = reportProfiles(ctx, 'scenario-8');
  const perSec = (m: number) => ({ value: rows / m, unit: 'rows/s' });
  const l = side(lg.map((x) => x.s), lg.map((x) => x.rss), perSec);
  const rf = side(ref.map((x) => x.s), ref.map((x) => x.rss), perSec);
  const cpuL = medianOf(lg.map((x) => x.cpu));
  const cpuR = medianOf(ref.map((x) => x.cpu));
  const rss = l.peakRssMb;
  // The target is stated for 200k rows: quick mode reports, it does not judge.
  const met = ctx.quick ? null : l.medianSeconds <= TARGET_SECONDS && rss !== null && rss <= TARGET_RSS_MB;
  return {
    id: 8,
    name: 'xlsx ingest',
    workload: `${rows.toLocaleString('en-US')} rows, ${(xBytes / 1e6).toFixed(1)} MB .xlsx (${(cBytes / 1e6).toFixed(1)} MB as CSV), ${LOTS.toLocaleString('en-US')} known lots`,
    lotgate: l,
    reference: { ...rf, name: 'lotgate ingest of the same rows as CSV' },
    ratio: l.medianSeconds / rf.medianSeconds,
    target: `200k rows ≤ ${TARGET_SECONDS} s and ≤ ${TARGET_RSS_MB} MB peak RSS (exceljs stream, issue 11)`,
    met,
    outcome: `${Math.round(rows / l.medianSeconds).toLocaleString('en-US')} rows/s, ${l.medianSeconds.toFixed(2)} s wall, ${cpuL?.toFixed(2) ?? 'n/a'} CPU-s, peak RSS ${rss?.toFixed(0) ?? 'n/a'} MB`,
    notes: [`CPU seconds (user + sys, median): xlsx ${cpuL?.toFixed(2) ?? 'n/a'}, csv ${cpuR?.toFixed(2) ?? 'n/a'}`],
    details: { rows, xlsxBytes: xBytes, csvBytes: cBytes, lotgateCpuSeconds: cpuL, referenceCpuSeconds: cpuR, profiles },
  };
}

function medianOf(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
