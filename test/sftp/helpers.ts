// Shared fixtures for the drop-zone tests: temp dirs, ssh-keygen keys, a running server on
// 127.0.0.1:0 that records what it reports, and an OpenSSH `sftp -b` runner.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import pino from 'pino';
import ssh2 from 'ssh2';
import { createDropZone, type DropZone, type DropZoneOptions, type UploadedFile, type PartialFile } from '../../pipeline/sftp/drop-zone.js';
import type { PartnerConfig } from '../../pipeline/model/types.js';

export interface AuditEvent {
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

export function tempDir(prefix = 'lotgate-sftp-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface KeyPair {
  privatePath: string;
  publicLine: string;
}

export function sshKeygen(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): KeyPair {
  const privatePath = join(dir, name);
  const args = ['-q', '-t', type, '-N', '', '-C', `${name}@test`, '-f', privatePath];
  if (type === 'rsa') args.push('-b', '3072');
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  return { privatePath, publicLine: readFileSync(`${privatePath}.pub`, 'utf8').trim() };
}

export function partner(id: string, sftp: PartnerConfig['sftp']): PartnerConfig {
  return { id, name: id, role: 'cmo', mode: 'live', sites: [], products: [], feeds: [], sftp };
}

export interface Harness {
  zone: DropZone;
  port: number;
  dropDir: string;
  dir: string;
  partners: Map<string, PartnerConfig>;
  uploaded: UploadedFile[];
  partials: PartialFile[];
  audit: AuditEvent[];
  close(): Promise<void>;
}

export async function startZone(over: Omit<Partial<DropZoneOptions>, 'partners'> & { partners: Map<string, PartnerConfig>; dir?: string }): Promise<Harness> {
  const dir = over.dir ?? tempDir();
  const dropDir = join(dir, 'drop');
  const uploaded: UploadedFile[] = [];
  const partials: PartialFile[] = [];
  const audit: AuditEvent[] = [];
  const partners = over.partners;
  const zone = createDropZone({
    dropDir,
    host: '127.0.0.1',
    port: 0,
    hostKeyPath: join(dir, 'host_ed25519'),
    log: pino({ level: process.env.SFTP_TEST_LOG ?? 'silent' }),
    audit: (e) => audit.push(e),
    onUploaded: (u) => uploaded.push(u),
    onPartial: (u) => partials.push(u),
    ...(({ partners: _p, dir: _d, ...rest }) => rest)(over),
    partners: () => partners,
  });
  const { port } = await zone.listen();
  return {
    zone,
    port,
    dropDir,
    dir,
    partners,
    uploaded,
    partials,
    audit,
    async close() {
      await zone.close();
    },
  };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface SftpRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function sftpArgs(port: number, key: string | null, user: string, batchFile: string, extra: string[] = []): string[] {
  return [
    '-b',
    batchFile,
    '-P',
    String(port),
    ...(key ? ['-i', key, '-o', 'IdentitiesOnly=yes'] : []),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    ...extra,
    `${user}@127.0.0.1`,
  ];
}

/** Run OpenSSH `sftp -b` with the given batch commands. */
function batchFile(commands: string[]): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lotgate-batch-'));
  const path = join(dir, 'batch');
  writeFileSync(path, commands.join('\n') + '\n');
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function runSftp(port: number, key: string | null, user: string, commands: string[], opts: { cwd?: string; extra?: string[] } = {}): Promise<SftpRun> {
  const batch = batchFile(commands);
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/sftp', sftpArgs(port, key, user, batch.path, opts.extra), { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      batch.remove();
      resolve({ code, stdout, stderr });
    });
  });
}

export function spawnSftp(port: number, key: string, user: string, commands: string[], cwd?: string, extra: string[] = []): ChildProcess {
  const batch = batchFile(commands);
  const child = spawn('/usr/bin/sftp', sftpArgs(port, key, user, batch.path, extra), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.on('close', () => batch.remove());
  return child;
}

/** Resolve when `pred` holds, polling; rejects after `ms` (a safety net, not a timing assertion). */
export async function waitFor<T>(pred: () => T | undefined | null | false, ms = 20_000, what = 'condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Tries one SSH login with ssh2's client; resolves 'ok' or the error message ('closed' when the server hung up). */
export function tryLogin(port: number, opts: Record<string, unknown>): Promise<string> {
  return new Promise((resolve) => {
    const c = new ssh2.Client();
    let done = false;
    const finish = (v: string) => {
      if (done) return;
      done = true;
      c.end();
      resolve(v);
    };
    c.on('ready', () => finish('ok'));
    c.on('error', (err: Error) => finish(err.message));
    c.on('close', () => finish('closed'));
    c.connect({ host: '127.0.0.1', port, readyTimeout: 10_000, ...opts });
  });
}
