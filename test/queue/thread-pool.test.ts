import { afterEach, describe, expect, it } from 'vitest';
import { PoolClosedError, resolveThreadEntry, TaskAbortedError, TaskError, ThreadCrashedError, ThreadPool } from '../../pipeline/queue/thread-pool.js';
import { testLog } from '../runtime/helpers/log.js';

type Task = { op: string; seq?: number; ms?: number };
type Result = { op: string; seq: number; thread: number };

const entry = new URL('./fixtures/echo-thread.mjs', import.meta.url);
const pools: ThreadPool<Task, Result>[] = [];

function pool(size: number, workerData: unknown = {}): ThreadPool<Task, Result> {
  const p = new ThreadPool<Task, Result>({ name: 'test', size, entry, workerData, log: testLog() });
  pools.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close(0)));
});

describe('ThreadPool', () => {
  it('runs tasks on its threads and returns their results', async () => {
    const p = pool(2);
    const results = await Promise.all([1, 2, 3, 4].map((seq) => p.run({ op: 'echo', seq })));
    expect(results.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(new Set(results.map((r) => r.thread)).size).toBeLessThanOrEqual(2);
    expect(p.stats).toMatchObject({ threads: 2, busy: 0, queued: 0, crashes: 0 });
  });

  it('serves tasks first in, first out when all threads are busy', async () => {
    const p = pool(1);
    const order: number[] = [];
    const runs = [1, 2, 3, 4, 5].map((seq) => p.run({ op: seq === 1 ? 'sleep' : 'echo', seq, ms: 100 }).then((r) => order.push(r.seq)));
    expect(p.stats.queued).toBe(5);
    await Promise.all(runs);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });

  it('rebuilds a task error with its name, message and code', async () => {
    const p = pool(1);
    const err = await p.run({ op: 'fail', seq: 7 }).catch((e) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect(err).toMatchObject({ name: 'MappingError', message: 'bad 7', code: 'E_X' });
  });

  it('fails the task of a thread that crashes, replaces the thread and keeps serving', async () => {
    const p = pool(1);
    const crashed = await p.run({ op: 'crash', seq: 1 }).catch((e) => e);
    expect(crashed).toBeInstanceOf(ThreadCrashedError);
    expect(crashed.message).toMatch(/boom 1/);
    const exited = await p.run({ op: 'exit', seq: 2 }).catch((e) => e);
    expect(exited).toBeInstanceOf(ThreadCrashedError);
    expect(exited.message).toMatch(/exited with code 3/);
    const after = await p.run({ op: 'echo', seq: 3 });
    expect(after.seq).toBe(3);
    expect(p.stats).toMatchObject({ threads: 1, crashes: 2 });
  });

  it('a task queued behind a crash still runs', async () => {
    const p = pool(1);
    const [a, b] = await Promise.allSettled([p.run({ op: 'crash', seq: 1 }), p.run({ op: 'echo', seq: 2 })]);
    expect(a.status).toBe('rejected');
    expect(b).toMatchObject({ status: 'fulfilled', value: { seq: 2 } });
  });

  it('keeps the calling thread responsive while a thread is busy with CPU work', async () => {
    const p = pool(1);
    let ticks = 0;
    const iv = setInterval(() => ticks++, 10);
    await p.run({ op: 'spin', seq: 1, ms: 400 });
    clearInterval(iv);
    expect(ticks).toBeGreaterThan(5);
  });

  it('abortRunning fails running tasks with TaskAbortedError and does not count a crash', async () => {
    const p = pool(1);
    const running = p.run({ op: 'spin', seq: 1, ms: 5000 }).catch((e) => e);
    while (p.stats.busy === 0) await new Promise((r) => setTimeout(r, 10));
    expect(await p.abortRunning()).toBe(1);
    expect(await running).toBeInstanceOf(TaskAbortedError);
    expect((await p.run({ op: 'echo', seq: 2 })).seq).toBe(2);
    expect(p.stats.crashes).toBe(0);
  });

  it('close lets running tasks finish within the grace period and refuses queued and new ones', async () => {
    const p = pool(1);
    const running = p.run({ op: 'sleep', seq: 1, ms: 200 });
    const queued = p.run({ op: 'echo', seq: 2 }).catch((e) => e);
    while (p.stats.busy === 0) await new Promise((r) => setTimeout(r, 10));
    await p.close(10_000);
    expect((await running).seq).toBe(1);
    expect(await queued).toBeInstanceOf(PoolClosedError);
    await expect(p.run({ op: 'echo', seq: 3 })).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('close aborts tasks still running when the grace period is over', async () => {
    const p = pool(1);
    const running = p.run({ op: 'spin', seq: 1, ms: 10_000 }).catch((e) => e);
    while (p.stats.busy === 0) await new Promise((r) => setTimeout(r, 10));
    await p.close(100);
    expect(await running).toBeInstanceOf(TaskAbortedError);
  });

  it('gives up on queued tasks when threads cannot even start', async () => {
    const p = pool(1, { failStart: true });
    const err = await p.run({ op: 'echo', seq: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ThreadCrashedError);
    expect(err.message).toMatch(/fail to start/);
  });
});

describe('resolveThreadEntry', () => {
  it('maps a source module to its compiled twin in dist/', () => {
    const url = resolveThreadEntry('task-thread', new URL('../../pipeline/queue/thread-pool.ts', import.meta.url).href);
    expect(url.pathname).toMatch(/\/dist\/pipeline\/queue\/task-thread\.js$/);
  });

  it('says how to build when the compiled entry is missing', () => {
    expect(() => resolveThreadEntry('no-such-thread', new URL('../../pipeline/queue/thread-pool.ts', import.meta.url).href)).toThrow(/npm run build/);
  });
});
