// How long does a small file of one partner wait behind a big file of another?
//
//   npm run build && node dist/bench/small-behind-big.js [--rows 1000000] [--small 5]
//
// One worker thread applies a big file (partner lab-a); a second thread applies small files of
// another partner (lab-b) one after the other, one every 100 ms, for as long as the big one runs. Both threads share
// one SQLite store (one writer at a time), as the queue workers of `lotgate start` do. Printed:
// the big file's time, and the small files' latency (median, worst) while it ran. The worst is
// what a partner waits in the worst case for a tiny file behind a big one.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../pipeline/config/config.js';
import { registerFile } from '../pipeline/intake/register-file.js';
import { createLogger, createLotgate } from '../pipeline/lotgate.js';
import type { LotgateTask, TaskResult, TaskThreadData } from '../pipeline/queue/tasks.js';
import { resolveThreadEntry, ThreadPool } from '../pipeline/queue/thread-pool.js';

const MATERIAL = '000000000010012345';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function world(dir: string): string {
  const configPath = path.join(dir, 'config.yaml');
  writeFileSync(configPath, 'dataDir: ./data\npartnersDir: ./partners\nmappingsDir: ./mappings\nintake: { ackCsv: false }\ningest: { limits: { maxRows: 100000000 } }\n');
  mkdirSync(path.join(dir, 'partners'));
  writeFileSync(path.join(dir, 'partners', 'erp.yaml'), 'id: erp\nname: ERP\nrole: erp\nfeeds: [lots]\n');
  mkdirSync(path.join(dir, 'mappings', 'erp'), { recursive: true });
  writeFileSync(
    path.join(dir, 'mappings', 'erp', 'lots.yaml'),
    'partner: erp\nfeed: lots\nformat: csv\nmatch: ["LOTS_*.csv"]\ndialect: { delimiter: ",", headerRow: 1 }\nrecords:\n  - emit: lot\n    fields:\n      materialId: { from: Material, required: true }\n      lotNumber: { from: Lot, required: true }\n',
  );
  for (const lab of ['lab-a', 'lab-b']) {
    writeFileSync(path.join(dir, 'partners', `${lab}.yaml`), `id: ${lab}\nname: ${lab}\nrole: lab\nfeeds: [results]\n`);
    mkdirSync(path.join(dir, 'mappings', lab), { recursive: true });
    writeFileSync(
      path.join(dir, 'mappings', lab, 'results.yaml'),
      `partner: ${lab}\nfeed: results\nformat: csv\nmatch: ["RESULTS_*.csv"]\ndialect: { delimiter: ",", headerRow: 1 }\nrecords:\n  - emit: test_result\n    fields:\n      lotNumber: { from: Lot, required: true }\n      materialId: { from: Material }\n      sampleId: { from: Sample, required: true }\n      testCode: { from: Test, required: true }\n      resultValue: { from: Value, type: decimal }\n      resultStatus: { const: final }\n`,
    );
  }
  return configPath;
}

function results(lot: string, rows: number, first: number, test: string): string {
  const out = ['Lot,Material,Sample,Test,Value'];
  for (let i = first; i < first + rows; i++) out.push(`${lot},${MATERIAL},S-${i},${test},${(90 + (i % 20) / 2).toFixed(1)}`);
  return out.join('\n') + '\n';
}

const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];

async function main(): Promise<void> {
  const bigRows = arg('rows', 1_000_000);
  const smallRows = arg('small', 5);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-small-behind-big-'));
  try {
    const config = loadConfig({ configPath: world(dir), env: {} });
    const log = createLogger('warn');
    const lg = await createLotgate(config, { log });
    const reg = async (partner: string, name: string, content: string) => {
      const f = path.join(dir, `${partner}-${name}`);
      writeFileSync(f, content);
      return registerFile(lg, { partner, path: f, name, source: 'cli', removeSource: true });
    };
    const data: TaskThreadData = { config, pool: 'bench', logLevel: 'warn' };
    const pool = new ThreadPool<LotgateTask, TaskResult>({ name: 'bench', size: 2, entry: resolveThreadEntry('task-thread'), workerData: data, log });
    await pool.run({ kind: 'process', submissionId: await reg('erp', 'LOTS_1.csv', `Material,Lot\n${MATERIAL},L1\n`) });
    const big = await reg('lab-a', 'RESULTS_big.csv', results('L1', bigRows, 1, 'ASSAY'));
    const smalls: number[] = [];
    for (let i = 0; i < 1000; i++) smalls.push(await reg('lab-b', `RESULTS_${i}.csv`, results('L1', smallRows, 1 + i * smallRows, 'PH')));

    const t0 = performance.now();
    let bigDone = false;
    const bigRun = pool.run({ kind: 'process', submissionId: big }).then((r) => {
      bigDone = true;
      return r;
    });
    const latencies: number[] = [];
    let i = 0;
    while (!bigDone && i < smalls.length) {
      const s = performance.now();
      const r = (await pool.run({ kind: 'process', submissionId: smalls[i++] })) as { state: string };
      if (r.state !== 'applied') throw new Error(`small file ${i}: ${r.state}`);
      latencies.push(performance.now() - s);
      // A new small file every 100 ms, like uploads trickling in from other partners.
      await new Promise((r) => setTimeout(r, 100));
    }
    const bigRes = (await bigRun) as { state: string };
    const bigMs = performance.now() - t0;
    await pool.close(0);
    await lg.close();
    const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(`big file: ${bigRows.toLocaleString('en-US')} rows, ${bigRes.state}, ${fmt(bigMs)}`);
    console.log(`small files (${smallRows} rows, other partner) applied while it ran: ${latencies.length}; latency median ${fmt(pct(latencies, 0.5))}, worst ${fmt(Math.max(...latencies))}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
