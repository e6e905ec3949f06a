// The push job and an operator's hold, against a real HTTP receiver: a held message does not
// leave (nor, to keep the order per key, the newer messages of its key) until it is released.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { holdOutboxMessage, releaseOutboxMessage } from '../../pipeline/outbound/outbox-hold.js';
import { httpConnector, startReceiver, type Receiver } from '../jobs/helpers/receiver.js';
import { closeWorlds, ingestDemo, makeWorld, type World } from '../jobs/helpers/world.js';

let erp: Receiver;
beforeAll(async () => {
  erp = await startReceiver();
});
afterAll(() => erp.close());
afterEach(() => closeWorlds());

async function pushRuns(w: World, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    w.clock.advance(10_000);
    const r = await w.run('push');
    if (r.status !== 'ok') throw new Error(`push run failed: ${JSON.stringify(r)}`);
  }
}

describe('push and operator holds', () => {
  it('leaves a held message and the newer ones of its key until released, then sends them in order', async () => {
    const w = await makeWorld({ connectors: [httpConnector('erp-http', erp.url, ['erp.*', 'qms.*'])] });
    await ingestDemo(w);
    const rows = await w.lg.store.outbox.listOutbox({ limit: 100_000 });
    // A key with more than one message: hold its oldest.
    const byKey = new Map<string, string[]>();
    for (const r of rows) byKey.set(`${r.topic} ${r.key}`, [...(byKey.get(`${r.topic} ${r.key}`) ?? []), r.id]);
    const [, ids] = [...byKey].find(([, v]) => v.length > 1) ?? [...byKey][0];
    const who = { actor: 'operator:test', by: 'test' };
    expect((await holdOutboxMessage(w.lg.store, ids[0], who, 'check first', w.clock.now())).changed).toBe(true);

    await pushRuns(w, 4);
    for (const id of ids) expect(erp.seen, id).not.toContain(id);
    const others = rows.map((r) => r.id).filter((id) => !ids.includes(id));
    for (const id of others) expect((await w.lg.store.outbox.getOutbox(id))!.state, id).toBe('sent');
    expect((await w.lg.store.outbox.getOutbox(ids[0]))!).toMatchObject({ state: 'pending', hold: { reason: 'check first', by: 'test' } });

    expect((await releaseOutboxMessage(w.lg.store, ids[0], who, 'fine', w.clock.now())).changed).toBe(true);
    await pushRuns(w, 4);
    for (const id of ids) expect((await w.lg.store.outbox.getOutbox(id))!.state, id).toBe('sent');
    const order = ids.map((id) => erp.seen.indexOf(id));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});
