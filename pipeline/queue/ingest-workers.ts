// The consumer side: one BullMQ Worker per partner queue (so a partner's flood or poison file
// only ever occupies that partner's own concurrency), all feeding one shared thread pool. The
// processor on this thread only waits for the pool; BullMQ keeps renewing the job lock meanwhile.

import { DelayedError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isSqliteBusy } from '../intake/retry-busy.js';
import type { IngestJobData } from './ingest-queues.js';
import { queueName, type QueueSettings } from './settings.js';
import type { LotgateTask, TaskResult } from './tasks.js';
import { PoolClosedError, TaskAbortedError } from './thread-pool.js';

export interface TaskRunner {
  run(task: LotgateTask): Promise<TaskResult>;
  /** Fails tasks that wait for a thread and have not started (with PoolClosedError): used on shutdown. */
  releaseQueued?(): number;
}

export interface IngestWorkersOptions {
  /** Shared connection for non-blocking commands (maxRetriesPerRequest: null); each Worker duplicates it once for its blocking wait. */
  connection: Redis;
  settings: QueueSettings;
  pool: TaskRunner;
  /** Partners whose queues need a worker: configured ones and any that have a queue in Redis. */
  partnerIds: () => Promise<string[]>;
  log: Logger;
  /** How often new partners are looked for (default 5 s). */
  refreshMs?: number;
}

export interface JobOutcome {
  state: string;
}

export class IngestWorkers {
  private readonly workers = new Map<string, Worker<IngestJobData, JobOutcome>>();
  /** Submissions being processed by this process: a second job for the same id waits for the first run. */
  private readonly inFlight = new Map<number, Promise<unknown>>();
  private refreshTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private lastErrorLog = 0;

  constructor(private readonly opts: IngestWorkersOptions) {}

  async start(): Promise<void> {
    await this.refresh();
    this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    if (this.closing) return;
    this.refreshTimer = setTimeout(() => {
      void this.refresh()
        .catch((err) => this.logError('could not look for new partner queues', err))
        .finally(() => this.scheduleRefresh());
    }, this.opts.refreshMs ?? 5000);
    this.refreshTimer.unref();
  }

  /** Starts a worker for every partner that has none yet. */
  async refresh(): Promise<void> {
    const ids = await this.opts.partnerIds();
    for (const p of ids) this.ensure(p);
  }

  partners(): string[] {
    return [...this.workers.keys()].sort();
  }

  ensure(partner: string): Worker<IngestJobData, JobOutcome> | undefined {
    let w = this.workers.get(partner);
    if (w || this.closing) return w;
    const s = this.opts.settings;
    w = new Worker<IngestJobData, JobOutcome>(queueName(partner), (job, token) => this.process(partner, job, token), {
      connection: this.opts.connection,
      prefix: s.prefix,
      concurrency: s.perPartnerConcurrency,
      lockDuration: s.lockMs,
      stalledInterval: s.stalledIntervalMs,
      // One stall is forgiven (a killed worker); a job that keeps killing its worker fails and the
      // reconciler quarantines its submission.
      maxStalledCount: 1,
      autorun: true,
    });
    w.on('failed', (job, err) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      this.opts.log.warn({ partner, submissionId: job.data.submissionId, attempt: job.attemptsMade, final, err: err.message }, final ? 'submission failed for the last time' : 'submission failed; it will be retried');
    });
    w.on('stalled', (jobId) => this.opts.log.warn({ partner, jobId }, 'job stalled (its worker stopped); it runs again'));
    w.on('error', (err) => this.logError(`queue worker error (${partner})`, err));
    this.workers.set(partner, w);
    this.opts.log.debug({ partner, queue: queueName(partner) }, 'queue worker started');
    return w;
  }

  private logError(msg: string, err: unknown): void {
    // While Redis is away every worker reports every reconnect; one line per 10 s is enough.
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.opts.log.error({ err: (err as Error)?.message ?? String(err) }, msg);
  }

  private async process(partner: string, job: Job<IngestJobData, JobOutcome>, token?: string): Promise<JobOutcome> {
    const id = job.data.submissionId;
    const log = this.opts.log.child({ partner, submissionId: id, attempt: job.attemptsMade + 1 });
    if (this.closing) {
      // Fetched in the instant the shutdown began: never started, handed back untouched.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    // Chained synchronously, so a third job for the same id waits for the second, not only the first.
    const earlier = this.inFlight.get(id);
    const run = (async () => {
      if (earlier) await earlier.catch(() => {});
      return this.opts.pool.run({ kind: 'process', submissionId: id });
    })();
    this.inFlight.set(id, run);
    try {
      const r = (await run) as { state: string };
      log.info({ state: r.state }, 'submission processed');
      return { state: r.state };
    } catch (err) {
      if (err instanceof TaskAbortedError || err instanceof PoolClosedError) {
        // Shutting down: hand the job back untouched (no attempt used); the ledger row stays
        // unfinished and the transaction was rolled back, so the next run starts clean.
        log.info('released on shutdown; it runs again later');
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (isSqliteBusy(err)) {
        // Another writer held the database for longer than the busy timeout: not the file's fault.
        const delay = Math.max(1000, this.opts.settings.backoffMs);
        log.warn({ delayMs: delay }, 'ledger busy; trying again later without counting an attempt');
        await job.moveToDelayed(Date.now() + delay, token);
        throw new DelayedError();
      }
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        const message = `Processing failed ${attempts} time${attempts === 1 ? '' : 's'}; nothing was applied. Last error: ${(err as Error).message}`;
        try {
          const q = (await this.opts.pool.run({ kind: 'quarantine', submissionId: id, code: 'E_PROCESSING_FAILED', message })) as { state?: string };
          // A submission decided before the failure (e.g. applied, then its ack failed) keeps its state.
          if (q?.state === undefined || q.state === 'quarantined') log.error({ err: (err as Error).message }, 'submission quarantined after its last attempt');
          else log.warn({ err: (err as Error).message, state: q.state }, 'last attempt failed after the submission was decided; its state is kept');
        } catch (qerr) {
          // The reconciler sees the unfinished row with a failed job and quarantines it later.
          log.error({ err: (qerr as Error).message }, 'could not quarantine the submission');
        }
      }
      throw err;
    } finally {
      if (this.inFlight.get(id) === run) this.inFlight.delete(id);
    }
  }

  /** Jobs this process is running now. */
  get running(): number {
    return this.inFlight.size;
  }

  /**
   * Stops fetching jobs at once and waits for running ones; `onGraceOver` is called if they have
   * not finished after `graceMs` (the server aborts them in the pool, which releases their jobs).
   * Jobs waiting for a pool thread are released at once: they have not started.
   */
  close(graceMs: number, onGraceOver: () => Promise<unknown>): Promise<void> {
    this.closingDone ??= this.closeNow(graceMs, onGraceOver);
    return this.closingDone;
  }

  private closingDone: Promise<void> | null = null;

  private async closeNow(graceMs: number, onGraceOver: () => Promise<unknown>): Promise<void> {
    this.closing = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    // BullMQ stops its fetch loop as soon as close() is called; it then waits for active jobs.
    const closing = Promise.all([...this.workers.values()].map((w) => w.close()));
    const released = this.opts.pool.releaseQueued?.() ?? 0;
    if (released) this.opts.log.info({ released }, 'jobs waiting for a worker thread handed back to their queues');
    let timer: NodeJS.Timeout | undefined;
    const over = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), graceMs);
    });
    const outcome = await Promise.race([closing.then(() => 'closed' as const), over]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.opts.log.warn({ running: this.running, graceMs }, 'jobs still running after the shutdown grace period; releasing them');
      await onGraceOver();
      await closing;
    }
    this.workers.clear();
  }
}
