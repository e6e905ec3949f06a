// A private redis-server for installations without one: loopback only, a free port, data and
// append-only file under <dataDir>/redis. Its address is written to <dataDir>/redis/server.json
// so other lotgate processes of the same data dir (`lotgate status`, a worker started separately)
// find it. Started in its own process group so Ctrl-C in the terminal reaches lotgate first,
// which stops Redis last, after the workers have handed their jobs back.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { Redis } from 'ioredis';

export interface PrivateRedisRecord {
  url: string;
  port: number;
  pid: number;
  /** The lotgate process that stops it on shutdown. */
  ownerPid: number;
  dir: string;
  startedAt: string;
}

export interface PrivateRedis {
  url: string;
  port: number;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

export function privateRedisDir(dataDir: string): string {
  return path.join(dataDir, 'redis');
}

function recordPath(dataDir: string): string {
  return path.join(privateRedisDir(dataDir), 'server.json');
}

export function readPrivateRedisRecord(dataDir: string): PrivateRedisRecord | null {
  try {
    const r = JSON.parse(readFileSync(recordPath(dataDir), 'utf8')) as PrivateRedisRecord;
    return typeof r.url === 'string' && Number.isInteger(r.pid) ? r : null;
  } catch {
    return null;
  }
}

function writeRecord(dataDir: string, rec: PrivateRedisRecord): void {
  const file = recordPath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(rec, null, 2) + '\n');
  renameSync(tmp, file);
}

function removeRecord(dataDir: string, pid: number): void {
  const rec = readPrivateRedisRecord(dataDir);
  if (rec && rec.pid === pid) rmSync(recordPath(dataDir), { force: true });
}

/** A TCP port free on loopback right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

export interface StartPrivateRedisOptions {
  dataDir: string;
  log: Logger;
  /** Take over a running server whose owner died, instead of starting one. */
  adopt?: PrivateRedisRecord;
  redisServer?: string;
  /** Fixed port (default: a free one). */
  port?: number;
}

function spawnServer(bin: string, port: number, dir: string): ChildProcess {
  return spawn(
    bin,
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--appendonly', 'yes',
      '--save', '',
      '--daemonize', 'no',
      '--protected-mode', 'yes',
      '--logfile', path.join(dir, 'redis.log'),
    ],
    { detached: true, stdio: 'ignore' },
  );
}

/** Resolves once the new server answers PING; rejects (code ENOENT when redis-server is not installed) otherwise. */
async function launch(bin: string, port: number, dir: string): Promise<ChildProcess> {
  const child = spawnServer(bin, port, dir);
  const url = `redis://127.0.0.1:${port}`;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: NodeJS.ErrnoException | null = null;
  child.once('error', (err) => {
    spawnError = err as NodeJS.ErrnoException;
  });
  child.once('exit', (code, signal) => {
    exited = { code, signal };
  });
  const ok = await waitFor(async () => spawnError !== null || exited !== null || (await answers(url)), 10_000, 50);
  if (spawnError) throw spawnError;
  if (exited || !ok) {
    if (!exited) child.kill('SIGKILL');
    const log = tail(path.join(dir, 'redis.log'));
    throw new Error(`redis-server on port ${port} did not start${exited ? ` (exit ${JSON.stringify(exited)})` : ''}${log ? `:\n${log}` : ''}`);
  }
  child.unref();
  return child;
}

export async function startPrivateRedis(opts: StartPrivateRedisOptions): Promise<PrivateRedis> {
  const dir = privateRedisDir(opts.dataDir);
  mkdirSync(dir, { recursive: true });
  const bin = opts.redisServer ?? 'redis-server';
  const log = opts.log;

  if (opts.adopt) {
    const rec = { ...opts.adopt, ownerPid: process.pid };
    writeRecord(opts.dataDir, rec);
    return {
      url: rec.url,
      port: rec.port,
      pid: rec.pid,
      dir,
      stop: async () => {
        if (pidAlive(rec.pid)) {
          process.kill(rec.pid, 'SIGTERM');
          if (!(await waitFor(() => !pidAlive(rec.pid), 10_000))) process.kill(rec.pid, 'SIGKILL');
        }
        removeRecord(opts.dataDir, rec.pid);
      },
    };
  }

  let port = opts.port ?? (await freePort());
  let child: ChildProcess | null = null;
  for (let attempt = 1; ; attempt++) {
    try {
      child = await launch(bin, port, dir);
      break;
    } catch (err) {
      // Another program may have taken the free port between our probe and redis' bind.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || opts.port !== undefined || attempt >= 3) throw err;
      port = await freePort();
    }
  }
  const url = `redis://127.0.0.1:${port}`;
  let current: ChildProcess = child;
  let stopping = false;
  let restarts = 0;
  const rec = (): PrivateRedisRecord => ({ url, port, pid: current.pid ?? 0, ownerPid: process.pid, dir, startedAt: new Date().toISOString() });
  writeRecord(opts.dataDir, rec());

  // Redis dying under us is survivable (the ledger is the truth): bring it back on the same port
  // with its append-only file, and the reconciler re-queues whatever got lost.
  const supervise = (c: ChildProcess) => {
    c.once('exit', (code, signal) => {
      if (stopping) return;
      log.error({ code, signal, log: tail(path.join(dir, 'redis.log'), 3) }, 'private redis-server stopped unexpectedly; restarting it');
      if (++restarts > 10) {
        log.error('private redis-server keeps stopping; not restarting it again');
        return;
      }
      setTimeout(() => {
        if (stopping) return;
        launch(bin, port, dir).then(
          (next) => {
            current = next;
            writeRecord(opts.dataDir, rec());
            supervise(next);
            log.info({ redis: url }, 'private redis-server is back');
          },
          (err) => log.error({ err: (err as Error).message }, 'private redis-server could not be restarted'),
        );
      }, 500).unref();
    });
  };
  supervise(current);

  return {
    url,
    port,
    get pid() {
      return current.pid ?? 0;
    },
    dir,
    stop: async () => {
      stopping = true;
      const pid = current.pid ?? 0;
      if (current.exitCode === null && current.signalCode === null) {
        const gone = new Promise<void>((r) => current.once('exit', () => r()));
        // SIGTERM: redis fsyncs the append-only file and exits.
        current.kill('SIGTERM');
        const t = setTimeout(() => current.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(t);
      }
      removeRecord(opts.dataDir, pid);
    },
  };
}

/** True when a private server record exists and its process is alive (for status output). */
export function privateRedisRunning(dataDir: string): PrivateRedisRecord | null {
  const rec = readPrivateRedisRecord(dataDir);
  return rec && existsSync(recordPath(dataDir)) && pidAlive(rec.pid) ? rec : null;
}
