// Issue 12 item 6: what does CSV parsing itself cost, and would another parser pay?
//
//   npm run build && node dist/bench/csv-parsers.js [--rows 200000] [--runs 3]
//
// Parses one generated LIMS export (bench/gen/lims.ts, the scenario-1 shape) in this process
// and prints CPU milliseconds per parser (median of the runs; user + system of this process,
// so run it on a quiet machine or compare the ratios only):
//   - lotgate's reader (pipeline/parse/csv-reader.ts `readCsv`): csv-parse with lotgate's
//     options plus line numbers, the preamble, the record-size limit and coded errors;
//   - csv-parse with lotgate's options only (no line numbers / items);
//   - csv-parse with its defaults (what the cheapest options cost);
//   - fast-csv (@fast-csv/parse), which is in node_modules only as a dependency of exceljs
//     (not a dependency of lotgate);
//   - a split on line ends and commas: not a CSV parser (no quotes), the floor of any JS parser.
// Nothing here decides anything: the figures go to bench/README.md.

import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Parser } from 'csv-parse';
import { csvParseOptionsOf, readCsv } from '../pipeline/parse/csv-reader.js';
import { generateMasterData } from './gen/erp.js';
import { writeLimsFile } from './gen/lims.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function lotgateReader(file: string): Promise<number> {
  let n = 0;
  for await (const item of readCsv(createReadStream(file), { delimiter: ',', quote: '"', headerRow: 1 })) if (item.kind === 'row') n++;
  return n;
}

function csvParse(file: string, options: ConstructorParameters<typeof Parser>[0]): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const p = new Parser(options);
    p.on('data', () => n++);
    p.on('end', () => resolve(n - 1));
    p.on('error', reject);
    createReadStream(file).pipe(p);
  });
}

function fastCsv(file: string): Promise<number> | null {
  let parse: ((o: object) => NodeJS.ReadWriteStream) | undefined;
  try {
    const require = createRequire(import.meta.url);
    parse = (require('@fast-csv/parse') as { parse: (o: object) => NodeJS.ReadWriteStream }).parse;
  } catch {
    return null;
  }
  return new Promise((resolve, reject) => {
    let n = 0;
    const s = parse!({ headers: false, trim: true });
    s.on('data', () => n++);
    s.on('end', () => resolve(n - 1));
    s.on('error', reject);
    createReadStream(file).pipe(s);
  });
}

function split(file: string): number {
  const text = readFileSync(file, 'utf8');
  let n = 0;
  for (const line of text.split('\n')) if (line !== '' && line.split(',').length > 0) n++;
  return n - 1;
}

async function main(): Promise<void> {
  const rows = arg('rows', 200_000);
  const runs = arg('runs', 3);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-csv-parsers-'));
  try {
    const file = path.join(dir, 'lims.csv');
    const bytes = await writeLimsFile(file, rows, generateMasterData(1, 2000).lots, 7);
    const lotgateOptions = csvParseOptionsOf({ delimiter: ',', quote: '"' });
    const parsers: [string, () => Promise<number> | number | null][] = [
      ['lotgate readCsv (csv-parse + lines, limits, codes)', () => lotgateReader(file)],
      ["csv-parse, lotgate's options", () => csvParse(file, lotgateOptions)],
      ['csv-parse, defaults', () => csvParse(file, {})],
      ['fast-csv (not a lotgate dependency)', () => fastCsv(file)],
      ['split on \\n and "," (no quotes: the floor)', () => split(file)],
    ];
    console.log(`${rows.toLocaleString('en-US')} rows, ${(bytes / 1e6).toFixed(1)} MB, median CPU ms of ${runs} runs`);
    for (const [name, run] of parsers) {
      const ms: number[] = [];
      let got: number | null = 0;
      for (let i = 0; i < runs; i++) {
        const t = cpuMs();
        got = await run();
        if (got === null) break;
        ms.push(cpuMs() - t);
      }
      if (got === null) {
        console.log(`  ${name}: not installed`);
        continue;
      }
      ms.sort((a, b) => a - b);
      const med = ms[Math.floor(ms.length / 2)];
      console.log(`  ${name.padEnd(52)} ${med.toFixed(0).padStart(6)} ms  ${((rows / med) * 1000).toFixed(0).padStart(9)} rows/s  (${got} rows)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
