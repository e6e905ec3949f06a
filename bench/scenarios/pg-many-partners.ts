// Scenario 11 (`pg-partners`) — scenario 5 on PostgreSQL (issue 13). 200 lab partners × 10 files
// (20 × 5 in quick mode) of 200 rows copied into their inbound/ folders at once, with TWO lotgate
// processes sharing one PostgreSQL database (created for the run, dropped after) and one private
// Redis under a queue prefix of the run's own: process A runs every role (SFTP, intake, workers,
// scheduler, API: `lotgate start`), process B only queue workers (`lotgate start --role worker`).
// The same figures as scenario 5: time until the last acknowledgment, files/s, and fairness
// (slowest partner's finish ÷ median partner's finish); plus how the files split between the two.

import { readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { startLotgate, type RunningLotgate } from '../lib/lotgate-server.js';
import { copySqliteStore, createBenchDb, dropBenchDb, psql, sampleDatabaseCpu } from '../lib/postgres.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { startRedis } from '../lib/redis.js';
import { labServerFixture } from './lab-server.js';
import { COPY_NOTE, dropAndAwait, FAIRNESS_TARGET, partnerFiles, ROWS } from './many-partners.js';


/** Jobs a process's log says it finished ('submission processed' lines of its queue workers). */
function processedBy(logFile: string): number {
  try {
    return readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"submission processed"')).length;
  } catch {
    return 0;
  }
}

export async function pgManyPartners(ctx: BenchContext): Promise<ScenarioResult> {
  const partnerCount = ctx.quick ? 20 : 200;
  const perPartner = ctx.quick ? 5 : 10;
  const fx = await labServerFixture(ctx, 'many-partners-pg', partnerCount, ctx.seed + 5);
  const files = await partnerFiles(ctx, fx, perPartner);

  // The ERP lots were seeded into the workspace's SQLite store (untimed): copied into the run's database.
  const db = await createBenchDb();
  const sqlite = path.join(fx.ws.dataDir, 'lotgate.db');
  const prefix = `lgbench-${randomBytes(4).toString('hex')}`;
  const notes: string[] = [];
  const redis = await startRedis();
  try {
    await copySqliteStore(fx.ws.configPath, sqlite, db.url);
    for (const f of [sqlite, `${sqlite}-wal`, `${sqlite}-shm`]) rmSync(f, { force: true });
    await psql(db.url, 'VACUUM ANALYZE');
    const version = (await psql(db.url, 'SHOW server_version')).trim();
    ctx.log(`  database ${db.name} (PostgreSQL ${version}), Redis ${redis.url}, queue prefix ${prefix}; two lotgate processes`);
    const env = { LOTGATE_DATABASE_URL: db.url, LOTGATE_QUEUE_PREFIX: prefix };
    const cpu = await sampleDatabaseCpu(db.name, 250);
    const procs: RunningLotgate[] = [];
    let server: { seconds: number; backends: number } | null = null;
    try {
      // B first (workers only, ready at its banner), then A (ready when its SFTP port accepts).
      procs.push(await startLotgate(fx.ws, { redisUrl: redis.url, sftpPort: fx.sftpPort, roles: ['worker'], env, logName: 'lotgate-worker-b.log', nodeFlags: nodeFlags(ctx, 'scenario-11') }));
      procs.push(await startLotgate(fx.ws, { redisUrl: redis.url, sftpPort: fx.sftpPort, env, logName: 'lotgate-all-a.log', nodeFlags: nodeFlags(ctx, 'scenario-11') }));
      const [b, a] = procs;
      ctx.log(`  dropping ${files.length} files (${partnerCount} partners × ${perPartner}, ${ROWS} rows each) into inbound/`);
      const { copySeconds, finish, total, medianPartner: med, fairness } = await dropAndAwait(fx, files, ctx.quick ? 600_000 : 3_600_000, () => `${a.output().slice(-1500)}\n${b.output().slice(-1500)}`);
      const count = Number((await psql(db.url, 'SELECT count(*) FROM test_results')).trim());
      if (count !== files.length * ROWS) throw new Error(`test_results holds ${count} rows; ${files.length} files of ${ROWS} rows were applied`);
      const rss = [a.peakRssMb(), b.peakRssMb()];
      server = await cpu.stop();
      const split = [processedBy(a.logFile), processedBy(b.logFile)];
      notes.push(COPY_NOTE(copySeconds));
      notes.push(`jobs finished: process A (all roles) ${split[0]}, process B (--role worker) ${split[1]}; peak RSS A ${rss[0]?.toFixed(0) ?? 'n/a'} MB, B ${rss[1]?.toFixed(0) ?? 'n/a'} MB`);
      notes.push(`server CPU of the run's database (all backends, sampled): ${server.seconds.toFixed(1)} s over ${server.backends} backends`);
      ctx.log(`  all ${files.length} applied in ${total.toFixed(1)} s; partner finish median ${med.toFixed(1)} s, slowest ${total.toFixed(1)} s; A ${split[0]} / B ${split[1]} jobs; server CPU ${server.seconds.toFixed(1)} s`);
      return {
        id: 11,
        name: 'many partners on PostgreSQL',
        workload: `${partnerCount} partners × ${perPartner} files × ${ROWS} rows, dropped at once; 2 lotgate processes, one PostgreSQL ${version}, one Redis`,
        lotgate: { medianSeconds: total, runsSeconds: [total], peakRssMb: Math.max(...rss.filter((x): x is number => x !== null), 0) || null, throughput: { value: files.length / total, unit: 'files/s' } },
        reference: null,
        ratio: null,
        target: `all applied; slowest ÷ median partner finish ≤ ${FAIRNESS_TARGET}`,
        met: fairness <= FAIRNESS_TARGET,
        outcome: `${files.length} applied in ${total.toFixed(1)} s (${(files.length / total).toFixed(1)} files/s); fairness ${fairness.toFixed(2)} (median partner ${med.toFixed(1)} s); A ${split[0]} / B ${split[1]} jobs`,
        notes,
        details: { partners: partnerCount, filesPerPartner: perPartner, rowsPerFile: ROWS, totalSeconds: total, medianPartnerSeconds: med, fairness, jobsByProcess: { a: split[0], b: split[1] }, peakRssMb: rss, serverCpuSeconds: server.seconds, partnerFinishSeconds: Object.fromEntries(finish) },
      };
    } finally {
      for (const p of procs.reverse()) await p.stop();
      if (!server) await cpu.stop();
    }
  } finally {
    await redis.stop();
    await dropBenchDb(db.name).catch((e) => ctx.log(`  could not drop ${db.name}: ${(e as Error).message}`));
    reportProfiles(ctx, 'scenario-11');
  }
}
