// Scenario 11 (`pg-partners`) — scenario 5 on PostgreSQL (issue 13). 200 lab partners × 10 files
// (20 × 5 in quick mode) of 200 rows copied into their inbound/ folders at once, with TWO lotgate
// processes sharing one PostgreSQL database (created for the run, dropped after) and one private
// Redis under a queue prefix of the run's own: process A runs every role (SFTP, intake, workers,
// scheduler, API: `lotgate start`), process B only queue workers (`lotgate start --role worker`).
// The same figures as scenario 5: time until the last acknowledgment, files/s, and fairness
// (slowest partner's finish ÷ median partner's finish); plus how the files split between the two.

import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { waitForAcks } from '../lib/acks.js';
import { startLotgate, type RunningLotgate } from '../lib/lotgate-server.js';
import { copySqliteStore, createBenchDb, dropBenchDb, psql, sampleDatabaseCpu } from '../lib/postgres.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { startRedis } from '../lib/redis.js';
import { median } from '../lib/stats.js';
import { labServerFixture, writeLabFile, type LabFile } from './lab-server.js';
import { FAIRNESS_TARGET } from './many-partners.js';

const ROWS = 200;

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
  const files: LabFile[] = [];
  for (let k = 1; k <= perPartner; k++) for (const l of fx.labs) files.push(await writeLabFile(fx, l.id, k, ROWS, ctx.seed + 5000 + files.length));

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
      const t0 = Date.now();
      for (const f of files) {
        const inbound = path.join(fx.ws.dropDir, f.partner, 'inbound');
        mkdirSync(inbound, { recursive: true });
        copyFileSync(f.path, path.join(inbound, f.name));
      }
      const copySeconds = (Date.now() - t0) / 1000;
      const acks = await waitForAcks(fx.ws.dropDir, files.map((f) => ({ partner: f.partner, file: f.name })), ctx.quick ? 600_000 : 3_600_000, 200);
      const missing = files.filter((f) => !acks.has(`${f.partner}/${f.name}`));
      if (missing.length) throw new Error(`${missing.length} of ${files.length} files got no acknowledgment in time (first: ${missing[0].partner}/${missing[0].name})\n${a.output().slice(-1500)}\n${b.output().slice(-1500)}`);
      const finish = new Map<string, number>();
      for (const f of files) {
        const ack = acks.get(`${f.partner}/${f.name}`)!;
        if (ack.state !== 'applied' || ack.rows !== ROWS) throw new Error(`${f.partner}/${f.name} was ${ack.state} (rows ${ack.rows}, rejected ${ack.rejected}; ${ack.errorCodes.slice(0, 3).join(', ')})`);
        finish.set(f.partner, Math.max(finish.get(f.partner) ?? 0, (ack.writtenAt - t0) / 1000));
      }
      const count = Number((await psql(db.url, 'SELECT count(*) FROM test_results')).trim());
      if (count !== files.length * ROWS) throw new Error(`test_results holds ${count} rows; ${files.length} files of ${ROWS} rows were applied`);
      const finishes = [...finish.values()];
      const total = Math.max(...finishes);
      const med = median(finishes);
      const fairness = total / med;
      const rss = [a.peakRssMb(), b.peakRssMb()];
      server = await cpu.stop();
      const split = [processedBy(a.logFile), processedBy(b.logFile)];
      notes.push(`copying the files into inbound/ took ${copySeconds.toFixed(2)} s (inside the measured time); intake waits intake.stableMs (default 1 s) for a file to stop growing`);
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
