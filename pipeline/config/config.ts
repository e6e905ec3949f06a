// Loads config.yaml, applies defaults and environment overrides, resolves paths.
// The result is plain data handed to createLotgate(); nothing here is global.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { ReadinessConfig } from '../readiness/rule-set.js';
import { parseReadinessConfig } from '../readiness/rule-set.js';

export interface LotgateConfig {
  /** Folder of the config file; relative paths in it are resolved against this. */
  baseDir: string;
  configPath: string | null;
  dataDir: string;
  dropDir: string;
  partnersDir: string;
  mappingsDir: string;
  sftp: {
    host: string;
    port: number;
    loginGraceSeconds: number;
    defender: { maxFailures: number; windowSeconds: number; banSeconds: number };
  };
  redis: { url: string; fromEnv: boolean };
  intake: { reconcileSeconds: number; stableMs: number; ackCsv: boolean };
  queue: {
    attempts: number;
    backoffMs: number;
    perPartnerConcurrency: number;
    workers: number;
    /** Redis key prefix of the queues (several installations can share one Redis). */
    prefix?: string;
    lockMs?: number;
    stalledIntervalMs?: number;
    shutdownGraceMs?: number;
  };
  readiness: ReadinessConfig;
  /** Sections owned by later parts (jobs, connectors, notifications), kept as parsed. */
  jobs: Record<string, unknown>;
  connectors: unknown[];
  notifications: Record<string, unknown>;
  publicUrl: string;
  /** The HTTP API (pipeline/api). */
  http: {
    host: string;
    port: number;
    /** Fastify trustProxy: false (default), true, a hop count, or addresses/CIDRs of the proxy. */
    trustProxy: boolean | number | string | string[];
    /** Cookies marked Secure: default when publicUrl is https (TLS at the reverse proxy). */
    secureCookies: boolean;
    /** Addresses/CIDRs allowed to read /metrics, /livez, /readyz (empty = anyone who reaches the port). */
    opsAllow: string[];
    /** Largest file a partner may POST to /api/v1/submissions. */
    maxUploadBytes: number;
  };
  auth: {
    maxFailedLogins: number;
    lockoutMinutes: number;
    sessionIdleMinutes: number;
    sessionAbsoluteHours: number;
    tokenMaxDays: number;
    /** Time zone shown next to UTC on signatures (the site's; default: this server's). */
    timeZone: string;
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigOverrides {
  configPath?: string;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
}

type Raw = Record<string, any>;

function num(v: unknown, fallback: number, where: string): number {
  if (v === undefined || v === null) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`${where} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Reads the configuration. Without an explicit path, ./config.yaml is used when it exists,
 * else embedded defaults (so `lotgate` works from any folder).
 */
export function loadConfig(over: ConfigOverrides = {}): LotgateConfig {
  const env = over.env ?? process.env;
  const explicit = over.configPath ?? env.LOTGATE_CONFIG;
  const candidate = path.resolve(explicit ?? 'config.yaml');
  let raw: Raw = {};
  let configPath: string | null = null;
  if (existsSync(candidate)) {
    configPath = candidate;
    const doc = YAML.parseDocument(readFileSync(candidate, 'utf8'), { prettyErrors: true });
    if (doc.errors.length) {
      const e = doc.errors[0];
      const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [0, 0];
      throw new ConfigError(`${candidate}:${line}:${col}: ${e.message.split('\n')[0]}`);
    }
    raw = (doc.toJS() ?? {}) as Raw;
  } else if (explicit) {
    throw new ConfigError(`configuration file not found: ${candidate} (check --config / LOTGATE_CONFIG)`);
  }
  const baseDir = configPath ? path.dirname(configPath) : process.cwd();
  const rel = (p: unknown, fallback: string) => path.resolve(baseDir, typeof p === 'string' && p ? p : fallback);

  const dataDir = over.dataDir ? path.resolve(over.dataDir) : env.LOTGATE_DATA_DIR ? path.resolve(env.LOTGATE_DATA_DIR) : rel(raw.dataDir, './data');
  // The drop zone sits in the data dir unless configured elsewhere.
  const dropDir = raw.dropDir ? rel(raw.dropDir, '') : path.join(dataDir, 'drop');

  const sftp = raw.sftp ?? {};
  const def = sftp.defender ?? {};
  const intake = raw.intake ?? {};
  const queue = raw.queue ?? {};
  const parsed = parseReadinessConfig(raw.readiness ?? null);
  if (!parsed.ok) throw new ConfigError(`${configPath ?? 'config'}: readiness: ${parsed.problems.join('; ')}`);
  const readiness = parsed.config;

  const port = env.LOTGATE_SFTP_PORT ? num(env.LOTGATE_SFTP_PORT, 2222, 'LOTGATE_SFTP_PORT') : num(sftp.port, 2222, 'sftp.port');
  return {
    baseDir,
    configPath,
    dataDir,
    dropDir,
    partnersDir: rel(raw.partnersDir, './partners'),
    mappingsDir: rel(raw.mappingsDir, './mappings'),
    sftp: {
      host: typeof sftp.host === 'string' ? sftp.host : '127.0.0.1',
      port,
      loginGraceSeconds: num(sftp.loginGraceSeconds, 30, 'sftp.loginGraceSeconds'),
      defender: {
        maxFailures: num(def.maxFailures, 5, 'sftp.defender.maxFailures'),
        windowSeconds: num(def.windowSeconds, 300, 'sftp.defender.windowSeconds'),
        banSeconds: num(def.banSeconds, 900, 'sftp.defender.banSeconds'),
      },
    },
    redis: env.REDIS_URL ? { url: env.REDIS_URL, fromEnv: true } : { url: raw.redis?.url ?? 'redis://127.0.0.1:6379', fromEnv: false },
    intake: {
      reconcileSeconds: num(intake.reconcileSeconds, 60, 'intake.reconcileSeconds'),
      stableMs: num(intake.stableMs, 1000, 'intake.stableMs'),
      ackCsv: intake.ackCsv !== false,
    },
    queue: {
      attempts: num(queue.attempts, 3, 'queue.attempts'),
      backoffMs: num(queue.backoffMs, 2000, 'queue.backoffMs'),
      perPartnerConcurrency: num(queue.perPartnerConcurrency, 1, 'queue.perPartnerConcurrency'),
      workers: num(queue.workers, 2, 'queue.workers'),
      prefix: typeof queue.prefix === 'string' ? queue.prefix : undefined,
      lockMs: queue.lockMs === undefined ? undefined : num(queue.lockMs, 30_000, 'queue.lockMs'),
      stalledIntervalMs: queue.stalledIntervalMs === undefined ? undefined : num(queue.stalledIntervalMs, 30_000, 'queue.stalledIntervalMs'),
      shutdownGraceMs: queue.shutdownGraceMs === undefined ? undefined : num(queue.shutdownGraceMs, 10_000, 'queue.shutdownGraceMs'),
    },
    readiness,
    jobs: raw.jobs ?? {},
    connectors: Array.isArray(raw.connectors) ? raw.connectors : [],
    notifications: raw.notifications ?? {},
    publicUrl: typeof raw.publicUrl === 'string' ? raw.publicUrl : 'http://localhost:8080',
    http: httpConfig(raw.http ?? {}, env, typeof raw.publicUrl === 'string' ? raw.publicUrl : ''),
    auth: {
      maxFailedLogins: num(raw.auth?.maxFailedLogins, 5, 'auth.maxFailedLogins'),
      lockoutMinutes: num(raw.auth?.lockoutMinutes, 15, 'auth.lockoutMinutes'),
      sessionIdleMinutes: num(raw.auth?.sessionIdleMinutes, 30, 'auth.sessionIdleMinutes'),
      sessionAbsoluteHours: num(raw.auth?.sessionAbsoluteHours, 12, 'auth.sessionAbsoluteHours'),
      tokenMaxDays: num(raw.auth?.tokenMaxDays, 365, 'auth.tokenMaxDays'),
      timeZone: typeof raw.auth?.timeZone === 'string' ? raw.auth.timeZone : Intl.DateTimeFormat().resolvedOptions().timeZone,
    },
  };
}

function httpConfig(h: Raw, env: NodeJS.ProcessEnv, publicUrl: string): LotgateConfig['http'] {
  const tp = h.trustProxy;
  if (tp !== undefined && !['boolean', 'number', 'string'].includes(typeof tp) && !(Array.isArray(tp) && tp.every((x) => typeof x === 'string'))) {
    throw new ConfigError(`http.trustProxy must be true/false, a hop count, or proxy addresses; got ${JSON.stringify(tp)}`);
  }
  return {
    host: typeof h.host === 'string' ? h.host : '127.0.0.1',
    port: env.LOTGATE_HTTP_PORT ? num(env.LOTGATE_HTTP_PORT, 8080, 'LOTGATE_HTTP_PORT') : num(h.port, 8080, 'http.port'),
    trustProxy: (tp as LotgateConfig['http']['trustProxy'] | undefined) ?? false,
    secureCookies: typeof h.secureCookies === 'boolean' ? h.secureCookies : publicUrl.startsWith('https:'),
    opsAllow: Array.isArray(h.opsAllow) ? h.opsAllow.map(String) : [],
    maxUploadBytes: num(h.maxUploadMB, 256, 'http.maxUploadMB') * 1024 * 1024,
  };
}
