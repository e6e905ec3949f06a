// Scenario 3 — upload. One 256 MB file (32 MB in quick mode) uploaded with OpenSSH `sftp -b`
// to lotgate's drop zone (`lotgate start`), against the same upload to OpenSSH sshd with
// internal-sftp on another loopback port. Same client, same key, alternating runs; the time is
// the whole `sftp -b` session (connect, authenticate, put, close).

import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { side } from '../lib/context.js';
import { writeRandomFile } from '../gen/blob.js';
import { waitForAcks } from '../lib/acks.js';
import { startLotgate } from '../lib/lotgate-server.js';
import { freePort } from '../lib/net.js';
import { describeFailure } from '../lib/proc.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { startRedis } from '../lib/redis.js';
import { makeKey, negotiatedCipher, sftpPut, startReferenceSshd } from '../lib/ssh.js';
import { createWorkspace } from '../lib/workspace.js';

export const UPLOAD_TARGET_RATIO = 1.1;

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}

export async function upload(ctx: BenchContext): Promise<ScenarioResult> {
  const bytes = (ctx.quick ? 32 : 256) * 1024 * 1024;
  const dir = path.join(ctx.workDir, 'upload');
  mkdirSync(dir, { recursive: true });
  const key = await makeKey(path.join(dir, 'keys'), 'upload-lab');
  const file = path.join(dir, 'upload.dat');
  await writeRandomFile(file, bytes, ctx.seed + 3);
  const digest = await sha256(file);
  const partner = 'upload-lab';
  const sftpPort = await freePort();
  // No feeds: lotgate takes the file into its ledger and archive and answers E_NO_FEED at once,
  // so no ingest runs in the background of the next upload.
  const ws = createWorkspace(path.join(dir, 'ws'), {
    partners: [{ id: partner, name: 'Upload Lab', role: 'lab', feeds: [], publicKeys: [key.publicKeyLine] }],
    mappings: [],
    sftpPort,
  });
  const redis = await startRedis();
  const notes: string[] = [];
  try {
    const lg = await startLotgate(ws, { redisUrl: redis.url, sftpPort, nodeFlags: nodeFlags(ctx, 'scenario-3') });
    const sshd = await startReferenceSshd(path.join(dir, 'sshd'), key);
    notes.push(...sshd.notes);
    const lgRuns: number[] = [];
    const refRuns: number[] = [];
    const ciphers = new Set<string>();
    let serverRss: number | null = null;
    try {
      // One untimed upload to each server first: both are long-running daemons, and the first
      // session pays for lazy start-up (lotgate's hash worker thread, sshd's page cache).
      const wl = await sftpPut(key.privateKey, partner, lg.port, file, 'inbound/WARMUP.dat', dir);
      if (wl.code !== 0) throw describeFailure('warm-up upload to lotgate', wl);
      await waitForAcks(ws.dropDir, [{ partner, file: 'WARMUP.dat' }], 120_000);
      const ws2 = await sftpPut(key.privateKey, sshd.user, sshd.port, file, path.join(sshd.inbox, 'WARMUP.dat'), dir);
      if (ws2.code !== 0) throw describeFailure('warm-up upload to sshd', ws2);
      rmSync(path.join(sshd.inbox, 'WARMUP.dat'), { force: true });
      // Uploads are cheap next to the other scenarios: a few more runs steady the median.
      const runs = Math.max(ctx.runs, ctx.quick ? 3 : 5);
      for (let i = 0; i < runs; i++) {
        const name = `UPLOAD_${i + 1}.dat`;
        const a = await sftpPut(key.privateKey, partner, lg.port, file, `inbound/${name}`, dir);
        if (a.code !== 0) throw describeFailure(`sftp put to lotgate (run ${i + 1})`, a);
        ciphers.add(`lotgate: ${negotiatedCipher(a.stderr)}`);
        // Untimed: let intake finish with the file before the next upload starts.
        const ack = (await waitForAcks(ws.dropDir, [{ partner, file: name }], 120_000)).get(`${partner}/${name}`);
        if (!ack) throw new Error(`lotgate wrote no acknowledgment for ${name}\n${lg.output().slice(-2000)}`);
        if (ack.sha256 !== digest) throw new Error(`lotgate received other bytes than were sent (sha256 ${ack.sha256} ≠ ${digest})`);
        lgRuns.push(a.seconds);

        const remote = path.join(sshd.inbox, name);
        const b = await sftpPut(key.privateKey, sshd.user, sshd.port, file, remote, dir);
        if (b.code !== 0) throw describeFailure(`sftp put to sshd (run ${i + 1})`, b);
        ciphers.add(`sshd: ${negotiatedCipher(b.stderr)}`);
        if (statSync(remote).size !== bytes) throw new Error(`sshd received ${statSync(remote).size} bytes, expected ${bytes}`);
        rmSync(remote, { force: true });
        refRuns.push(b.seconds);
        ctx.log(`  run ${i + 1}/${runs}: lotgate ${a.seconds.toFixed(2)} s, sshd internal-sftp ${b.seconds.toFixed(2)} s`);
      }
    } finally {
      serverRss = lg.peakRssMb();
      await sshd.stop();
      await lg.stop();
    }
    const mb = bytes / 1e6;
    const perSec = (m: number) => ({ value: mb / m, unit: 'MB/s' });
    const l = side(lgRuns, [serverRss], perSec);
    const r = side(refRuns, [null], perSec);
    const ratio = l.medianSeconds / r.medianSeconds;
    notes.push(`ciphers negotiated: ${[...ciphers].join('; ')}`);
    notes.push('times are whole `sftp -b` sessions: ssh handshake and authentication are included on both sides');
    notes.push('peak RSS is the lotgate server process (`lotgate start`, all roles) over the whole scenario');
    return {
      id: 3,
      name: 'upload',
      workload: `${(bytes / 2 ** 20).toFixed(0)} MiB file, OpenSSH sftp -b over loopback`,
      lotgate: l,
      reference: { ...r, name: 'OpenSSH sshd internal-sftp' },
      ratio,
      target: `lotgate ≤ ${UPLOAD_TARGET_RATIO}× sshd`,
      met: ratio <= UPLOAD_TARGET_RATIO,
      outcome: `${ratio.toFixed(2)}× (${l.medianSeconds.toFixed(2)} s vs ${r.medianSeconds.toFixed(2)} s; ${(mb / l.medianSeconds).toFixed(0)} vs ${(mb / r.medianSeconds).toFixed(0)} MB/s)`,
      notes,
      details: { bytes, sha256: digest, ciphers: [...ciphers] },
    };
  } finally {
    await redis.stop();
    reportProfiles(ctx, 'scenario-3');
  }
}
