// Queue naming and tuning. Names are pure functions; tuning comes from config.queue with
// environment overrides, so tests and several installations can share one Redis.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LotgateConfig } from '../config/config.js';

export const QUEUE_PREFIX_DEFAULT = 'lotgate';

/** One queue per partner. BullMQ forbids ':' in queue names (its key separator); partner ids are [a-z0-9-]. */
export function queueName(partner: string): string {
  if (!partner || partner.includes(':')) throw new Error(`invalid partner id for a queue name: ${JSON.stringify(partner)}`);
  return `ingest.${partner}`;
}

export function partnerOfQueue(name: string): string | null {
  return name.startsWith('ingest.') && name.length > 'ingest.'.length ? name.slice('ingest.'.length) : null;
}

/** The job id of a submission: adding it again while the job exists is a no-op (BullMQ dedupes on id). */
export function jobIdFor(submissionId: number): string {
  return `sub-${submissionId}`;
}

export function submissionOfJob(jobId: string | undefined): number | null {
  const m = /^sub-(\d+)$/.exec(jobId ?? '');
  return m ? Number(m[1]) : null;
}

export interface QueueSettings {
  /** Redis key prefix of every queue (BullMQ `prefix`). */
  prefix: string;
  attempts: number;
  backoffMs: number;
  perPartnerConcurrency: number;
  /** Size of the shared worker-thread pool that parses and writes. */
  workers: number;
  /** BullMQ job lock; renewed every lockMs/2 by the (never blocked) main thread. */
  lockMs: number;
  /** How often stalled jobs (their worker died) are looked for and handed to another worker. */
  stalledIntervalMs: number;
  /** On shutdown, how long in-flight jobs may run before they are released for a later run. */
  shutdownGraceMs: number;
  /** Completed/failed jobs kept in Redis for `lotgate status` (the ledger keeps everything anyway). */
  keepCompleted: { age: number; count: number };
  keepFailed: { age: number; count: number };
}

function envNumber(env: NodeJS.ProcessEnv, key: string): number | undefined {
  const v = env[key];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${key} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * A random id kept in the data dir. Job ids are `sub-<submission id>`, and submission ids start
 * at 1 in every store: two installations (or a fresh data dir) sharing one Redis must not see
 * each other's jobs, so the default queue prefix carries this id. Processes sharing a data dir
 * share the id, hence the queues.
 */
export function installationId(dataDir: string): string {
  const file = path.join(dataDir, 'installation-id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const id = randomBytes(4).toString('hex');
    try {
      writeFileSync(file, id + '\n', { flag: 'wx' });
      return id;
    } catch {
      return readFileSync(file, 'utf8').trim(); // another process won the race
    }
  }
}

/**
 * config.queue may carry optional keys beyond the typed ones (prefix, lockMs, stalledIntervalMs,
 * shutdownGraceMs, superseded by shutdown.graceSeconds); LOTGATE_QUEUE_PREFIX, LOTGATE_QUEUE_LOCK_MS, LOTGATE_QUEUE_STALLED_MS and
 * LOTGATE_SHUTDOWN_GRACE_MS override them.
 */
export function queueSettings(config: LotgateConfig, env: NodeJS.ProcessEnv = process.env): QueueSettings {
  const q = config.queue;
  const prefix = env.LOTGATE_QUEUE_PREFIX || q.prefix || `${QUEUE_PREFIX_DEFAULT}:${installationId(config.dataDir)}`;
  if (prefix.includes(' ')) throw new Error(`queue prefix must not contain spaces: ${JSON.stringify(prefix)}`);
  const lockMs = envNumber(env, 'LOTGATE_QUEUE_LOCK_MS') ?? q.lockMs ?? 30_000;
  return {
    prefix,
    attempts: Math.max(1, Math.floor(q.attempts)),
    backoffMs: Math.max(0, q.backoffMs),
    perPartnerConcurrency: Math.max(1, Math.floor(q.perPartnerConcurrency)),
    workers: Math.max(1, Math.floor(q.workers)),
    lockMs,
    stalledIntervalMs: envNumber(env, 'LOTGATE_QUEUE_STALLED_MS') ?? q.stalledIntervalMs ?? Math.min(30_000, lockMs),
    shutdownGraceMs:
      envNumber(env, 'LOTGATE_SHUTDOWN_GRACE_MS') ??
      (config.shutdown?.graceSeconds !== undefined ? Math.max(0, config.shutdown.graceSeconds) * 1000 : undefined) ??
      q.shutdownGraceMs ??
      30_000,
    keepCompleted: { age: 7 * 24 * 3600, count: 1000 },
    keepFailed: { age: 30 * 24 * 3600, count: 5000 },
  };
}
