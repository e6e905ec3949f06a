// Scenario 4 — latency. 200 files of 1k rows (50 from 10 partners in quick mode) uploaded over
// SFTP at a steady 5 files/s, round-robin over 20 lab partners, each on its own SSH session.
// Latency of a file = its acknowledgment's mtime − the moment the client sent CLOSE.

import { existsSync, readFileSync } from 'node:fs';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { waitForAcks, type AckSeen } from '../lib/acks.js';
import { startLotgate } from '../lib/lotgate-server.js';
import { sleep } from '../lib/net.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { startRedis } from '../lib/redis.js';
import { connectSftp, type SftpSession } from '../lib/sftp-client.js';
import { median, percentile } from '../lib/stats.js';
import { labServerFixture, writeLabFile, type LabFile } from './lab-server.js';

export const LATENCY_P95_TARGET_S = 1;
export const FILES_PER_SECOND = 5;
const ROWS = 1_000;

export async function latency(ctx: BenchContext): Promise<ScenarioResult> {
  const partnerCount = ctx.quick ? 10 : 20;
  const fileCount = ctx.quick ? 50 : 200;
  const fx = await labServerFixture(ctx, 'latency', partnerCount, ctx.seed + 4);
  const files: LabFile[] = [];
  for (let j = 0; j < fileCount; j++) files.push(await writeLabFile(fx, fx.labs[j % partnerCount].id, j + 1, ROWS, ctx.seed + 4000 + j));
  const contents = files.map((f) => readFileSync(f.path));

  const redis = await startRedis();
  const notes: string[] = [];
  try {
    const lg = await startLotgate(fx.ws, { redisUrl: redis.url, sftpPort: fx.sftpPort, nodeFlags: nodeFlags(ctx, 'scenario-4') });
    const sessions = new Map<string, SftpSession>();
    try {
      for (const l of fx.labs) sessions.set(l.id, await connectSftp(fx.sftpPort, l.id, l.key.privateKey));
      const interval = 1000 / FILES_PER_SECOND;
      const t0 = Date.now() + 200;
      ctx.log(`  uploading ${fileCount} files of ${ROWS} rows from ${partnerCount} partners at ${FILES_PER_SECOND} files/s`);
      const closeAt = await Promise.all(
        files.map(async (f, j) => {
          await sleep(Math.max(0, t0 + j * interval - Date.now()));
          return sessions.get(f.partner)!.put(`inbound/${f.name}`, contents[j]);
        }),
      );
      const uploadSpan = (Date.now() - t0) / 1000;
      const acks = await waitForAcks(fx.ws.dropDir, files.map((f) => ({ partner: f.partner, file: f.name })), 180_000);
      const missing = files.filter((f) => !acks.has(`${f.partner}/${f.name}`));
      if (missing.length) throw new Error(`${missing.length} files got no acknowledgment within 180 s (first: ${missing[0].partner}/${missing[0].name})\n${lg.output().slice(-2000)}`);
      const latencies: number[] = [];
      for (const [j, f] of files.entries()) {
        const a = acks.get(`${f.partner}/${f.name}`)!;
        if (a.state !== 'applied' || a.rows !== ROWS) throw new Error(`${f.partner}/${f.name} was ${a.state} (rows ${a.rows}, rejected ${a.rejected}; ${a.errorCodes.slice(0, 3).join(', ')})`);
        latencies.push((a.writtenAt - closeAt[j]) / 1000);
      }
      const phases = phaseBreakdown(lg.logFile, files, closeAt, acks);
      const p50 = median(latencies);
      const p95 = percentile(latencies, 95);
      const max = Math.max(...latencies);
      if (phases) {
        const f = (xs: number[]) => `p50 ${median(xs).toFixed(3)} s / p95 ${percentile(xs, 95).toFixed(3)} s`;
        notes.push(`where the latency goes (from lotgate's log): CLOSE → "file received" (drop zone + intake: link, archive, ledger row, enqueue) ${f(phases.intake)}; "file received" → ack written (queue wait, mapping, apply, readiness, ack) ${f(phases.queueAndProcess)}`);
      }
      notes.push(`uploads spanned ${uploadSpan.toFixed(1)} s; latency = ack mtime − client CLOSE sent (both on this machine's clock)`);
      ctx.log(`  p50 ${p50.toFixed(3)} s, p95 ${p95.toFixed(3)} s, max ${max.toFixed(3)} s`);
      return {
        id: 4,
        name: 'latency',
        workload: `${fileCount} files × ${ROWS.toLocaleString('en-US')} rows, ${partnerCount} partners, ${FILES_PER_SECOND} files/s`,
        lotgate: { medianSeconds: p50, runsSeconds: [], peakRssMb: lg.peakRssMb(), throughput: { value: fileCount / uploadSpan, unit: 'files/s' } },
        reference: null,
        ratio: null,
        target: `CLOSE → ack p95 < ${LATENCY_P95_TARGET_S} s`,
        met: p95 < LATENCY_P95_TARGET_S,
        outcome: `p50 ${p50.toFixed(3)} s, p95 ${p95.toFixed(3)} s (max ${max.toFixed(3)} s)`,
        notes,
        details: { p50, p95, max, latencies, phases, partners: partnerCount, files: fileCount, rowsPerFile: ROWS, filesPerSecond: FILES_PER_SECOND },
      };
    } finally {
      for (const s of sessions.values()) s.end();
      await lg.stop();
    }
  } finally {
    await redis.stop();
    reportProfiles(ctx, 'scenario-4');
  }
}

/**
 * Splits each file's latency in two at the server's JSON log line "file received" (partner,
 * file, submissionId, time): before it the drop zone and intake, after it the queue and the
 * worker. Null when the log lacks it (log level above info).
 */
function phaseBreakdown(logFile: string, files: LabFile[], closeAt: number[], acks: Map<string, AckSeen>): { intake: number[]; queueAndProcess: number[] } | null {
  if (!existsSync(logFile)) return null;
  const received = new Map<string, { t: number }>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    let e: { msg?: string; time?: number; partner?: string; file?: string; submissionId?: number };
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (e.msg === 'file received' && e.partner && e.file && e.submissionId !== undefined && e.time) received.set(`${e.partner}/${e.file}`, { t: e.time });
  }
  const out = { intake: [] as number[], queueAndProcess: [] as number[] };
  for (const [j, f] of files.entries()) {
    const k = `${f.partner}/${f.name}`;
    const r = received.get(k);
    const a = acks.get(k);
    if (!r || !a) return null;
    out.intake.push((r.t - closeAt[j]) / 1000);
    out.queueAndProcess.push((a.writtenAt - r.t) / 1000);
  }
  return out;
}
