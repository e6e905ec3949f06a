// Workers die. A worker process killed with SIGKILL in the middle of a large file leaves an
// uncommitted transaction (rolled back) and an active job whose lock runs out; the next worker
// runs it again, and the file is applied exactly once.

import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { startServer, type RunningServer } from '../../pipeline/runtime/server.js';
import { runCli, type Child } from './helpers/child.js';
import { testLog } from './helpers/log.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { until } from './helpers/wait.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from './helpers/world.js';

// Big enough that applying it takes seconds, so the kill lands inside its transaction.
const ROWS = 60_000;

let redis: TestRedis;
let w: World;
let reader: Lotgate;
let intake: RunningServer | null = null;
const children: Child[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis.stop();
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  await intake?.stop();
  await reader?.close();
  w?.cleanup();
});

const drop = (partner: string, name: string, content: string): string => w.drop(partner, name, content);

describe('a worker killed mid-file', () => {
  it('is recovered after restart: the file is applied exactly once', async () => {
    w = makeWorld({ queue: { workers: 1, attempts: 3 } });
    reader = await createLotgate(w.config, { log: testLog() });
    const env = w.env({ REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: `crash-${randomBytes(4).toString('hex')}`, LOTGATE_QUEUE_LOCK_MS: '2000', LOTGATE_QUEUE_STALLED_MS: '1000' });
    intake = await startServer({ config: w.config, roles: ['intake'], log: testLog(), env });
    const startWorker = () => {
      const c = runCli(['start', '--role', 'worker'], env);
      children.push(c);
      return c;
    };

    let worker = startWorker();
    await worker.waitForStderr('lotgate worker');
    drop('erp', 'LOTS_1.csv', lotsCsv(['L1']));
    await until(async () => (await reader.store.ledger.listSubmissions({ partner: 'erp' }))[0]?.state === 'applied', 'the lots to be applied');

    drop('lab-a', 'RESULTS_big.csv', resultsCsv('L1', ROWS));
    const sub = await until(async () => (await reader.store.ledger.listSubmissions({ partner: 'lab-a' })).find((s) => s.state === 'processing'), 'the big file to be processing');
    worker.proc.kill('SIGKILL');
    expect(await worker.exited).toMatchObject({ signal: 'SIGKILL' });

    // Killed inside the transaction: nothing of the file was applied.
    expect(await reader.store.ledger.getSubmission(sub.id)).toMatchObject({ state: 'processing', applied: 0 });
    expect(((await reader.store.reads.getLotDetail('L1')) as { tests: unknown[] }).tests).toHaveLength(0);

    worker = startWorker();
    const done = await until(async () => {
      const s = (await reader.store.ledger.getSubmission(sub.id))!;
      return s.state !== 'processing' && s.state !== 'received' ? s : null;
    }, 'the big file to be applied after the restart', 120_000);
    expect(done).toMatchObject({ state: 'applied', rows: ROWS, applied: ROWS, rejected: 0, attempts: 2 });
    expect(((await reader.store.reads.getLotDetail('L1')) as { tests: unknown[] }).tests).toHaveLength(ROWS);
    expect(await reader.store.ledger.listSubmissions({ partner: 'lab-a' })).toHaveLength(1);
    expect(await reader.store.audit.listAudit({ subject: `submission:${sub.id}`, action: 'submission.applied' })).toHaveLength(1);

    worker.proc.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });
});
