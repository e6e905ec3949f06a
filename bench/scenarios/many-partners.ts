// Scenario 5 — many partners. 200 lab partners × 10 files (20 × 5 in quick mode) of 200 rows,
// copied into their inbound/ folders at once (as a sync tool or a shared drive would). Measures
// the time until every file is acknowledged, files/s, and fairness: the slowest partner's
// finish ÷ the median partner's finish (per-partner queues should keep one busy partner from
// starving the others).

import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { waitForAcks } from '../lib/acks.js';
import { startLotgate } from '../lib/lotgate-server.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { startRedis } from '../lib/redis.js';
import { median } from '../lib/stats.js';
import { labServerFixture, writeLabFile, type LabFile, type LabServerFixture } from './lab-server.js';

export const FAIRNESS_TARGET = 2;
export const ROWS = 200;

/** The partners' files, written once: file 1 of every partner, then file 2, … — nobody is copied first. */
export async function partnerFiles(ctx: BenchContext, fx: LabServerFixture, perPartner: number): Promise<LabFile[]> {
  const files: LabFile[] = [];
  for (let k = 1; k <= perPartner; k++) for (const l of fx.labs) files.push(await writeLabFile(fx, l.id, k, ROWS, ctx.seed + 5000 + files.length));
  return files;
}

export interface DropOutcome {
  copySeconds: number;
  /** Each partner's last acknowledgment, seconds after the copying began. */
  finish: Map<string, number>;
  total: number;
  medianPartner: number;
  fairness: number;
}

/** Copies every file into its partner's inbound/ at once and waits until each is acknowledged `applied` with all its rows. */
export async function dropAndAwait(fx: LabServerFixture, files: LabFile[], timeoutMs: number, output: () => string): Promise<DropOutcome> {
  const t0 = Date.now();
  for (const f of files) {
    const inbound = path.join(fx.ws.dropDir, f.partner, 'inbound');
    mkdirSync(inbound, { recursive: true });
    copyFileSync(f.path, path.join(inbound, f.name));
  }
  const copySeconds = (Date.now() - t0) / 1000;
  const acks = await waitForAcks(fx.ws.dropDir, files.map((f) => ({ partner: f.partner, file: f.name })), timeoutMs, 200);
  const missing = files.filter((f) => !acks.has(`${f.partner}/${f.name}`));
  if (missing.length) throw new Error(`${missing.length} of ${files.length} files got no acknowledgment in time (first: ${missing[0].partner}/${missing[0].name})\n${output()}`);
  const finish = new Map<string, number>();
  for (const f of files) {
    const a = acks.get(`${f.partner}/${f.name}`)!;
    if (a.state !== 'applied' || a.rows !== ROWS) throw new Error(`${f.partner}/${f.name} was ${a.state} (rows ${a.rows}, rejected ${a.rejected}; ${a.errorCodes.slice(0, 3).join(', ')})`);
    finish.set(f.partner, Math.max(finish.get(f.partner) ?? 0, (a.writtenAt - t0) / 1000));
  }
  const finishes = [...finish.values()];
  const total = Math.max(...finishes);
  const medianPartner = median(finishes);
  return { copySeconds, finish, total, medianPartner, fairness: total / medianPartner };
}

export const COPY_NOTE = (copySeconds: number) =>
  `copying the files into inbound/ took ${copySeconds.toFixed(2)} s (inside the measured time); intake waits intake.stableMs (default 1 s) for a file to stop growing`;

export async function manyPartners(ctx: BenchContext): Promise<ScenarioResult> {
  const partnerCount = ctx.quick ? 20 : 200;
  const perPartner = ctx.quick ? 5 : 10;
  const fx = await labServerFixture(ctx, 'many-partners', partnerCount, ctx.seed + 5);
  const files = await partnerFiles(ctx, fx, perPartner);

  const redis = await startRedis();
  const notes: string[] = [];
  try {
    const lg = await startLotgate(fx.ws, { redisUrl: redis.url, sftpPort: fx.sftpPort, nodeFlags: nodeFlags(ctx, 'scenario-5') });
    try {
      ctx.log(`  dropping ${files.length} files (${partnerCount} partners × ${perPartner}, ${ROWS} rows each) into inbound/`);
      const { copySeconds, finish, total, medianPartner: med, fairness } = await dropAndAwait(fx, files, ctx.quick ? 300_000 : 1_800_000, () => lg.output().slice(-2000));
      notes.push(COPY_NOTE(copySeconds));
      ctx.log(`  all ${files.length} applied in ${total.toFixed(1)} s; partner finish median ${med.toFixed(1)} s, slowest ${total.toFixed(1)} s`);
      return {
        id: 5,
        name: 'many partners',
        workload: `${partnerCount} partners × ${perPartner} files × ${ROWS} rows, dropped at once`,
        lotgate: { medianSeconds: total, runsSeconds: [total], peakRssMb: lg.peakRssMb(), throughput: { value: files.length / total, unit: 'files/s' } },
        reference: null,
        ratio: null,
        target: `all applied; slowest ÷ median partner finish ≤ ${FAIRNESS_TARGET}`,
        met: fairness <= FAIRNESS_TARGET,
        outcome: `${files.length} applied in ${total.toFixed(1)} s (${(files.length / total).toFixed(1)} files/s); fairness ${fairness.toFixed(2)} (median partner ${med.toFixed(1)} s)`,
        notes,
        details: { partners: partnerCount, filesPerPartner: perPartner, rowsPerFile: ROWS, totalSeconds: total, medianPartnerSeconds: med, fairness, partnerFinishSeconds: Object.fromEntries(finish) },
      };
    } finally {
      await lg.stop();
    }
  } finally {
    await redis.stop();
    reportProfiles(ctx, 'scenario-5');
  }
}
