// Scenario 10 (`pg-ingest`) — scenario 1 on PostgreSQL (issue 13). The same `lotgate ingest
// --partner bravo-lab` of the same LIMS export (1M rows; 100k quick) into a store that knows the
// same 25k lots, with lotgate pointed at a PostgreSQL database (LOTGATE_DATABASE_URL) created
// for each run from a seeded template and dropped after it, against `psql`'s `\copy` of the same
// file into a plain table of the CSV's 12 columns as TEXT. Both run as child processes,
// alternately, each after a CHECKPOINT; CPU seconds of the client and of the server's backends
// are reported beside wall time.

import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { side } from '../lib/context.js';
import type { RunResult } from '../lib/proc.js';
import { copySqliteStore, createBenchDb, createDbFromTemplate, dropBenchDb, PG_ADMIN_URL, psql, psqlCopyReference, REF_TABLE_DDL, sampleDatabaseCpu } from '../lib/postgres.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { ingestRows } from './bulk-ingest.js';
import { checkApplied, freshDataDir, ingestFixture, lotgateIngest, limsFile, removeDir } from './ingest-fixture.js';

export const PG_INGEST_TARGET_RATIO = 2.5;

interface Sample {
  s: number;
  rss: number | null;
  cpu: number | null;
  /** CPU seconds of the server processes that worked for the side's database. */
  server: number | null;
}

interface Settled {
  ackSeconds: number | null;
  settledSeconds: number | null;
  messages: number;
  dirtyLeft: number;
}

/** Scenario 1b on PostgreSQL: the same three figures readiness-settled.ts reads from SQLite. */
async function settledPg(url: string, partner: string, startedAtMs: number): Promise<Settled> {
  const out = (
    await psql(
      url,
      `WITH s AS (SELECT id, ack_written_at FROM submissions WHERE partner = '${partner}' ORDER BY id DESC LIMIT 1)
       SELECT s.ack_written_at, (SELECT count(*) FROM outbox o WHERE o.submission_id = s.id), (SELECT max(created_at) FROM outbox o WHERE o.submission_id = s.id), (SELECT count(*) FROM dirty_lots) FROM s`,
    )
  ).trim();
  const [ack, n, last, dirty] = out.split('|');
  const since = (iso: string) => (iso ? (Date.parse(iso) - startedAtMs) / 1000 : null);
  return { ackSeconds: since(ack), settledSeconds: since(last), messages: Number(n), dirtyLeft: Number(dirty) };
}

export async function pgIngest(ctx: BenchContext): Promise<ScenarioResult> {
  const rows = ingestRows(ctx);
  const fx = await ingestFixture(ctx);
  const { file, bytes } = await limsFile(ctx, fx, rows);
  const mb = bytes / 1e6;

  // The seeded store of scenario 1, copied once into a template database (untimed); each run
  // gets CREATE DATABASE … TEMPLATE of it, as each SQLite run gets a copy of the seeded data dir.
  const template = await createBenchDb();
  const ref = await createBenchDb();
  ctx.log(`  template ${template.name} on ${new URL(PG_ADMIN_URL).host}: scenario 1's seeded store copied in with \`lotgate store copy\``);
  const lg: Sample[] = [];
  const rf: Sample[] = [];
  const settled: Settled[] = [];
  const load: string[] = [];
  const backends: number[] = [];
  let version = '';
  try {
    await copySqliteStore(fx.ws.configPath, path.join(fx.seededDataDir, 'lotgate.db'), template.url);
    await psql(template.url, 'VACUUM ANALYZE');
    await psql(ref.url, REF_TABLE_DDL);
    version = (await psql(ref.url, 'SHOW server_version')).trim();
    for (let i = 0; i < ctx.runs; i++) {
      load.push(loadavg().map((v) => v.toFixed(2)).join(' '));
      const db = await createDbFromTemplate(template.name);
      const dataDir = freshDataDir(fx, 'run-data-pg');
      for (const f of ['lotgate.db', 'lotgate.db-wal', 'lotgate.db-shm']) rmSync(path.join(dataDir, f), { force: true });
      let r: RunResult;
      let server: { seconds: number; backends: number };
      try {
        await psql(db.url, 'CHECKPOINT');
        const cpu = await sampleDatabaseCpu(db.name);
        const startedAt = Date.now();
        try {
          r = await lotgateIngest(fx.ws, dataDir, 'bravo-lab', [file], nodeFlags(ctx, 'scenario-10'), { LOTGATE_DATABASE_URL: db.url });
        } finally {
          server = await cpu.stop();
        }
        checkApplied(`lotgate ingest of ${rows} rows on PostgreSQL`, r, rows);
        const count = Number((await psql(db.url, 'SELECT count(*) FROM test_results')).trim());
        if (count !== rows) throw new Error(`lotgate ingest on PostgreSQL: test_results holds ${count} rows; the file has ${rows}`);
        settled.push(await settledPg(db.url, 'bravo-lab', startedAt));
      } finally {
        await dropBenchDb(db.name).catch((e) => ctx.log(`  could not drop ${db.name}: ${(e as Error).message}`));
        removeDir(dataDir);
      }
      lg.push({ s: r.seconds, rss: r.peakRssMb, cpu: r.cpuSeconds, server: server.seconds });
      backends.push(server.backends);

      const q = await psqlCopyReference(ref.url, file, rows);
      rf.push({ s: q.r.seconds, rss: q.r.peakRssMb, cpu: q.r.cpuSeconds, server: q.server });
      ctx.log(
        `  run ${i + 1}/${ctx.runs} (load ${load[i]}): lotgate ${r.seconds.toFixed(2)} s, CPU ${cpuText(r.cpuSeconds)} + server ${cpuText(server.seconds)} (${server.backends} backends; peak RSS ${r.peakRssMb?.toFixed(0)} MB), ` +
          `psql \\copy ${q.r.seconds.toFixed(2)} s, CPU ${cpuText(q.r.cpuSeconds)} + server ${cpuText(q.server)}`,
      );
    }
  } finally {
    for (const d of [template, ref]) await dropBenchDb(d.name).catch((e) => ctx.log(`  could not drop ${d.name}: ${(e as Error).message}`));
  }
  const profiles = reportProfiles(ctx, 'scenario-10');

  const perSec = (m: number) => ({ value: rows / m, unit: 'rows/s' });
  const l = side(lg.map((x) => x.s), lg.map((x) => x.rss), perSec);
  const r = side(rf.map((x) => x.s), rf.map((x) => x.rss), perSec);
  const ratio = l.medianSeconds / r.medianSeconds;
  const both = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
  const m = {
    lgCpu: medianOf(lg.map((x) => x.cpu)),
    refCpu: medianOf(rf.map((x) => x.cpu)),
    lgServer: medianOf(lg.map((x) => x.server)),
    refServer: medianOf(rf.map((x) => x.server)),
    lgTotal: medianOf(lg.map((x) => both(x.cpu, x.server))),
    refTotal: medianOf(rf.map((x) => both(x.cpu, x.server))),
  };
  const cpuRatio = m.lgTotal !== null && m.refTotal !== null ? m.lgTotal / m.refTotal : null;
  const x = (a: number | null, b: number | null) => (a === null || b === null ? 'n/a' : `${(a / b).toFixed(2)}×`);
  const s = medianOf(settled.map((v) => v.settledSeconds));
  const a = medianOf(settled.map((v) => v.ackSeconds));
  return {
    id: 10,
    name: 'bulk ingest on PostgreSQL',
    workload: `${rows.toLocaleString('en-US')} rows, ${mb.toFixed(1)} MB LIMS CSV, 25k known lots, PostgreSQL ${version}`,
    lotgate: l,
    reference: { ...r, name: 'psql \\copy into a plain 12-column TEXT table' },
    ratio,
    target: `lotgate ≤ ${PG_INGEST_TARGET_RATIO.toFixed(1)}× psql \\copy (issue 13)`,
    met: ratio <= PG_INGEST_TARGET_RATIO,
    outcome: `${ratio.toFixed(2)}× wall (${l.medianSeconds.toFixed(2)} s vs ${r.medianSeconds.toFixed(2)} s), ${cpuRatio === null ? 'CPU n/a' : `${cpuRatio.toFixed(2)}× CPU client + server`}`,
    notes: [
      `CPU seconds (median) — client: lotgate ${cpuText(m.lgCpu)}, psql ${cpuText(m.refCpu)} (${x(m.lgCpu, m.refCpu)}); server: lotgate's backends ${cpuText(m.lgServer)} (${backends.join('/')} backends sampled), psql's ${cpuText(m.refServer)} (${x(m.lgServer, m.refServer)}); ` +
        `client + server: ${cpuText(m.lgTotal)} vs ${cpuText(m.refTotal)} (${cpuRatio === null ? 'n/a' : `${cpuRatio.toFixed(2)}×`}).`,
      s === null
        ? '1b. readiness settled: no outbox message was stored'
        : `1b. readiness settled (command start → last outbox message, median): ${s.toFixed(2)} s, ${(s / r.medianSeconds).toFixed(2)}× \\copy; ack written at ${a?.toFixed(2) ?? 'n/a'} s; ` +
          `${settled.map((v) => v.messages).join(' / ')} messages; ${settled.reduce((n, v) => n + v.dirtyLeft, 0)} lot(s) left awaiting recomputation`,
      `peak RSS: lotgate ${l.peakRssMb?.toFixed(0) ?? 'n/a'} MB, psql ${r.peakRssMb?.toFixed(0) ?? 'n/a'} MB.`,
      `load average (1/5/15 min) before each run: ${load.join('; ')}.`,
    ],
    details: { rows, bytes, postgres: version, lotgate: lg, reference: rf, settled, load, backends, cpuRatio, lotgateCpuTotal: m.lgTotal, referenceCpuTotal: m.refTotal, profiles },
  };
}

const cpuText = (s: number | null): string => (s === null ? 'n/a' : `${s.toFixed(2)} s`);

function medianOf(xs: (number | null)[]): number | null {
  const v = xs.filter((y): y is number => y !== null).sort((p, q) => p - q);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
