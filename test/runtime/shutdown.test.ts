// SIGTERM while a file is being applied: the job finishes within the grace period, or it is
// handed back to its queue (not failed, no attempt used) — never left active in Redis.

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { IngestQueues } from '../../pipeline/queue/ingest-queues.js';
import { queueSettings } from '../../pipeline/queue/settings.js';
import { runCli, type Child } from './helpers/child.js';
import { testLog } from './helpers/log.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { until } from './helpers/wait.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from './helpers/world.js';

const ROWS = 40_000;

let redis: TestRedis;
let conn: Redis;
let w: World;
let reader: Lotgate;
let queues: IngestQueues;
const children: Child[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  conn = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  conn.disconnect();
  await redis.stop();
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  await queues?.close();
  await reader?.close();
  w?.cleanup();
});

const drop = (partner: string, name: string, content: string): string => w.drop(partner, name, content);

async function setUp(graceMs: number) {
  w = makeWorld({ queue: { workers: 1 } });
  reader = await createLotgate(w.config, { log: testLog() });
  const prefix = `stop-${randomBytes(4).toString('hex')}`;
  const env = w.env({ REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: prefix, LOTGATE_SHUTDOWN_GRACE_MS: String(graceMs) });
  queues = new IngestQueues(conn, queueSettings(w.config, { LOTGATE_QUEUE_PREFIX: prefix }), testLog());
  const start = () => {
    const c = runCli(['start', '--role', 'intake', '--role', 'worker'], env);
    children.push(c);
    return c;
  };
  const server = start();
  await server.waitForStderr('lotgate intake + worker');
  drop('erp', 'LOTS_1.csv', lotsCsv(['L1']));
  await until(async () => (await reader.store.ledger.listSubmissions({ partner: 'erp' }))[0]?.state === 'applied', 'the lots to be applied');
  drop('lab-a', 'RESULTS_big.csv', resultsCsv('L1', ROWS));
  const sub = await until(async () => (await reader.store.ledger.listSubmissions({ partner: 'lab-a' })).find((s) => s.state === 'processing'), 'the big file to be processing');
  return { server, sub, start };
}

const testsOfL1 = async () => ((await reader.store.reads.getLotDetail('L1')) as { tests: unknown[] }).tests.length;

describe('graceful shutdown', () => {
  it('lets the running job finish when it fits in the grace period', async () => {
    const { server, sub } = await setUp(60_000);
    server.proc.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    expect(server.stderr()).toContain('SIGTERM — stopping');
    expect(await reader.store.ledger.getSubmission(sub.id)).toMatchObject({ state: 'applied', applied: ROWS, attempts: 1 });
    expect(await testsOfL1()).toBe(ROWS);
    expect(await queues.counts('lab-a')).toMatchObject({ active: 0, waiting: 0, failed: 0, completed: 1 });
  });

  it('hands the job back to its queue when the grace period is over; the next start applies it once', async () => {
    const { server, sub, start } = await setUp(200);
    server.proc.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    // Rolled back and released: not active, not failed, still owed by the ledger.
    expect(await queues.counts('lab-a')).toMatchObject({ active: 0, waiting: 1, failed: 0 });
    expect(await queues.jobState('lab-a', sub.id)).toBe('waiting');
    expect(await reader.store.ledger.getSubmission(sub.id)).toMatchObject({ state: 'processing', applied: 0 });
    expect(await testsOfL1()).toBe(0);

    const again = start();
    const done = await until(async () => {
      const s = (await reader.store.ledger.getSubmission(sub.id))!;
      return s.state === 'applied' ? s : null;
    }, 'the released file to be applied', 120_000);
    expect(done).toMatchObject({ applied: ROWS, attempts: 2 });
    expect(await testsOfL1()).toBe(ROWS);
    // The job ends after the commit (the touched lots' readiness, the acknowledgment): stopping
    // before then, with this 200 ms grace, would rightly hand it back once more.
    await until(async () => (await queues.counts('lab-a')).completed === 1, 'the job to complete', 120_000);
    again.proc.kill('SIGINT');
    expect((await again.exited).code).toBe(0);
    expect(await queues.counts('lab-a')).toMatchObject({ active: 0, waiting: 0, failed: 0 });
  });
});
