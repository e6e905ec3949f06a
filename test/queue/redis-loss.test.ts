// Redis goes away while lotgate runs: uploads keep landing in the ledger, and when Redis is back
// (empty: it lost everything) the reconciler puts the owed submissions back on their queues.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SftpClient from 'ssh2-sftp-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLotgate } from '../../pipeline/lotgate.js';
import { startServer } from '../../pipeline/runtime/server.js';
import { testLog } from '../runtime/helpers/log.js';
import { startTestRedis, type TestRedis } from '../runtime/helpers/redis.js';
import { until } from '../runtime/helpers/wait.js';
import { lotsCsv, makeWorld, resultsCsv } from '../runtime/helpers/world.js';

const keys = fileURLToPath(new URL('../../fixtures/keys/', import.meta.url));

let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis.stop();
});

describe.skipIf(!existsSync(path.join(keys, 'bravo-lab')))('losing Redis while running', () => {
  it('keeps the drop zone up and loses nothing: the reconciler re-queues once Redis is back', async () => {
    const w = makeWorld({ sftpKeys: { 'lab-a': readFileSync(path.join(keys, 'bravo-lab.pub'), 'utf8') } });
    const reader = await createLotgate(w.config, { log: testLog() });
    const server = await startServer({
      // lab-a logs in with the published demo key: demo mode, explicitly.
      config: { ...w.config, demo: true },
      roles: ['sftp', 'intake', 'worker'],
      sftpPort: 0,
      log: testLog(),
      env: { REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: `loss-${randomBytes(4).toString('hex')}` },
    });
    const sftp = new SftpClient();
    try {
      await sftp.connect({ host: '127.0.0.1', port: server.sftp!.port, username: 'lab-a', privateKey: readFileSync(path.join(keys, 'bravo-lab')) });
      const erp = path.join(w.inbound('erp'), 'LOTS_1.csv');
      (await import('node:fs')).writeFileSync(erp, lotsCsv(['L1']));
      await until(async () => (await reader.store.ledger.listSubmissions({ partner: 'erp' }))[0]?.state === 'applied', 'the lots to be applied');

      await redis.kill();
      // Partners keep uploading; the files reach the ledger, not the (absent) queue.
      await sftp.put(Buffer.from(resultsCsv('L1', 10, 1)), '/inbound/RESULTS_1.csv');
      await sftp.put(Buffer.from(resultsCsv('L1', 15, 100)), '/inbound/RESULTS_2.csv');
      await until(async () => (await reader.store.ledger.listSubmissions({ partner: 'lab-a' })).filter((s) => s.state === 'received').length === 2, 'both uploads in the ledger');

      await redis.restart();
      await until(async () => (await reader.store.ledger.listSubmissions({ partner: 'lab-a' })).filter((s) => s.state === 'applied').length === 2, 'both uploads to be applied after Redis came back');
      const subs = await reader.store.ledger.listSubmissions({ partner: 'lab-a' });
      expect(subs.map((s) => [s.originalName, s.applied, s.attempts]).sort()).toEqual([
        ['RESULTS_1.csv', 10, 1],
        ['RESULTS_2.csv', 15, 1],
      ]);
      expect((await reader.store.reads.getLotDetail('L1') as { tests: unknown[] }).tests).toHaveLength(25);
      // The acknowledgment is written after the commit the ledger shows: wait for the file.
      await until(async () => (await sftp.exists('/outbound/RESULTS_2.csv.ack.json')) !== false, 'the acknowledgment of RESULTS_2.csv');
      expect(JSON.parse(((await sftp.get('/outbound/RESULTS_2.csv.ack.json')) as Buffer).toString())).toMatchObject({ state: 'applied' });
    } finally {
      await sftp.end().catch(() => {});
      await server.stop();
      await reader.close();
      w.cleanup();
    }
  });
});
