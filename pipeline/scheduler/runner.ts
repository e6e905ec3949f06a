// Runs one job once: only when this process holds the job's lease, with the lease renewed while
// the job runs, the run recorded (start, end, counts, error) and audited. The lease is a row in
// the store taken by one atomic statement (store/areas/jobs.ts), so two processes — or machines —
// sharing the store never run the same job at the same time; a holder that dies leaves a lease
// that simply expires.

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import { createLotgate, type Lotgate } from '../lotgate.js';
import { openStore } from '../store/store.js';
import type { JobSettings } from './config.js';
import type { AnyJob, JobCounts, JobServices } from './job.js';

export interface RunDeps {
  config: LotgateConfig;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  now?: () => Date;
  /** A fresh Lotgate (own store connection) per run; default createLotgate(config). */
  openLotgate?: () => Promise<Lotgate>;
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
  // The same database as the job's (config.store.url): SQLite or PostgreSQL. It needs a connection
  // or two at most: renewals and the final record go one after the other.
  const control = await openStore(deps.config.store.url, { max: 2 });
  try {
    if (!(await control.jobs.tryAcquireLease(lease, holder, leaseMs, now()))) {
      const l = await control.jobs.getLease(lease);
      log.debug({ holder: l?.holder, until: l?.expiresAt }, 'job is running elsewhere; skipped');
      return { status: 'busy', job: job.name, holder: l?.holder ?? null, until: l?.expiresAt ?? null };
    }
    const startedAt = now().toISOString();
    const trigger = opts.trigger ?? 'manual';
    const runId = await control.jobs.startJobRun(job.name, holder, startedAt, { trigger });
    const ac = new AbortController();
    const onOuterAbort = () => ac.abort(opts.signal?.reason ?? new Error('stopped'));
    if (opts.signal?.aborted) onOuterAbort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });

    let lg: Lotgate | null = null;
    const renew = async (): Promise<void> => {
      try {
        if (!(await control.jobs.tryAcquireLease(lease, holder, leaseMs, now()))) {
          log.error({ holder }, 'lease lost (another process took the job over); stopping this run');
          ac.abort(new Error(`lease lost: another process took job ${job.name} over`));
        }
      } catch (err) {
        log.warn({ err }, 'lease renewal failed; trying again');
      }
    };
    // One renewal at a time: while the job's own connection holds a long write transaction (a
    // pulled file being applied), a SQLite renewal waits for that lock (without blocking the event
    // loop); the ticks meanwhile are skipped, the lease is long. renew() never rejects.
    const renewal: { running: Promise<void> | null } = { running: null };
    const timer = setInterval(() => {
      if (renewal.running) return;
      renewal.running = renew().finally(() => {
        renewal.running = null;
      });
    }, opts.renewMs ?? Math.max(1000, Math.floor(leaseMs / 3)));
    timer.unref();

    let counts: JobCounts = {};
    let error: string | null = null;
    try {
      lg = await (deps.openLotgate ?? (() => createLotgate(deps.config, { log: deps.log, now })))();
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
      // A renewal still under way must end before the lease is released (it would take it again).
      await renewal.running;
      opts.signal?.removeEventListener('abort', onOuterAbort);
      try {
        await lg?.close();
      } catch (err) {
        log.warn({ err }, 'closing the job store failed');
      }
    }
    const finishedAt = now().toISOString();
    const status = error === null ? 'ok' : 'error';
    await control.transaction(async (tx) => {
      await tx.jobs.finishJobRun(runId, { finishedAt, status, details: { trigger, counts }, error });
      await tx.audit.appendAudit({
        actor: `job:${job.name}`,
        action: 'job.run',
        subject: `job:${job.name}`,
        details: { runId, holder, trigger, status, startedAt, finishedAt, counts, error },
      });
    });
    await control.jobs.releaseLease(lease, holder);
    // A manual run reports to its terminal itself; scheduled runs are only seen in the log.
    log[trigger === 'schedule' || status === 'error' ? 'info' : 'debug']({ status, counts, ...(error ? { error } : {}) }, 'job run finished');
    return { status, job: job.name, runId, holder, startedAt, finishedAt, counts, error };
  } finally {
    await control.close();
  }
}
