// Scenario 9's measured child: a LIMS CSV into PostgreSQL through the facts area's bulk path.
//   node dist/bench/pg-bulk-apply.js <postgres-url> <file.csv> [--batch 50000] [--sequential]
// Reads the file with lotgate's CSV reader (csv-parse), converts each row (lib/lims-rows.ts: the
// lot by its lot number from a Map loaded once — not lotgate's resolver), and applies batches
// with `applyTestResults`, one transaction each. While the server applies a batch the next one
// is parsed (--sequential: not), on one connection. Prints one JSON line: rows, counts, the
// backend's CPU seconds (from /proc, when the server runs on this machine) and the time split.

import { createReadStream } from 'node:fs';
import { readCsvBatches } from '../pipeline/parse/csv-reader.js';
import { openDb } from '../pipeline/store/open-db.js';
import { asyncStore } from '../pipeline/store/areas/index.js';
import type { TestResultRowInput } from '../pipeline/store/areas/facts.js';
import { limsRowConverter, type LimsRowConverter } from './lib/lims-rows.js';
import { procCpuSeconds } from './lib/postgres.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const [url, file] = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--batch');
  if (!url || !file) throw new Error('usage: pg-bulk-apply <postgres-url> <file.csv> [--batch N] [--sequential]');
  const bi = argv.indexOf('--batch');
  const batchSize = bi >= 0 ? Number.parseInt(argv[bi + 1], 10) : 50_000;
  const sequential = argv.includes('--sequential');

  // One connection: the transactions follow each other, and its backend's CPU is the server's share.
  const db = await openDb(url, { migrate: false, max: 1, applicationName: 'lotgate-bench-pg', statementTimeoutMs: 600_000 });
  const store = asyncStore(db);
  const backendPid = Number((await db.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid);
  const backendCpu0 = procCpuSeconds(backendPid);
  const lots = new Map<string, number>();
  for (const r of await db.all<{ id: number; lot_number: string }>('SELECT id, lot_number FROM lots')) lots.set(r.lot_number, Number(r.id));
  const submissionId = Number(
    (await db.get<{ id: number }>(
      `INSERT INTO submissions (partner, feed, original_name, size, sha256, received_at, source, archive_path, state)
       VALUES ('bravo-lab', 'lims-results', ?, 0, 'bench', ?, 'cli', '-', 'processing') RETURNING id`,
      [file, db.now()],
    ))!.id,
  );

  let convert: LimsRowConverter | null = null;
  let batch: TestResultRowInput[] = [];
  let rows = 0;
  const counts = { created: 0, updated: 0, credited: 0, unchanged: 0 };
  let applyWaitMs = 0;
  let applyMs = 0;
  let inflight: Promise<void> | null = null;
  const apply = async (b: TestResultRowInput[]): Promise<void> => {
    const t = performance.now();
    const r = await store.facts.applyTestResults(b);
    applyMs += performance.now() - t;
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += r.counts[k];
  };
  const flush = async (): Promise<void> => {
    const b = batch;
    batch = [];
    const t = performance.now();
    if (inflight) await inflight;
    applyWaitMs += performance.now() - t;
    inflight = null;
    if (!b.length) return;
    if (sequential) {
      const t2 = performance.now();
      await apply(b);
      applyWaitMs += performance.now() - t2;
    } else {
      inflight = apply(b);
      inflight.catch(() => {}); // awaited (and rethrown) at the next flush
    }
  };

  const started = performance.now();
  const dialect = { delimiter: ',', quote: '"', encoding: 'utf-8', headerRow: 1, decimal: '.' };
  for await (const items of readCsvBatches(createReadStream(file), dialect)) {
    for (const it of items) {
      if (it.kind === 'row') {
        batch.push(convert!(it.values, it.line));
        rows++;
      } else if (it.kind === 'header') {
        convert = limsRowConverter(it.values, lots, { submissionId, mappingHash: 'bench-scenario-9', partner: 'bravo-lab' });
      } else if (it.kind === 'error') {
        throw new Error(`line ${it.line}: ${it.code} ${it.message}`);
      }
    }
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  await flush();
  const totalMs = performance.now() - started;
  const backendCpu1 = procCpuSeconds(backendPid);
  await db.close();
  if (counts.created !== rows) throw new Error(`applyTestResults created ${counts.created} of ${rows} rows (${JSON.stringify(counts)})`);
  const out = {
    rows,
    counts,
    batchSize,
    sequential,
    backendPid,
    backendCpuSeconds: backendCpu0 !== null && backendCpu1 !== null ? backendCpu1 - backendCpu0 : null,
    // Time in applyTestResults (Node + server), and how long parsing waited for it.
    applySeconds: applyMs / 1000,
    waitedForApplySeconds: applyWaitMs / 1000,
    seconds: totalMs / 1000,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`pg-bulk-apply: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
