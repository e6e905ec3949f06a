// Partners' uploads with a real client: one OpenSSH `sftp -b` session per file (`put` into
// inbound/), a few at a time. A failed upload is reported, not thrown: the fault campaign sends
// it again after recovery, as a partner whose client showed an error would.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLIENT_OPTS } from '../../bench/lib/ssh.js';
import { TOOLS } from '../../bench/lib/tools.js';
import { onCleanup } from './cleanup.js';

export interface Upload {
  partner: string;
  /** Name in inbound/. */
  name: string;
  local: string;
  key: string;
}

export interface UploadResult {
  upload: Upload;
  ok: boolean;
  /** Last lines of sftp's output when it failed. */
  error?: string;
  ms: number;
}

let seq = 0;

/** `sftp -b` with a one-line batch (`put local inbound/name`); never throws. */
export function sftpPut(u: Upload, port: number, batchDir: string, timeoutMs: number): Promise<UploadResult> {
  const batch = path.join(batchDir, `batch-${process.pid}-${++seq}.txt`);
  // sftp batch syntax: quoted arguments, so names with spaces survive.
  writeFileSync(batch, `put "${u.local}" "inbound/${u.name}"\n`);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(TOOLS.sftp.bin, ['-b', batch, '-i', u.key, '-P', String(port), ...CLIENT_OPTS, '-o', 'ConnectTimeout=10', `${u.partner}@127.0.0.1`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const unregister = onCleanup(`sftp upload of ${u.name}`, () => void child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-4000)));
    child.stderr.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = (ok: boolean, error?: string) => {
      clearTimeout(timer);
      unregister();
      resolve({ upload: u, ok, ms: Date.now() - t0, ...(ok ? {} : { error }) });
    };
    child.on('error', (e) => done(false, e.message));
    child.on('close', (code, signal) => {
      if (code === 0) return done(true);
      const tail = out.trim().split('\n').filter((l) => !l.startsWith('Warning: Permanently added')).slice(-3).join(' / ');
      done(false, `sftp ${signal ? `killed (${signal})` : `exit ${code}`}${tail ? `: ${tail}` : ''}`);
    });
  });
}

/** Uploads in order with at most `concurrency` sessions at once; results in the same order. */
export async function uploadAll(uploads: readonly Upload[], port: number, batchDir: string, opts: { concurrency?: number; timeoutMs?: number } = {}): Promise<UploadResult[]> {
  const results: UploadResult[] = new Array(uploads.length);
  let next = 0;
  const worker = async () => {
    while (next < uploads.length) {
      const i = next++;
      results[i] = await sftpPut(uploads[i], port, batchDir, opts.timeoutMs ?? 60_000);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, uploads.length) }, worker));
  return results;
}
