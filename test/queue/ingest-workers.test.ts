// The retry policy of the queue workers, with a scripted task runner in place of the thread pool:
// which failures use an attempt, which hand the job back, and what happens after the last one.

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';
import { IngestQueues } from '../../pipeline/queue/ingest-queues.js';
import { IngestWorkers, type TaskRunner } from '../../pipeline/queue/ingest-workers.js';
import { queueSettings, type QueueSettings } from '../../pipeline/queue/settings.js';
import type { LotgateTask, TaskResult } from '../../pipeline/queue/tasks.js';
import { TaskAbortedError, TaskError } from '../../pipeline/queue/thread-pool.js';
import { testLog } from '../runtime/helpers/log.js';
import { startTestRedis, type TestRedis } from '../runtime/helpers/redis.js';
import { until } from '../runtime/helpers/wait.js';

let redis: TestRedis;
let producer: Redis;
let consumer: Redis;
let settings: QueueSettings;
let queues: IngestQueues;
let workers: IngestWorkers | null;

/** Runs each task through `script`, recording what it was asked to do. */
class ScriptedRunner implements TaskRunner {
  readonly calls: LotgateTask[] = [];
  running = 0;
  maxRunningPerSubmission = 0;
  private readonly perSub = new Map<number, number>();
  constructor(private readonly script: (task: LotgateTask, call: number) => Promise<TaskResult>) {}
  async run(task: LotgateTask): Promise<TaskResult> {
    this.calls.push(task);
    const id = 'submissionId' in task ? task.submissionId : -1;
    this.perSub.set(id, (this.perSub.get(id) ?? 0) + 1);
    this.maxRunningPerSubmission = Math.max(this.maxRunningPerSubmission, this.perSub.get(id)!);
    try {
      return await this.script(task, this.calls.length);
    } finally {
      this.perSub.set(id, this.perSub.get(id)! - 1);
    }
  }
  processCalls(): number {
    return this.calls.filter((c) => c.kind === 'process').length;
  }
}

function startWorkers(runner: TaskRunner): IngestWorkers {
  workers = new IngestWorkers({ connection: consumer, settings, pool: runner, log: testLog(), partnerIds: async () => ['lab-a'], refreshMs: 60_000 });
  return workers;
}

beforeAll(async () => {
  redis = await startTestRedis();
  producer = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  consumer = new Redis(redis.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  producer.disconnect();
  consumer.disconnect();
  await redis.stop();
});

beforeEach(() => {
  const config = loadConfig({ env: {} });
  settings = { ...queueSettings(config, { LOTGATE_QUEUE_PREFIX: `iw-${randomBytes(4).toString('hex')}` }), attempts: 3, backoffMs: 50 };
  queues = new IngestQueues(producer, settings, testLog());
});

afterEach(async () => {
  await workers?.close(1000, async () => {});
  workers = null;
  await queues.close();
});

describe('IngestWorkers', () => {
  it('a busy ledger delays the job without using an attempt', async () => {
    const runner = new ScriptedRunner(async (task, n) => {
      if (n === 1) throw new TaskError({ name: 'SqliteError', message: 'database is locked', code: 'SQLITE_BUSY' });
      return { state: 'applied' };
    });
    await queues.enqueue('lab-a', 1);
    await startWorkers(runner).start();
    await until(async () => (await queues.jobState('lab-a', 1)) === 'completed', 'the job to complete');
    const job = (await queues.queue('lab-a').getJob('sub-1'))!;
    // Started twice, but only the successful run counts as an attempt.
    expect(job.attemptsStarted).toBe(2);
    expect(job.attemptsMade).toBe(1);
    expect(job.returnvalue).toEqual({ state: 'applied' });
    expect(runner.processCalls()).toBe(2);
  });

  it('retries a failing submission and quarantines it after the last attempt', async () => {
    const runner = new ScriptedRunner(async (task) => {
      if (task.kind === 'process') throw new TaskError({ name: 'Error', message: "ENOENT: no such file or directory, open '/archive/ab/abcd'", code: 'ENOENT' });
      return { state: 'quarantined' };
    });
    await queues.enqueue('lab-a', 7);
    await startWorkers(runner).start();
    await until(async () => (await queues.jobState('lab-a', 7)) === 'failed', 'the job to fail for good');
    expect(runner.processCalls()).toBe(3);
    const q = runner.calls.filter((c) => c.kind === 'quarantine');
    expect(q).toEqual([
      {
        kind: 'quarantine',
        submissionId: 7,
        code: 'E_PROCESSING_FAILED',
        message: "Processing failed 3 times; nothing was applied. Last error: ENOENT: no such file or directory, open '/archive/ab/abcd'",
      },
    ]);
    expect(runner.calls.at(-1)!.kind).toBe('quarantine');
  });

  it('hands a job aborted by shutdown back to its queue without using an attempt', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = new ScriptedRunner(async () => {
      await gate;
      throw new TaskAbortedError();
    });
    await queues.enqueue('lab-a', 3);
    const w = startWorkers(runner);
    await w.start();
    await until(async () => (await queues.jobState('lab-a', 3)) === 'active', 'the job to run');
    await w.close(50, async () => release());
    workers = null;
    expect(await queues.jobState('lab-a', 3)).toBe('waiting');
    const job = (await queues.queue('lab-a').getJob('sub-3'))!;
    expect(job.attemptsMade).toBe(0);
    expect(runner.calls.some((c) => c.kind === 'quarantine')).toBe(false);
  });

  it('never runs one submission twice at the same time in a process (a job re-queued while its first run is going)', async () => {
    let calls = 0;
    const runner = new ScriptedRunner(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 300));
      return { state: 'applied' };
    });
    settings = { ...settings, perPartnerConcurrency: 3 };
    queues = new IngestQueues(producer, settings, testLog());
    await queues.enqueue('lab-a', 5);
    await startWorkers(runner).start();
    await until(async () => (await queues.jobState('lab-a', 5)) === 'active', 'the first run');
    // Redis lost the job (FLUSHALL, failover) and the reconciler queued it again meanwhile.
    await queues.queue('lab-a').add('ingest', { submissionId: 5 }, { jobId: 'sub-5-again' });
    await queues.queue('lab-a').add('ingest', { submissionId: 5 }, { jobId: 'sub-5-third' });
    await until(async () => (await queues.queue('lab-a').getJobCounts('completed')).completed === 3, 'all jobs to complete');
    expect(calls).toBe(3);
    expect(runner.maxRunningPerSubmission).toBe(1);
  });
});
