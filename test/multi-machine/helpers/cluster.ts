// Several `lotgate start` processes as separate machines would run them: each with its own data
// dir (SSH host key, spool, anchor file) and its own loopback address for the SFTP drop zone, all
// sharing one database (PostgreSQL), one Redis (a queue prefix of their own) and one shared folder
// holding the drop zone, the archive, the partners and the mappings.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import SftpClient from 'ssh2-sftp-client';
import { parse, stringify } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = path.join(ROOT, 'bin/lotgate.js');
export const REDIS_URL = process.env.LOTGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Resolves when `addr` can be bound on this machine (127.0.0.2 … need the whole 127/8 on lo). */
export function canBind(addr: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(0, addr, () => srv.close(() => resolve(true)));
  });
}

export interface Layout {
  dir: string;
  shared: string;
  dropDir: string;
  archiveDir: string;
  prefix: string;
  inbound(partner: string): string;
  outbound(partner: string): string;
}

/** The shared folder: partners, mappings and fixtures copied from the repository; drop and archive empty. */
export function makeLayout(): Layout {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-mm-'));
  const shared = path.join(dir, 'shared');
  for (const d of ['partners', 'mappings', 'fixtures']) cpSync(path.join(ROOT, d), path.join(shared, d), { recursive: true });
  const dropDir = path.join(shared, 'drop');
  const archiveDir = path.join(shared, 'archive');
  mkdirSync(dropDir, { recursive: true });
  mkdirSync(archiveDir, { recursive: true });
  return {
    dir,
    shared,
    dropDir,
    archiveDir,
    prefix: `mm-${process.pid}-${randomBytes(4).toString('hex')}`,
    inbound: (p) => path.join(dropDir, p, 'inbound'),
    outbound: (p) => path.join(dropDir, p, 'outbound'),
  };
}

export interface InstanceConfig {
  name: string;
  /** SFTP address; null: no sftp role (a reference config for `lotgate ingest`). */
  sftpHost: string | null;
  /** postgres:// URL written as store.url; undefined: none (SQLite in the data dir, or LOTGATE_DATABASE_URL). */
  storeUrl?: string;
  /** Extra top-level keys merged over the generated ones. */
  extra?: Record<string, unknown>;
}

/** Writes <dir>/<name>/config.yaml: the repository's demo config.yaml with the shared folders and fast timers. */
export function writeInstanceConfig(l: Layout, c: InstanceConfig): string {
  const base = parse(readFileSync(path.join(ROOT, 'config.yaml'), 'utf8')) as Record<string, any>;
  const home = path.join(l.dir, c.name);
  mkdirSync(home, { recursive: true });
  const cfg: Record<string, any> = {
    ...base,
    dataDir: path.join(home, 'data'),
    dropDir: l.dropDir,
    archiveDir: l.archiveDir,
    partnersDir: path.join(l.shared, 'partners'),
    mappingsDir: path.join(l.shared, 'mappings'),
    sftp: { ...base.sftp, host: c.sftpHost ?? '127.0.0.1', port: 0 },
    redis: { url: REDIS_URL },
    intake: { reconcileSeconds: 2, stableMs: 500, ackCsv: false },
    queue: { attempts: 3, backoffMs: 500, perPartnerConcurrency: 1, workers: 2, prefix: l.prefix, lockMs: 3000, stalledIntervalMs: 1500, shutdownGraceMs: 5000 },
    jobs: {
      ...base.jobs,
      leaseSeconds: 10,
      'readiness-sweep': { schedule: '*/2 * * * * *', batchSize: 200 },
      push: { ...base.jobs.push, schedule: '*/3 * * * * *' },
      'audit-anchor': { schedule: '*/4 * * * * *' },
      notify: { ...base.jobs.notify, enabled: false },
      pull: { ...base.jobs.pull, enabled: false },
      digest: { ...base.jobs.digest, enabled: false },
    },
    demo: true,
    ...(c.storeUrl ? { store: { url: c.storeUrl } } : {}),
    ...c.extra,
  };
  const file = path.join(home, 'config.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}

/** The environment of a child lotgate: nothing inherited that could point it elsewhere. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LOTGATE_') && k !== 'REDIS_URL') env[k] = v;
  return { ...env, LOTGATE_LOG_LEVEL: process.env.LOTGATE_TEST_LOG ?? 'info', ...extra };
}

export interface Instance {
  name: string;
  configPath: string;
  dataDir: string;
  host: string;
  env: NodeJS.ProcessEnv;
  proc: ChildProcess | null;
  port: number;
  /** stderr of every run of this instance (runs separated by a marker line). */
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  alive(): boolean;
  /** Spool files of files being mapped on a thread by this instance right now (<dataDir>/tmp). */
  spoolFiles(): string[];
}

export const ROLES = ['sftp', 'intake', 'worker', 'scheduler'];

export function makeInstance(name: string, configPath: string, host: string, env: NodeJS.ProcessEnv): Instance {
  const dataDir = path.join(path.dirname(configPath), 'data');
  const inst: Instance = {
    name,
    configPath,
    dataDir,
    host,
    env,
    proc: null,
    port: 0,
    stderr: '',
    exited: null,
    async start() {
      inst.stderr += `\n===== ${name} start ${new Date().toISOString()} =====\n`;
      const proc = spawn(process.execPath, [BIN, '--config', configPath, 'start', ...ROLES.flatMap((r) => ['--role', r])], {
        cwd: path.dirname(configPath),
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      inst.proc = proc;
      const from = inst.stderr.length;
      proc.stderr!.on('data', (d) => (inst.stderr += d));
      inst.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
      let exited = false;
      void inst.exited.then(() => (exited = true));
      const re = new RegExp(`sftp {7}${host.replace(/\./g, '\\.')}:(\\d+)[\\s\\S]*status {5}npx lotgate status`);
      const end = Date.now() + 90_000;
      for (;;) {
        const m = re.exec(inst.stderr.slice(from));
        if (m) {
          inst.port = Number(m[1]);
          return;
        }
        if (exited) throw new Error(`lotgate ${name} exited during start-up:\n${inst.stderr.slice(from)}`);
        if (Date.now() > end) throw new Error(`lotgate ${name} did not start within 90 s:\n${inst.stderr.slice(from)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill(signal = 'SIGKILL') {
      const p = inst.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      p.kill(signal);
      await inst.exited;
    },
    alive: () => !!inst.proc && inst.proc.exitCode === null && inst.proc.signalCode === null,
    spoolFiles() {
      const tmp = path.join(dataDir, 'tmp');
      return existsSync(tmp) ? readdirSync(tmp).filter((f) => f.startsWith('spool-')) : [];
    },
  };
  return inst;
}

export function partnerKey(partner: string): Buffer {
  return readFileSync(path.join(ROOT, 'fixtures/keys', partner));
}

export async function sftpSession(inst: Pick<Instance, 'host' | 'port'>, partner: string): Promise<SftpClient> {
  const c = new SftpClient();
  await c.connect({ host: inst.host, port: inst.port, username: partner, privateKey: partnerKey(partner), readyTimeout: 30_000 });
  return c;
}

/** Uploads the files one after the other in one session, as a partner's nightly job does. */
export async function uploadAll(inst: Pick<Instance, 'host' | 'port'>, partner: string, files: { name: string; body: Buffer }[]): Promise<void> {
  const c = await sftpSession(inst, partner);
  try {
    for (const f of files) await c.put(f.body, `/inbound/${f.name}`);
  } finally {
    await c.end();
  }
}

/** Starts an upload of `body`; returns when the put ends (or fails). */
export async function uploadStream(inst: Pick<Instance, 'host' | 'port'>, partner: string, name: string, body: Readable): Promise<void> {
  const c = await sftpSession(inst, partner);
  try {
    await c.put(body, `/inbound/${name}`);
  } finally {
    await c.end().catch(() => {});
  }
}

/** The per-submission acknowledgments in a partner's outbound/: `<name>.<id>.ack.json`. */
export function acksIn(outbound: string): { file: string; name: string; id: number; ack: any }[] {
  if (!existsSync(outbound)) return [];
  const out: { file: string; name: string; id: number; ack: any }[] = [];
  for (const f of readdirSync(outbound)) {
    const m = /^(.*)\.(\d+)\.ack\.json$/.exec(f);
    if (!m) continue;
    out.push({ file: f, name: m[1]!, id: Number(m[2]), ack: JSON.parse(readFileSync(path.join(outbound, f), 'utf8')) });
  }
  return out;
}

/** Upload temp files in a partner's inbound/ (`.<name>.<hex>.part`) with their size. */
export function tempUploads(inbound: string): { file: string; size: number; mtimeMs: number }[] {
  if (!existsSync(inbound)) return [];
  return readdirSync(inbound)
    .filter((f) => f.startsWith('.') && f.endsWith('.part'))
    .map((f) => {
      const st = statSync(path.join(inbound, f), { throwIfNoEntry: false });
      return { file: f, size: st?.size ?? 0, mtimeMs: st?.mtimeMs ?? 0 };
    });
}

/** Removes this test's queues from the shared Redis. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  r.on('error', () => {});
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

export function cleanup(l: Layout): void {
  rmSync(l.dir, { recursive: true, force: true });
}

/**
 * Rows of Bravo's LIMS export (long format): `rows` final pH results for lot NW26-0411, sample ids
 * from `first` on so that files never share a sample. `pad` characters of method text make a row
 * longer (a file from 1 MiB on is mapped on a thread of its own, spooled under <dataDir>/tmp).
 */
export function limsRows(first: number, rows: number, pad = 0): string[] {
  const out: string[] = [];
  const method = `BL-M-0200${pad ? ' ' + 'r'.repeat(pad) : ''}`;
  for (let i = first; i < first + rows; i++) {
    out.push(`S27-${String(i).padStart(7, '0')},NW26-0411,AC-24117,Metformin HCl 500 mg FCT,PH,pH (1% solution),${method},${(6 + (i % 20) / 10).toFixed(1)},,5.0,8.0,Final,J. Ramirez,10/21/26 9:42 AM`);
  }
  return out;
}

export const LIMS_HEADER = 'Sample ID,Lot Number,Mfr Batch,Product,Test Code,Test Name,Method,Result,Units,Spec Low,Spec High,Status,Analyst,Tested On';

export function limsCsv(first: number, rows: number, pad = 0): string {
  return [LIMS_HEADER, ...limsRows(first, rows, pad)].join('\n') + '\n';
}
