// `lotgate start` after a crash mid-upload: the drop zone's temp file left in inbound/ is answered
// by the start-up reconcile pass (ledger row, quarantined E_PARTIAL_UPLOAD, acknowledgment).

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { tempNameFor } from '../../pipeline/intake/names.js';
import { runCli, type Child } from './helpers/child.js';
import { testLog } from './helpers/log.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { until } from './helpers/wait.js';
import { makeWorld, resultsCsv, type World } from './helpers/world.js';

let redis: TestRedis;
let w: World;
let reader: Lotgate;
const children: Child[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  await reader?.close();
  w?.cleanup();
});

describe('start-up after a crash mid-upload', () => {
  it('answers the stranded temp file once', async () => {
    w = makeWorld();
    mkdirSync(w.inbound('lab-a'), { recursive: true });
    const temp = path.join(w.inbound('lab-a'), tempNameFor('RESULTS_night.csv'));
    writeFileSync(temp, resultsCsv('L1', 100).slice(0, 1234));
    const t = (Date.now() - 120_000) / 1000;
    utimesSync(temp, t, t);
    reader = await createLotgate(w.config, { log: testLog() });
    const env = w.env({ REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: `strand-${randomBytes(4).toString('hex')}` });
    const server = runCli(['start', '--role', 'intake', '--role', 'worker'], env);
    children.push(server);
    await server.waitForStderr('  status ');
    const ackFile = path.join(w.outbound('lab-a'), 'RESULTS_night.csv.ack.json');
    await until(() => existsSync(ackFile), 'the acknowledgment of the stranded upload');
    const ack = JSON.parse(readFileSync(ackFile, 'utf8'));
    expect(ack).toMatchObject({ file: 'RESULTS_night.csv', state: 'quarantined', errors: [{ code: 'E_PARTIAL_UPLOAD' }] });
    expect(existsSync(temp)).toBe(false);
    // The ack is on disk a moment before the ledger records it.
    await until(async () => (await reader.store.ledger.listSubmissions({ partner: 'lab-a' }))[0]?.ackPending === false, 'the ack to be recorded');
    const subs = await reader.store.ledger.listSubmissions({ partner: 'lab-a' });
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({ id: ack.submissionId, state: 'quarantined', errorCode: 'E_PARTIAL_UPLOAD', size: 1234, ackPending: false });
    server.proc.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 60_000);
});
