// Runs one job once: only when this process holds the job's lease, with the lease renewed while
// the job runs, the run recorded (start, end, counts, error) and audited. The lease is a row in
// SQLite taken by one atomic statement (store/jobs.ts), so two processes sharing the store never
// run the same job at the same time; a holder that dies leaves a lease that simply expires.

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import { createLotgate, type Lotgate } from '../lotgate.js';
import { Store } from '../store/store.js';
import type { JobSettings } from './config.js';
import type { AnyJob, JobCounts, JobServices } from './job.js';

export interface RunDeps {
  config: LotgateConfig;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  now?: () => Date;
  /** A fresh Lotgate (own store connection) per run; default createLotgate(config). */
  openLotgate?: () => Lotgate;
  enqueue?: (partner: string, submissionId: number) => Promise<void>;
  services?: JobServices;
}

export interface RunOptions {
  /** Who runs it: a process / scheduler identity. Each run adds its own suffix. */
  holder?: string;
  trigger?: 'schedule' | 'manual';
  signal?: AbortSignal;
  progress?: (done: number, total: number) => void;
  /** Renew the lease this often (default a third of the lease). */
  renewMs?: number;
}

export type RunOutcome =
  | { status: 'busy'; job: string; holder: string | null; until: string | null }
  | { status: 'ok' | 'error'; job: string; runId: number; holder: string; startedAt: string; finishedAt: string; counts: JobCounts; error: string | null };

export function defaultHolder(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export const leaseName = (job: string) => `job:${job}`;

export async function runJob(job: AnyJob, settings: JobSettings, deps: RunDeps, opts: RunOptions = {}): Promise<RunOutcome> {
  const now = deps.now ?? (() => new Date());
  const log = deps.log.child({ job: job.name });
  // Unique per run: two runs in one process exclude each other like runs in two processes.
  const holder = `${opts.holder ?? defaultHolder()}#${randomBytes(4).toString('hex')}`;
  const leaseMs = settings.leaseSeconds * 1000;
  const lease = leaseName(job.name);
  // Leases and the run record go through a connection of their own: the job's connection may sit
  // in a long transaction (a pulled file being applied) that must not carry — or hide — a renewal.
  const control = Store.open(path.join(deps.config.dataDir, 'lotgate.db'));
  try {
    if (!control.tryAcquireLease(lease, holder, leaseMs, now())) {
      const l = control.getLease(lease);
      log.debug({ holder: l?.holder, until: l?.expiresAt }, 'job is running elsewhere; skipped');
      return { status: 'busy', job: job.name, holder: l?.holder ?? null, until: l?.expiresAt ?? null };
    }
    const startedAt = now().toISOString();
    const trigger = opts.trigger ?? 'manual';
    const runId = control.startJobRun(job.name, holder, startedAt, { trigger });
    const ac = new AbortController();
    const onOuterAbort = () => ac.abort(opts.signal?.reason ?? new Error('stopped'));
    if (opts.signal?.aborted) onOuterAbort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });

    let lg: Lotgate | null = null;
    const renew = () => {
      // While the job's own connection is inside a transaction, a renewal from this thread would
      // wait for that transaction's lock with the event loop blocked: skip it, the lease is long.
      if (lg?.store.inTransaction) return;
      try {
        if (!control.tryAcquireLease(lease, holder, leaseMs, now())) {
          log.error({ holder }, 'lease lost (another process took the job over); stopping this run');
          ac.abort(new Error(`lease lost: another process took job ${job.name} over`));
        }
      } catch (err) {
        log.warn({ err }, 'lease renewal failed; trying again');
      }
    };
    const timer = setInterval(renew, opts.renewMs ?? Math.max(1000, Math.floor(leaseMs / 3)));
    timer.unref();

    let counts: JobCounts = {};
    let error: string | null = null;
    try {
      lg = (deps.openLotgate ?? (() => createLotgate(deps.config, { log: deps.log, now })))();
      const result = await job.run({
        name: job.name,
        lg,
        options: settings.options,
        timezone: settings.timezone,
        env: deps.env ?? process.env,
        log,
        now,
        signal: ac.signal,
        enqueue: deps.enqueue,
        progress: opts.progress,
        services: deps.services ?? {},
      });
      counts = result.counts;
      if (result.problems?.length) error = result.problems.join('\n');
    } catch (err) {
      error = (err as Error)?.message ?? String(err);
      log.error({ err }, 'job failed');
    } finally {
      clearInterval(timer);
      opts.signal?.removeEventListener('abort', onOuterAbort);
      try {
        lg?.close();
      } catch (err) {
        log.warn({ err }, 'closing the job store failed');
      }
    }
    const finishedAt = now().toISOString();
    const status = error === null ? 'ok' : 'error';
    control.transaction(() => {
      control.finishJobRun(runId, { finishedAt, status, details: { trigger, counts }, error });
      control.appendAudit({
        actor: `job:${job.name}`,
        action: 'job.run',
        subject: `job:${job.name}`,
        details: { runId, holder, trigger, status, startedAt, finishedAt, counts, error },
      });
    });
    control.releaseLease(lease, holder);
    // A manual run reports to its terminal itself; scheduled runs are only seen in the log.
    log[trigger === 'schedule' || status === 'error' ? 'info' : 'debug']({ status, counts, ...(error ? { error } : {}) }, 'job run finished');
    return { status, job: job.name, runId, holder, startedAt, finishedAt, counts, error };
  } finally {
    control.close();
  }
}
