// A push process killed (SIGKILL) after its POST reached the receiver and before it could mark
// the message sent. While the dead process's lease lasts no other process runs push; after it,
// the next run delivers the message again with the same Idempotency-Key — the receiver sees the
// key twice and keeps the message once — and lotgate marks it sent.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNFINISHED_RUN_ERROR } from '../../pipeline/store/store.js';
import { spawnLotgate, type Child } from './helpers/child.js';
import { cli } from './helpers/cli.js';
import { httpConnector, startReceiver, type Receiver } from './helpers/receiver.js';
import { closeWorlds, makeWorld } from './helpers/world.js';

let erp: Receiver;
beforeAll(async () => {
  erp = await startReceiver();
});
afterAll(async () => {
  await closeWorlds();
  await erp.close();
});

describe('push killed mid-delivery', () => {
  it('re-delivers with the same key after a restart; the receiver stores it once; lotgate marks it sent', async () => {
    const w = await makeWorld({
      connectors: [httpConnector('erp-http', erp.url, ['erp.*', 'qms.*'], { timeoutMs: 60_000 })],
      jobs: { leaseSeconds: 60, push: { visibilitySeconds: 120 } },
    });
    await w.ingest('erp');
    const ids = (await w.lg.store.outbox.listOutbox({ limit: 1000 })).map((m) => m.id);
    expect(ids.length).toBeGreaterThan(1);

    let child: Child | null = null;
    // The receiver accepts and stores the first message, then the sender dies before the answer.
    erp.answer = (_key, nth) => {
      if (erp.seen.length === 1 && nth === 1) child?.proc.kill('SIGKILL');
      return 'ok';
    };
    child = spawnLotgate(['-c', w.configPath, 'job', 'run', 'push']);
    const exit = await child.exited;
    expect(exit.signal, child.stderr()).toBe('SIGKILL');
    expect(erp.seen).toHaveLength(1);
    const [first] = erp.seen;
    expect(erp.stored.has(first)).toBe(true);

    // What the dead process left: the message claimed but not sent, its run unfinished, its lease.
    expect(await w.lg.store.outbox.getOutbox(first)).toMatchObject({ state: 'pending', attempts: 1, sentAt: null });
    expect(await w.lg.store.outbox.listDeliveries(first)).toEqual([]);
    const dead = (await w.lg.store.jobs.listJobRuns({ name: 'push' }))[0];
    expect(dead).toMatchObject({ finishedAt: null, status: 'error', error: UNFINISHED_RUN_ERROR });
    const list = JSON.parse((await cli(w.configPath, ['job', 'list', '--json'])).stdout) as { name: string; running: unknown; lastRun: { outcome: string } }[];
    expect(list.find((j) => j.name === 'push')).toMatchObject({ running: { holder: dead.holder }, lastRun: { outcome: 'running' } });

    // Another process cannot take the job while the dead holder's lease lasts.
    expect(await w.run('push')).toMatchObject({ status: 'busy', holder: dead.holder });
    expect(erp.seen).toHaveLength(1);

    // After the lease and the message's visibility ran out, the next run takes over.
    w.clock.advance(130_000);
    const after = await w.run('push');
    expect(after).toMatchObject({ status: 'ok' });
    expect(erp.seen.filter((k) => k === first)).toHaveLength(2);
    expect([...erp.stored.keys()].sort()).toEqual([...ids].sort());
    expect(erp.seen).toHaveLength(ids.length + 1);
    expect(await w.lg.store.outbox.getOutbox(first)).toMatchObject({ state: 'sent', attempts: 2 });
    expect(await w.lg.store.outbox.listOutbox({ state: 'pending' })).toEqual([]);
    // The interrupted run stays on record as such.
    expect((await w.lg.store.jobs.listJobRuns({ name: 'push' })).map((r) => [r.status, r.error])).toEqual([
      ['ok', null],
      ['error', UNFINISHED_RUN_ERROR],
    ]);
  });
});
