// Which Redis lotgate uses (DESIGN §7): REDIS_URL when set; else the configured URL if it
// answers; else a private redis-server under the data dir (shared by every lotgate process of
// that data dir); else a clear message what to install or set.

import { connect } from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import { redactUrl } from './redact-url.js';

export { redactUrl };
import { startPrivateRedis, readPrivateRedisRecord, type PrivateRedis } from './private-redis.js';

export type RedisSource = 'env' | 'config' | 'private';

export interface RedisHandle {
  url: string;
  source: RedisSource;
  version: string;
  /** True when this process started (or adopted) the private redis-server and stops it on shutdown. */
  owned: boolean;
  /** Stops the private redis-server if this process owns it; otherwise nothing. */
  stop(): Promise<void>;
}

export const REDIS_MISSING_MESSAGE =
  'lotgate needs Redis: install redis-server (apt-get install redis-server) or set REDIS_URL=redis://host:port';

export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

export type PingResult = { ok: true; version: string; latencyMs: number } | { ok: false; error: string };

/**
 * Plain TCP first: a refused port is the common case (nothing running), and ioredis keeps the
 * process alive for seconds after a failed connect, which would make `lotgate status` slow.
 */
function tcpProbe(url: string, timeoutMs: number): Promise<string | null> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve(null);
  }
  if (u.protocol !== 'redis:') return Promise.resolve(null);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port || 6379);
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (err: string | null) => {
      sock.destroy();
      resolve(err);
    };
    sock.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    sock.once('connect', () => done(null));
    sock.once('error', (err) => done(err.message));
  });
}

/** One connection attempt, INFO server, disconnect — within timeoutMs, never retrying. */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<PingResult> {
  const started = Date.now();
  const refused = await tcpProbe(url, timeoutMs);
  if (refused) return { ok: false, error: refused };
  let client: Redis | null = null;
  let timer: NodeJS.Timeout | undefined;
  let lastError: Error | null = null;
  try {
    client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', (err: Error) => {
      // The socket error (ECONNREFUSED, ENOTFOUND, auth) says more than "Connection is closed".
      lastError = err;
    });
    const c = client;
    const work = (async () => {
      await c.connect();
      const info = await c.info('server');
      return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    })();
    const version = await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, version, latencyMs: Date.now() - started };
  } catch (err) {
    const best = (lastError as Error | null) ?? (err as Error);
    return { ok: false, error: best.message || String(err) };
  } finally {
    clearTimeout(timer);
    client?.disconnect();
  }
}

export interface ResolveRedisOptions {
  env?: NodeJS.ProcessEnv;
  pingTimeoutMs?: number;
  /** Executable of the private server (default: `redis-server` from PATH). */
  redisServer?: string;
}

export async function resolveRedis(config: LotgateConfig, log: Logger, opts: ResolveRedisOptions = {}): Promise<RedisHandle> {
  const env = opts.env ?? process.env;
  const timeout = opts.pingTimeoutMs ?? 1000;
  const none = async () => {};

  if (env.REDIS_URL) {
    // An explicit choice is never silently replaced by something else.
    const r = await pingRedis(env.REDIS_URL, Math.max(timeout, 3000));
    if (!r.ok) throw new RedisUnavailableError(`REDIS_URL=${redactUrl(env.REDIS_URL)} does not answer (${r.error}). Start that Redis, fix REDIS_URL, or unset it to let lotgate run a private redis-server.`);
    log.info({ redis: redactUrl(env.REDIS_URL), version: r.version }, 'using Redis from REDIS_URL');
    return { url: env.REDIS_URL, source: 'env', version: r.version, owned: false, stop: none };
  }

  const configured = config.redis.url;
  if (configured) {
    const r = await pingRedis(configured, timeout);
    if (r.ok) {
      log.info({ redis: redactUrl(configured), version: r.version }, 'using the configured Redis');
      return { url: configured, source: 'config', version: r.version, owned: false, stop: none };
    }
    log.info({ redis: redactUrl(configured), reason: r.error }, 'configured Redis does not answer; using a private redis-server');
  }

  // A private server another lotgate process of this data dir already runs.
  const rec = readPrivateRedisRecord(config.dataDir);
  if (rec) {
    const r = await pingRedis(rec.url, timeout);
    if (r.ok) {
      const ownerAlive = isAlive(rec.ownerPid);
      log.info({ redis: rec.url, pid: rec.pid, owner: rec.ownerPid, ownerAlive }, 'using the private redis-server of this data dir');
      if (ownerAlive) return { url: rec.url, source: 'private', version: r.version, owned: false, stop: none };
      // Its owner died without stopping it: adopt it so it is stopped when we are.
      const adopted = await startPrivateRedis({ dataDir: config.dataDir, log, adopt: rec, redisServer: opts.redisServer });
      return handleOf(adopted, r.version);
    }
  }

  let priv: PrivateRedis;
  try {
    priv = await startPrivateRedis({ dataDir: config.dataDir, log, redisServer: opts.redisServer });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RedisUnavailableError(REDIS_MISSING_MESSAGE);
    throw new RedisUnavailableError(`${REDIS_MISSING_MESSAGE}\n(starting a private redis-server failed: ${(err as Error).message})`);
  }
  const r = await pingRedis(priv.url, 2000);
  log.warn({ redis: priv.url, dir: priv.dir, pid: priv.pid }, 'no Redis configured or reachable: started a private redis-server (append-only file under the data dir); set REDIS_URL to use your own');
  return handleOf(priv, r.ok ? r.version : 'unknown');
}

function handleOf(priv: PrivateRedis, version: string): RedisHandle {
  return { url: priv.url, source: 'private', version, owned: true, stop: () => priv.stop() };
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
