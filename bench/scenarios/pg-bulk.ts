// Scenario 9 — the PostgreSQL bulk fact path (issue 13). Scenario 1's LIMS export (1M rows;
// 100k quick) into a PostgreSQL database created for the run (25k seeded lots), through the facts
// area's `applyTestResults` (COPY into a staging table + one INSERT … ON CONFLICT merge per
// batch), against `psql`'s `\copy` of the same file into a plain table of 12 TEXT columns. Both
// run as child processes, alternately, each after a CHECKPOINT. Store bulk path only: parse +
// apply on PostgreSQL; the whole `lotgate ingest` on PostgreSQL is scenario 10 (pg-ingest.ts).

import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { side } from '../lib/context.js';
import { generateMasterData } from '../gen/erp.js';
import { BENCH_DIST, REPO_ROOT } from '../lib/paths.js';
import { describeFailure, runMeasured, type RunResult } from '../lib/proc.js';
import { createBenchDb, dropBenchDb, psql, psqlCopyReference, REF_TABLE_DDL, PG_ADMIN_URL } from '../lib/postgres.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { openDb } from '../../pipeline/store/open-db.js';
import { asyncStore } from '../../pipeline/store/areas/index.js';
import { ingestRows } from './bulk-ingest.js';
import { ingestDir, limsFile, SEED_LOTS, type IngestFixture } from './ingest-fixture.js';

export const PG_TARGET_RATIO = 2.5;
const BATCH = 50_000;
const SCOPE_NOTE = 'store bulk path only: parse + apply on PostgreSQL; the whole `lotgate ingest` on PostgreSQL is scenario 10';

interface Sample {
  s: number;
  rss: number | null;
  cpu: number | null;
  /** CPU seconds of the server backend that did the work, null when /proc could not tell. */
  server: number | null;
}

interface ChildReport {
  rows: number;
  counts: Record<string, number>;
  backendCpuSeconds: number | null;
  applySeconds: number;
  waitedForApplySeconds: number;
  seconds: number;
}

/** 40 materials with the async store, 25k lots in one INSERT … SELECT FROM unnest(…) through it. */
export async function seed(url: string, md: IngestFixture['md']): Promise<void> {
  const db = await openDb(url); // migrates the new database
  try {
    const store = asyncStore(db);
    await store.transaction(async (tx) => {
      for (const m of md.materials) {
        await tx.masterdata.upsertMaterial({ materialId: m.materialId, description: m.description, productFamily: m.family, uom: 'EA' }, { submissionId: null, partner: 'erp' });
      }
      const now = tx.db.now();
      const col = <T>(f: (l: (typeof md.lots)[number]) => T): T[] => md.lots.map(f);
      await tx.db.run(
        `INSERT INTO lots (material_id, lot_number, quantity, uom, vendor, po_number, po_item, created_at, updated_at, partner)
         SELECT m, n, q, 'EA', v, p, i, ?, ?, 'erp'
         FROM unnest(?::text[], ?::text[], ?::float8[], ?::text[], ?::text[], ?::text[]) AS t(m, n, q, v, p, i)`,
        [now, now, col((l) => l.material.materialId), col((l) => l.lotNumber), col((l) => l.quantity), col((l) => l.vendor), col((l) => l.poNumber), col((l) => l.poItem)],
      );
    });
    const n = Number((await db.get<{ n: number }>('SELECT count(*) AS n FROM lots'))!.n);
    if (n !== md.lots.length) throw new Error(`seeding: ${n} lots in PostgreSQL, expected ${md.lots.length}`);
    // The plain table of the reference: the CSV's 12 columns as TEXT, no keys, no indexes.
    await db.exec(`${REF_TABLE_DDL}; ANALYZE`);
  } finally {
    await db.close();
  }
}

/** The lotgate side: bench/pg-bulk-apply.ts in a child, measured; checks test_results afterwards. */
async function lotgateRun(ctx: BenchContext, url: string, file: string, rows: number): Promise<{ r: RunResult; rep: ChildReport }> {
  await psql(url, 'TRUNCATE test_results');
  await psql(url, 'CHECKPOINT');
  const r = await runMeasured(process.execPath, [...nodeFlags(ctx, 'scenario-9'), path.join(BENCH_DIST, 'pg-bulk-apply.js'), url, file, '--batch', String(BATCH)], { cwd: REPO_ROOT });
  if (r.code !== 0) throw describeFailure('pg-bulk-apply', r);
  const rep = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildReport;
  const count = Number((await psql(url, 'SELECT count(*) FROM test_results')).trim());
  if (count !== rows || rep.rows !== rows) throw new Error(`applyTestResults: test_results holds ${count} rows after applying ${rep.rows}; the file has ${rows}`);
  return { r, rep };
}

export async function pgBulk(ctx: BenchContext): Promise<ScenarioResult> {
  const rows = ingestRows(ctx);
  // Scenario 1's lots and LIMS file (the same seed gives the same bytes); its SQLite store is not needed.
  const shared = ctx.shared.get('ingest-fixture') as IngestFixture | undefined;
  const fx = { dir: ingestDir(ctx), md: shared?.md ?? generateMasterData(ctx.seed, SEED_LOTS) };
  mkdirSync(path.join(fx.dir, 'input'), { recursive: true });
  const { file, bytes } = await limsFile(ctx, fx, rows);
  const mb = bytes / 1e6;

  const db = await createBenchDb();
  ctx.log(`  database ${db.name} on ${new URL(PG_ADMIN_URL).host}; seeding ${SEED_LOTS.toLocaleString('en-US')} lots and ${fx.md.materials.length} materials through the async store`);
  const lg: Sample[] = [];
  const ref: Sample[] = [];
  const reports: ChildReport[] = [];
  const load: string[] = [];
  let version = '';
  try {
    await seed(db.url, fx.md);
    version = (await psql(db.url, 'SHOW server_version')).trim();
    for (let i = 0; i < ctx.runs; i++) {
      load.push(loadAverage());
      const { r, rep } = await lotgateRun(ctx, db.url, file, rows);
      lg.push({ s: r.seconds, rss: r.peakRssMb, cpu: r.cpuSeconds, server: rep.backendCpuSeconds });
      reports.push(rep);
      const q = await psqlCopyReference(db.url, file, rows);
      ref.push({ s: q.r.seconds, rss: q.r.peakRssMb, cpu: q.r.cpuSeconds, server: q.server });
      ctx.log(
        `  run ${i + 1}/${ctx.runs} (load ${load[i]}): lotgate ${r.seconds.toFixed(2)} s, CPU ${cpu(r.cpuSeconds)} + server ${cpu(rep.backendCpuSeconds)} (peak RSS ${r.peakRssMb?.toFixed(0)} MB; ` +
          `in applyTestResults ${rep.applySeconds.toFixed(2)} s, parsing waited ${rep.waitedForApplySeconds.toFixed(2)} s), ` +
          `psql \\copy ${q.r.seconds.toFixed(2)} s, CPU ${cpu(q.r.cpuSeconds)} + server ${cpu(q.server)}`,
      );
    }
  } finally {
    await dropBenchDb(db.name).catch((e) => ctx.log(`  could not drop ${db.name}: ${(e as Error).message}`));
  }
  const profiles = reportProfiles(ctx, 'scenario-9');

  const perSec = (m: number) => ({ value: rows / m, unit: 'rows/s' });
  const l = side(lg.map((x) => x.s), lg.map((x) => x.rss), perSec);
  const rf = side(ref.map((x) => x.s), ref.map((x) => x.rss), perSec);
  const ratio = l.medianSeconds / rf.medianSeconds;
  const m = {
    lgCpu: medianOf(lg.map((x) => x.cpu)),
    refCpu: medianOf(ref.map((x) => x.cpu)),
    lgServer: medianOf(lg.map((x) => x.server)),
    refServer: medianOf(ref.map((x) => x.server)),
  };
  const both = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
  const lgTotal = medianOf(lg.map((x) => both(x.cpu, x.server)));
  const refTotal = medianOf(ref.map((x) => both(x.cpu, x.server)));
  const cpuRatio = lgTotal !== null && refTotal !== null ? lgTotal / refTotal : null;
  const x = (a: number | null, b: number | null) => (a === null || b === null ? 'n/a' : `${(a / b).toFixed(2)}×`);
  return {
    id: 9,
    name: 'PostgreSQL bulk fact path',
    workload: `${rows.toLocaleString('en-US')} rows, ${mb.toFixed(1)} MB LIMS CSV, 25k lots, PostgreSQL ${version}, ${BATCH.toLocaleString('en-US')}-row transactions`,
    lotgate: l,
    reference: { ...rf, name: 'psql \\copy into a plain 12-column TEXT table' },
    ratio,
    target: `lotgate ≤ ${PG_TARGET_RATIO.toFixed(1)}× psql \\copy (issue 13)`,
    met: ratio <= PG_TARGET_RATIO,
    outcome:
      `${ratio.toFixed(2)}× wall (${l.medianSeconds.toFixed(2)} s vs ${rf.medianSeconds.toFixed(2)} s), ` +
      `${cpuRatio === null ? 'CPU n/a' : `${cpuRatio.toFixed(2)}× CPU client + server`} — ${SCOPE_NOTE}`,
    notes: [
      SCOPE_NOTE + '.',
      'lotgate side: bench/pg-bulk-apply.ts — lotgate\'s CSV reader (csv-parse), the lims-results conversions by hand with lotgate\'s value parsers, ' +
        `identifier resolution is a Map lookup by lot number here (not lotgate's resolver), facts.applyTestResults in ${BATCH.toLocaleString('en-US')}-row transactions on one connection, the next batch parsed while the server applies one.`,
      `CPU seconds (median) — child: lotgate ${cpu(m.lgCpu)}, psql ${cpu(m.refCpu)} (${x(m.lgCpu, m.refCpu)}); server backend: lotgate ${cpu(m.lgServer)}, psql ${cpu(m.refServer)} (${x(m.lgServer, m.refServer)}); ` +
        `client + server: ${cpu(lgTotal)} vs ${cpu(refTotal)} (${cpuRatio === null ? 'n/a' : `${cpuRatio.toFixed(2)}×`}).`,
      `peak RSS: lotgate ${l.peakRssMb?.toFixed(0) ?? 'n/a'} MB, psql ${rf.peakRssMb?.toFixed(0) ?? 'n/a'} MB.`,
      `load average (1/5/15 min) before each run: ${load.join('; ')} on ${ctx.runs} run(s).`,
    ],
    details: { rows, bytes, batch: BATCH, postgres: version, lotgate: lg, reference: ref, reports, load, cpuRatio, lotgateCpuTotal: lgTotal, referenceCpuTotal: refTotal, profiles },
  };
}

const cpu = (s: number | null): string => (s === null ? 'n/a' : `${s.toFixed(2)} s`);

/** The 1, 5 and 15 minute load averages: the machine is shared, and they say how much. */
const loadAverage = (): string => loadavg().map((v) => v.toFixed(2)).join(' ');

function medianOf(xs: (number | null)[]): number | null {
  const v = xs.filter((y): y is number => y !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
