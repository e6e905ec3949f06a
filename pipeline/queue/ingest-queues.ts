// The producer side of the per-partner queues: put a submission on its partner's queue, look a
// job up, count a partner's backlog. Jobs carry only the submission id — the ledger has the rest.

import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { jobIdFor, queueName, type QueueSettings } from './settings.js';

export interface IngestJobData {
  submissionId: number;
}

export type JobStateName = 'missing' | 'waiting' | 'active' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' | 'failed' | 'unknown';

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export type EnsureOutcome = 'added' | 'present' | 'readded';

/** The Redis set of partners that have (had) a queue, so workers find queues of partners added later. */
export function partnersKey(prefix: string): string {
  return `${prefix}:lotgate-partners`;
}

export class IngestQueues {
  private readonly queues = new Map<string, Queue<IngestJobData>>();

  constructor(
    /** Shared connection; commands fail fast while Redis is away (the reconciler catches up). */
    private readonly redis: Redis,
    readonly settings: QueueSettings,
    private readonly log: Logger,
  ) {}

  queue(partner: string): Queue<IngestJobData> {
    let q = this.queues.get(partner);
    if (!q) {
      q = new Queue<IngestJobData>(queueName(partner), {
        connection: this.redis,
        prefix: this.settings.prefix,
        defaultJobOptions: this.jobOptions(),
      });
      q.on('error', (err) => this.log.warn({ err: err.message, partner }, 'queue connection error'));
      this.queues.set(partner, q);
    }
    return q;
  }

  private jobOptions() {
    const s = this.settings;
    return {
      attempts: s.attempts,
      backoff: { type: 'exponential' as const, delay: s.backoffMs },
      removeOnComplete: s.keepCompleted,
      removeOnFail: s.keepFailed,
    };
  }

  /** Adds the job unless a job with its id exists (BullMQ ignores the add then). */
  async enqueue(partner: string, submissionId: number): Promise<void> {
    await this.redis.sadd(partnersKey(this.settings.prefix), partner);
    await this.queue(partner).add('ingest', { submissionId }, { ...this.jobOptions(), jobId: jobIdFor(submissionId) });
  }

  async jobState(partner: string, submissionId: number): Promise<JobStateName> {
    const job = await this.queue(partner).getJob(jobIdFor(submissionId));
    if (!job) return 'missing';
    return (await job.getState()) as JobStateName;
  }

  /**
   * Makes sure an unfinished submission has a live job: adds it when missing, and replaces a
   * finished job (failed after its worker died too often, or completed while the ledger says
   * otherwise), since BullMQ would silently ignore an add with the same id.
   */
  async ensureQueued(partner: string, submissionId: number): Promise<EnsureOutcome> {
    const state = await this.jobState(partner, submissionId);
    if (state === 'missing') {
      await this.enqueue(partner, submissionId);
      return 'added';
    }
    if (state === 'failed' || state === 'completed' || state === 'unknown') {
      const job = await this.queue(partner).getJob(jobIdFor(submissionId));
      await job?.remove().catch((err: Error) => this.log.debug({ err: err.message, submissionId }, 'stale job could not be removed'));
      await this.enqueue(partner, submissionId);
      return 'readded';
    }
    return 'present';
  }

  async counts(partner: string): Promise<QueueCounts> {
    const c = await this.queue(partner).getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
    };
  }

  /** Partners that have a queue in this Redis (set by enqueue). */
  async knownPartners(): Promise<string[]> {
    return (await this.redis.smembers(partnersKey(this.settings.prefix))).sort();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
