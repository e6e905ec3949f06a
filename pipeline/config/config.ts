// Loads config.yaml, validates it as a whole against the schema (schema.ts, check.ts) before
// anything starts, applies defaults and environment overrides, resolves paths.
// The result is plain data handed to createLotgate(); nothing here is global.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ReadinessConfig } from '../readiness/rule-set.js';
import { parseReadinessConfig } from '../readiness/rule-set.js';
import { isValidZone, machineZone } from '../model/local-time.js';
import { databaseKind, sqlitePath } from '../store/url.js';
import { checkConfig, formatIssue, parseConfigText, type CheckOptions, type ConfigIssue } from './check.js';

export interface LotgateConfig {
  /** Folder of the config file; relative paths in it are resolved against this. */
  baseDir: string;
  configPath: string | null;
  dataDir: string;
  dropDir: string;
  /** The content-addressed archive of originals (default <dataDir>/archive; a shared folder when several machines run workers). */
  archiveDir: string;
  /** The database: a postgres:// URL, or a SQLite file (default <dataDir>/lotgate.db). */
  store: { url: string; fromEnv: boolean };
  partnersDir: string;
  mappingsDir: string;
  sftp: {
    host: string;
    port: number;
    loginGraceSeconds: number;
    defender: { maxFailures: number; windowSeconds: number; banSeconds: number };
    /** Before login: connections at once per IP, and audit rows per IP and window (then one summary). */
    preauth: { maxConnectionsPerIp: number; auditEventsPerIp: number; auditWindowSeconds: number };
  };
  redis: { url: string; fromEnv: boolean };
  intake: {
    reconcileSeconds: number;
    stableMs: number;
    ackCsv: boolean;
    /** A drop-zone upload temp file unchanged this long is a stranded upload (answered E_PARTIAL_UPLOAD). */
    partialStaleSeconds?: number;
  };
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
  /** Per-file limits (defaults for every partner; partner files may set their own) and the spool of mapped rows. */
  ingest?: { limits?: { maxRows?: number; maxErrors?: number }; spoolMemoryBytes?: number; parseThreadMinBytes?: number; writerHeapBudgetMb?: number };
  /** Graceful stop: running files get this long to finish after SIGTERM, then they are handed back. */
  shutdown?: { graceSeconds?: number };
  readiness: ReadinessConfig;
  /** Sections owned by later parts (jobs, connectors, notifications), kept as parsed. */
  jobs: Record<string, unknown>;
  connectors: unknown[];
  notifications: Record<string, unknown>;
  publicUrl: string;
  /** Where the head of the audit chain is anchored outside the database (pipeline/audit/anchors.ts). */
  audit: { anchorFile: string };
  /**
   * Demo mode: the drop zone may serve partner files carrying the published demo keys or
   * password (`lotgate demo`, `demo: true`, LOTGATE_DEMO=1). Never in production.
   */
  demo: boolean;
  /** The sponsor's IANA time zone: CLI output, and acknowledgments of partners without their own. */
  timezone: string;
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
  /** Every problem found, located (empty for errors raised outside the file check). */
  readonly issues: ConfigIssue[];
  constructor(message: string, issues: ConfigIssue[] = []) {
    super(message);
    this.name = 'ConfigError';
    this.issues = issues;
  }

  static of(issues: ConfigIssue[]): ConfigError {
    const head = issues.length === 1 ? '' : `${issues.length} problems in the configuration (npx lotgate config check lists them):\n`;
    return new ConfigError(head + issues.map(formatIssue).join('\n'), issues);
  }
}

export interface ConfigOverrides {
  configPath?: string;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * The sections other parts own (jobs, connectors, notifications) and extra checks (cron
   * expressions, time zones), from the composition root. Without them those sections are only
   * checked for their shape; every other key is always checked.
   */
  check?: CheckOptions;
}

type Raw = Record<string, any>;

function num(v: unknown, fallback: number, where: string): number {
  if (v === undefined || v === null) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`${where} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function zone(v: unknown, configPath: string | null): string {
  if (v === undefined || v === null) return machineZone();
  if (typeof v !== 'string' || !isValidZone(v)) {
    throw new ConfigError(`${configPath ?? 'config'}: timezone: ${JSON.stringify(v)} is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)`);
  }
  return v;
}

/** A path as an operator would type it: relative to the working directory when inside it. */
function shownPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** LOTGATE_DATABASE_URL, else store.url (a relative SQLite path is the config file's), else <dataDir>/lotgate.db. */
function storeUrl(url: unknown, env: NodeJS.ProcessEnv, dataDir: string, rel: (p: unknown, fallback: string) => string): LotgateConfig['store'] {
  if (env.LOTGATE_DATABASE_URL) return { url: env.LOTGATE_DATABASE_URL, fromEnv: true };
  if (typeof url !== 'string' || !url) return { url: path.join(dataDir, 'lotgate.db'), fromEnv: false };
  return { url: databaseKind(url) === 'postgres' ? url : rel(sqlitePath(url), ''), fromEnv: false };
}

/**
 * Reads the configuration. Without an explicit path, ./config.yaml is used when it exists,
 * else embedded defaults (so `lotgate` works from any folder).
 */
export function loadConfig(over: ConfigOverrides = {}): LotgateConfig {
  const env = over.env ?? process.env;
  const explicit = over.configPath || env.LOTGATE_CONFIG || undefined;
  const candidate = path.resolve(explicit ?? 'config.yaml');
  let raw: Raw = {};
  let configPath: string | null = null;
  if (existsSync(candidate)) {
    configPath = candidate;
    const src = parseConfigText(readFileSync(candidate, 'utf8'), shownPath(candidate));
    if (!('doc' in src)) throw ConfigError.of([src]);
    raw = (src.doc.toJS() ?? {}) as Raw;
    const issues = checkConfig(raw, src, over.check);
    if (issues.length) throw ConfigError.of(issues);
  } else if (explicit) {
    throw ConfigError.of([{ code: 'E_CONFIG_NOT_FOUND', path: '', file: shownPath(candidate), line: 0, col: 0, message: `configuration file not found: ${candidate} (check --config / LOTGATE_CONFIG)` }]);
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
    archiveDir: raw.archiveDir ? rel(raw.archiveDir, '') : path.join(dataDir, 'archive'),
    store: storeUrl(raw.store?.url, env, dataDir, rel),
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
      preauth: {
        maxConnectionsPerIp: num(sftp.preauth?.maxConnectionsPerIp, 10, 'sftp.preauth.maxConnectionsPerIp'),
        auditEventsPerIp: num(sftp.preauth?.auditEventsPerIp, 20, 'sftp.preauth.auditEventsPerIp'),
        auditWindowSeconds: num(sftp.preauth?.auditWindowSeconds, 60, 'sftp.preauth.auditWindowSeconds'),
      },
    },
    redis: env.REDIS_URL ? { url: env.REDIS_URL, fromEnv: true } : { url: raw.redis?.url ?? 'redis://127.0.0.1:6379', fromEnv: false },
    intake: {
      reconcileSeconds: num(intake.reconcileSeconds, 60, 'intake.reconcileSeconds'),
      stableMs: num(intake.stableMs, 1000, 'intake.stableMs'),
      ackCsv: intake.ackCsv !== false,
      partialStaleSeconds: num(intake.partialStaleSeconds, 3600, 'intake.partialStaleSeconds'),
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
    ingest: {
      limits: {
        ...(raw.ingest?.limits?.maxRows !== undefined ? { maxRows: num(raw.ingest.limits.maxRows, 0, 'ingest.limits.maxRows') } : {}),
        ...(raw.ingest?.limits?.maxErrors !== undefined ? { maxErrors: num(raw.ingest.limits.maxErrors, 0, 'ingest.limits.maxErrors') } : {}),
      },
      ...(raw.ingest?.spoolMemoryBytes !== undefined ? { spoolMemoryBytes: num(raw.ingest.spoolMemoryBytes, 0, 'ingest.spoolMemoryBytes') } : {}),
      ...(raw.ingest?.parseThreadMinBytes !== undefined ? { parseThreadMinBytes: num(raw.ingest.parseThreadMinBytes, 0, 'ingest.parseThreadMinBytes') } : {}),
      ...(raw.ingest?.writerHeapBudgetMb !== undefined ? { writerHeapBudgetMb: num(raw.ingest.writerHeapBudgetMb, 0, 'ingest.writerHeapBudgetMb') } : {}),
    },
    shutdown: raw.shutdown?.graceSeconds === undefined ? {} : { graceSeconds: num(raw.shutdown.graceSeconds, 30, 'shutdown.graceSeconds') },
    readiness,
    jobs: raw.jobs ?? {},
    connectors: Array.isArray(raw.connectors) ? raw.connectors : [],
    notifications: raw.notifications ?? {},
    publicUrl: typeof raw.publicUrl === 'string' ? raw.publicUrl : 'http://localhost:8080',
    audit: { anchorFile: typeof raw.audit?.anchorFile === 'string' && raw.audit.anchorFile ? rel(raw.audit.anchorFile, '') : path.join(dataDir, 'audit-anchors.log') },
    demo: raw.demo === true || env.LOTGATE_DEMO === '1' || env.LOTGATE_DEMO === 'true',
    timezone: zone(raw.timezone, configPath),
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
