// SIGTERM to a real `lotgate start` with a backlog: the queue workers take no new job from that
// moment, the running file finishes or is handed back within the configured grace, and the
// process exits. Nothing is lost: the next start applies every file exactly once.

import { randomBytes } from 'node:crypto';
import { writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { IngestQueues } from '../../pipeline/queue/ingest-queues.js';
import { queueSettings } from '../../pipeline/queue/settings.js';
import { runCli, type Child } from './helpers/child.js';
import { testLog } from './helpers/log.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { sleep, until } from './helpers/wait.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from './helpers/world.js';

const BIG_ROWS = 250_000;

let redis: TestRedis;
let conn: Redis;
let w: World;
let reader: Lotgate;
let queues: IngestQueues;
/** What a test opened, closed once after it (a PostgreSQL store's pool refuses a second end()). */
const opened: { close(): Promise<void> }[] = [];
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
  for (const o of opened.splice(0).reverse()) await o.close();
  w?.cleanup();
});

const drop = (partner: string, name: string, content: string): string => w.drop(partner, name, content);

async function register(partner: string, name: string, content: string): Promise<number> {
  const file = path.join(w.dir, `${partner}-${name}`);
  writeFileSync(file, content);
  return registerFile(reader, { partner, path: file, name, source: 'cli', removeSource: true });
}

describe('SIGTERM with a backlog', () => {
  it('stops taking jobs at once, even while intake waits for the write lock of a big file; exits within the grace', async () => {
    w = makeWorld({ queue: { workers: 1, perPartnerConcurrency: 1 } });
    appendFileSync(w.configPath, 'shutdown: { graceSeconds: 1 }\n');
    reader = await createLotgate(w.config, { log: testLog() });
    opened.push(reader);
    const prefix = `sig-${randomBytes(4).toString('hex')}`;
    const env = w.env({ REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: prefix, LOTGATE_SFTP_PORT: '0' });
    queues = new IngestQueues(conn, queueSettings(w.config, { LOTGATE_QUEUE_PREFIX: prefix }), testLog());
    opened.push(queues);
    await processSubmission(reader, await register('erp', 'LOTS_1.csv', lotsCsv(['L1'])));
    // The backlog of one partner: a big file, then small ones behind it.
    const big = await register('lab-a', 'RESULTS_big.csv', resultsCsv('L1', BIG_ROWS));
    await queues.enqueue('lab-a', big);
    const small: number[] = [];
    for (let i = 0; i < 5; i++) {
      small.push(await register('lab-a', `RESULTS_s${i}.csv`, resultsCsv('L1', 10, BIG_ROWS + 1 + i * 10)));
      await queues.enqueue('lab-a', small[i]);
    }
    const server = runCli(['start'], env);
    children.push(server);
    await server.waitForStderr('  status ');
    await until(async () => (await reader.store.ledger.getSubmission(big))!.state === 'processing', 'the big file to be processing');
    // Another partner's upload arrives: intake waits for the write lock the big file holds.
    drop('lab-b', 'RESULTS_1.csv', resultsCsv('L1', 5, 1, 'PH'));
    await sleep(1500);

    const signalledAt = Date.now();
    server.proc.kill('SIGTERM');
    const { code } = await server.exited;
    const tookMs = Date.now() - signalledAt;
    expect(code).toBe(0);
    expect(server.stderr()).toContain('SIGTERM — stopping');
    const late = (await reader.store.ledger.listSubmissions({ limit: 100 })).filter((s) => s.startedAt && Date.parse(s.startedAt) > signalledAt + 250);
    expect(late.map((s) => `${s.partner}/${s.originalName} started ${Date.parse(s.startedAt!) - signalledAt} ms after SIGTERM`)).toEqual([]);
    // 1 s grace + taking the roles down.
    expect(tookMs).toBeLessThan(8_000);
    expect(await queues.counts('lab-a')).toMatchObject({ active: 0, failed: 0 });
    for (const id of small) expect((await reader.store.ledger.getSubmission(id))!.state).toBe('received');
    expect((await reader.store.ledger.getSubmission(big))!.state).toMatch(/^(applied|processing)$/);

    // Nothing lost: the next start applies the whole backlog, each file once.
    const again = runCli(['start'], env);
    children.push(again);
    await until(async () => (await reader.store.ledger.listSubmissions({ limit: 100 })).every((s) => s.state === 'applied'), 'the backlog to be applied after the restart', 240_000, 250);
    expect(((await reader.store.reads.getLotDetail('L1')) as { tests: unknown[] }).tests).toHaveLength(BIG_ROWS + 5 * 10 + 5);
    again.proc.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  }, 400_000);

});

describe('a part that never stops', () => {
  it('does not keep the server from stopping: stop() gives up after the deadline', async () => {
    w = makeWorld();
    const { startServer } = await import('../../pipeline/runtime/server.js');
    const server = await startServer({
      config: w.config,
      roles: ['intake'],
      log: testLog(),
      env: { REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: `stuck-${randomBytes(4).toString('hex')}` },
      ledgerThread: false,
      stopDeadlineMs: 500,
      modules: [{ name: 'stuck', start: async () => ({ stop: () => new Promise<void>(() => {}) }) }],
    });
    const t0 = Date.now();
    await server.stop('test');
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
