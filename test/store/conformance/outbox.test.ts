// The outbox area on both dialects: enqueue once per id, claims that hide a message for the
// visibility window, sent/failed/dead/retry, operator holds, per-connector deliveries, ordering
// per key, and two pushers on two connections draining one outbox without sharing a message.
// On PostgreSQL also the wake-up: a LISTENing pusher hears of a message after its commit only.

import { expect, it } from 'vitest';
import type { AsyncStore } from '../../../pipeline/store/areas/index.js';
import { PgDb } from '../../../pipeline/store/dialect/postgres/driver.js';
import { listenOutbox, OUTBOX_CHANNEL } from '../../../pipeline/store/dialect/postgres/outbox-listen.js';
import type { OutboxMessage } from '../../../pipeline/store/types.js';
import { describeStore } from './harness.js';

const T0 = '2026-03-01T10:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const clock = () => new Date(T0);

const msg = (id: string, over: Partial<OutboxMessage> = {}): OutboxMessage => ({ id, topic: 'lot.release', key: 'LOT-1', payload: { n: id }, ...over });

/** A submission row for the outbox's foreign key (plain SQL: the ledger is another area). */
async function submission(s: AsyncStore): Promise<number> {
  const r = await s.db.run(
    `INSERT INTO submissions (partner, original_name, size, sha256, received_at, source, archive_path) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ['cmo-a', 'f.csv', 1, 'ab', T0, 'cli', '/a/f.csv'],
  );
  return r.rows[0].id as number;
}

/** Resolves once `pred` holds for the array, or rejects after a generous bound (not a timing assertion). */
function waitFor<T>(arr: T[], pred: (a: T[]) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (pred(arr)) return resolve();
      if (Date.now() - started > 10_000) return reject(new Error(`gave up waiting; got ${JSON.stringify(arr)}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

describeStore('outbox area', (h) => {
  it('stores a message once per id and reads it back', async () => {
    const s = await h.fresh({ now: clock });
    expect(await s.outbox.enqueueOutbox(msg('a1', { target: 'erp', payload: { x: [1, 'two'] } }))).toBe(true);
    expect(await s.outbox.enqueueOutbox(msg('a1', { payload: { other: true } }))).toBe(false);
    expect(await s.outbox.getOutbox('a1')).toEqual({
      id: 'a1',
      topic: 'lot.release',
      target: 'erp',
      key: 'LOT-1',
      payload: { x: [1, 'two'] },
      state: 'pending',
      attempts: 0,
      nextAttemptAt: T0,
      lastError: null,
      createdAt: T0,
      sentAt: null,
      submissionId: null,
      hold: null,
    });
    expect(await s.outbox.getOutbox('nope')).toBeUndefined();
  });

  it('enqueueOutboxMany stores each id once, says which were new, and stores what enqueueOutbox would', async () => {
    const s = await h.fresh({ now: clock });
    expect(await s.outbox.enqueueOutbox(msg('old'))).toBe(true);
    const batch = [...Array.from({ length: 250 }, (_, i) => msg(`m${i}`, { state: i % 2 ? 'held' : 'pending' })), msg('old'), msg('m3', { payload: { again: true } })];
    const added = await s.outbox.enqueueOutboxMany(batch);
    expect(added).toEqual([...Array.from({ length: 250 }, () => true), false, false]);
    expect(await s.outbox.getOutbox('m3')).toMatchObject({ payload: { n: 'm3' }, state: 'held', nextAttemptAt: null, createdAt: T0 });
    expect(await s.outbox.getOutbox('m4')).toMatchObject({ state: 'pending', nextAttemptAt: T0 });
    expect(await s.outbox.countOutbox()).toMatchObject({ pending: 126, held: 125 });
  });

  it('lists oldest first (id breaks ties), filters, limits and counts by state', async () => {
    let now = Date.parse(T0);
    const s = await h.fresh({ now: () => new Date(now) });
    const sub = await submission(s);
    await s.outbox.enqueueOutbox(msg('c3'));
    await s.outbox.enqueueOutbox(msg('b2', { topic: 'lot.hold' }));
    now += 1000;
    await s.outbox.enqueueOutbox(msg('a1', { submissionId: sub, state: 'held' }));
    expect((await s.outbox.listOutbox()).map((r) => r.id)).toEqual(['b2', 'c3', 'a1']);
    expect((await s.outbox.listOutbox({ limit: 2 })).map((r) => r.id)).toEqual(['b2', 'c3']);
    expect((await s.outbox.listOutbox({ topic: 'lot.hold' })).map((r) => r.id)).toEqual(['b2']);
    expect((await s.outbox.listOutbox({ state: 'held', submissionId: sub })).map((r) => r.id)).toEqual(['a1']);
    expect(await s.outbox.getOutbox('a1')).toMatchObject({ state: 'held', nextAttemptAt: null, submissionId: sub });
    await s.outbox.markOutboxSent('c3', at(5));
    expect(await s.outbox.countOutbox()).toEqual({ pending: 1, sent: 1, dead: 0, held: 1 });
  });

  it('claims due messages once per visibility window, counting attempts, never held ones', async () => {
    const s = await h.fresh({ now: clock });
    for (const id of ['m1', 'm2', 'm3']) await s.outbox.enqueueOutbox(msg(id));
    await s.outbox.holdOutbox('m3', { reason: 'check', by: 'qa', at: T0 });
    expect(await s.outbox.claimOutbox(10, at(-1))).toEqual([]); // not due yet
    const first = await s.outbox.claimOutbox(1, T0, 60_000);
    expect(first.map((r) => [r.id, r.attempts, r.nextAttemptAt])).toEqual([['m1', 1, at(60_000)]]);
    expect((await s.outbox.claimOutbox(10, at(1))).map((r) => r.id)).toEqual(['m2']);
    expect(await s.outbox.claimOutbox(10, at(59_999))).toEqual([]);
    // The pusher of m1 died: it is due again once its window ends, the second attempt counted.
    const again = await s.outbox.claimOutbox(10, at(60_000), 60_000);
    expect(again.map((r) => [r.id, r.attempts])).toEqual([['m1', 2]]);
    expect(await s.outbox.getOutbox('m1')).toMatchObject({ attempts: 2, nextAttemptAt: at(120_000) });
  });

  it('marks sent, failed (due later) and dead; a dead message is retried with its dead deliveries', async () => {
    const s = await h.fresh({ now: clock });
    for (const id of ['s1', 'f1']) await s.outbox.enqueueOutbox(msg(id));
    expect(await s.outbox.markOutboxSent('s1', at(10))).toBe(true);
    expect(await s.outbox.markOutboxSent('s1', at(20))).toBe(false);
    expect(await s.outbox.getOutbox('s1')).toMatchObject({ state: 'sent', sentAt: at(10), nextAttemptAt: null });
    expect(await s.outbox.markOutboxFailed('s1', 'late', null)).toBe(false);

    expect(await s.outbox.markOutboxFailed('f1', 'timeout', at(30_000))).toBe(true);
    expect(await s.outbox.getOutbox('f1')).toMatchObject({ state: 'pending', lastError: 'timeout', nextAttemptAt: at(30_000) });
    await s.outbox.markDeliverySent('f1', 'erp', at(1));
    await s.outbox.recordDeliveryFailure('f1', 'qms', 'down', null, at(2));
    expect(await s.outbox.markOutboxFailed('f1', 'gave up', null)).toBe(true);
    expect(await s.outbox.getOutbox('f1')).toMatchObject({ state: 'dead', lastError: 'gave up', nextAttemptAt: null });
    expect(await s.outbox.retryOutbox('s1')).toBe(false);

    expect(await s.outbox.retryDeadOutbox('f1', at(100))).toEqual({ retried: true, deliveries: 1 });
    expect(await s.outbox.getOutbox('f1')).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: T0 });
    expect((await s.outbox.listDeliveries('f1')).map((d) => [d.connector, d.state, d.attempts])).toEqual([
      ['erp', 'sent', 1],
      ['qms', 'pending', 0],
    ]);
    expect(await s.outbox.retryDeadOutbox('f1', at(200))).toEqual({ retried: false, deliveries: 0 });
  });

  it('holds and releases: an operator hold, and messages held back for a submission', async () => {
    const s = await h.fresh({ now: clock });
    const sub = await submission(s);
    await s.outbox.enqueueOutbox(msg('p1'));
    await s.outbox.enqueueOutbox(msg('sent1'));
    await s.outbox.markOutboxSent('sent1', T0);
    const hold = { reason: 'recall check', by: 'qa.lead', at: at(5) };
    expect(await s.outbox.holdOutbox('p1', hold)).toBe(true);
    expect(await s.outbox.holdOutbox('p1', hold)).toBe(false);
    expect(await s.outbox.holdOutbox('sent1', hold)).toBe(false);
    expect(await s.outbox.getOutbox('p1')).toMatchObject({ hold });
    expect(await s.outbox.countOutboxOnHold()).toBe(1);
    expect((await s.outbox.listOutbox({ onHold: true })).map((r) => r.id)).toEqual(['p1']);
    expect((await s.outbox.listOutbox({ onHold: false })).map((r) => r.id)).toEqual(['sent1']);
    expect(await s.outbox.markOutboxFailed('p1', 'x', at(99)))/* a held message is still pending */.toBe(true);
    expect(await s.outbox.releaseOutboxHold('p1')).toBe(true);
    expect(await s.outbox.releaseOutboxHold('p1')).toBe(false);
    expect(await s.outbox.getOutbox('p1')).toMatchObject({ hold: null, nextAttemptAt: T0 });

    for (const id of ['h1', 'h2']) await s.outbox.enqueueOutbox(msg(id, { submissionId: sub, state: 'held' }));
    expect(await s.outbox.claimOutbox(10, at(1000))).toHaveLength(1); // p1 only
    expect(await s.outbox.releaseHeldOutbox(sub)).toBe(2);
    expect(await s.outbox.releaseHeldOutbox(sub)).toBe(0);
    expect((await s.outbox.claimOutbox(10, at(1000))).map((r) => r.id)).toEqual(['h1', 'h2']);
  });

  it('tracks deliveries per connector: a sent one stays sent, failures count, lists group by message', async () => {
    const s = await h.fresh({ now: clock });
    await s.outbox.enqueueOutbox(msg('d1'));
    await s.outbox.enqueueOutbox(msg('d2'));
    expect(await s.outbox.recordDeliveryFailure('d1', 'erp', 'e1', at(1000), at(1))).toBe(1);
    expect(await s.outbox.recordDeliveryFailure('d1', 'erp', 'e2', at(2000), at(2))).toBe(2);
    expect(await s.outbox.listDeliveries('d1')).toEqual([
      { outboxId: 'd1', connector: 'erp', state: 'pending', attempts: 2, nextAttemptAt: at(2000), lastError: 'e2', sentAt: null, updatedAt: at(2) },
    ]);
    await s.outbox.markDeliverySent('d1', 'erp', at(3));
    expect(await s.outbox.listDeliveries('d1')).toEqual([
      { outboxId: 'd1', connector: 'erp', state: 'sent', attempts: 3, nextAttemptAt: null, lastError: null, sentAt: at(3), updatedAt: at(3) },
    ]);
    // A late failure report of the same connector changes nothing (0: not recorded).
    expect(await s.outbox.recordDeliveryFailure('d1', 'erp', 'late', null, at(4))).toBe(0);
    expect((await s.outbox.listDeliveries('d1'))[0]).toMatchObject({ state: 'sent', attempts: 3 });
    await s.outbox.markDeliverySent('d2', 'qms', at(5));
    await s.outbox.recordDeliveryFailure('d2', 'erp', 'down', null, at(6));

    const many = [...Array.from({ length: 1100 }, (_, i) => `x${i}`), 'd2', 'd1', 'd2'];
    const byId = await s.outbox.listDeliveriesOf(many);
    expect([...byId.keys()].sort()).toEqual(['d1', 'd2']);
    expect(byId.get('d2')!.map((d) => [d.connector, d.state])).toEqual([
      ['erp', 'dead'],
      ['qms', 'sent'],
    ]);
    expect((await s.outbox.listDeliveriesOf([])).size).toBe(0);
  });

  it('finds the older undelivered message of a key by insert order, not by id or clock', async () => {
    const s = await h.fresh({ now: clock }); // one instant: created_at cannot order them
    await s.outbox.enqueueOutbox(msg('ff01'));
    await s.outbox.enqueueOutbox(msg('aa02'));
    await s.outbox.enqueueOutbox(msg('0003'));
    await s.outbox.enqueueOutbox(msg('bb04', { key: 'LOT-2' }));
    expect(await s.outbox.olderUndelivered({ id: 'ff01', topic: 'lot.release', key: 'LOT-1' }, 'erp')).toBeUndefined();
    expect(await s.outbox.olderUndelivered({ id: '0003', topic: 'lot.release', key: 'LOT-1' }, 'erp')).toEqual({ id: 'ff01', nextAttemptAt: T0 });
    await s.outbox.markDeliverySent('ff01', 'erp', at(1));
    expect(await s.outbox.olderUndelivered({ id: '0003', topic: 'lot.release', key: 'LOT-1' }, 'erp')).toEqual({ id: 'aa02', nextAttemptAt: T0 });
    // Another connector has not got ff01 yet; its own retry time wins over the message's.
    await s.outbox.recordDeliveryFailure('ff01', 'qms', 'down', at(9000), at(2));
    expect(await s.outbox.olderUndelivered({ id: '0003', topic: 'lot.release', key: 'LOT-1' }, 'qms')).toEqual({ id: 'ff01', nextAttemptAt: at(9000) });
    await s.outbox.recordDeliveryFailure('aa02', 'erp', 'gone', null, at(3)); // dead for erp: no longer waited for
    expect(await s.outbox.olderUndelivered({ id: '0003', topic: 'lot.release', key: 'LOT-1' }, 'erp')).toBeUndefined();
    expect(await s.outbox.olderUndelivered({ id: 'bb04', topic: 'lot.release', key: 'LOT-2' }, 'erp')).toBeUndefined();
  });

  it('finds ids by hex prefix', async () => {
    const s = await h.fresh({ now: clock });
    for (const id of ['abc1', 'abd2', 'abc0', 'b001']) await s.outbox.enqueueOutbox(msg(id));
    expect(await s.outbox.findOutboxIdsByPrefix('ABC')).toEqual(['abc0', 'abc1']);
    expect(await s.outbox.findOutboxIdsByPrefix('ab', 2)).toEqual(['abc0', 'abc1']);
    expect(await s.outbox.findOutboxIdsByPrefix('a%')).toEqual([]);
  });

  it('two pushers on two connections drain the outbox, every message claimed exactly once', async () => {
    const a = await h.fresh({ now: clock });
    const b = await h.another({ now: clock });
    const ids = Array.from({ length: 120 }, (_, i) => `m${String(i).padStart(3, '0')}`);
    await a.transaction(async (tx) => {
      for (const id of ids) await tx.outbox.enqueueOutbox(msg(id));
    });
    const drain = async (s: AsyncStore): Promise<string[]> => {
      const got: string[] = [];
      for (;;) {
        const batch = await s.outbox.claimOutbox(7, at(1));
        if (batch.length === 0) return got;
        got.push(...batch.map((r) => r.id));
      }
    };
    const [fromA, fromB] = await Promise.all([drain(a), drain(b)]);
    const all = [...fromA, ...fromB];
    expect(all).toHaveLength(ids.length);
    expect(new Set(all).size).toBe(ids.length);
    expect(all.sort()).toEqual(ids);
    expect(fromA.length + fromB.length).toBe(120);
    expect((await a.outbox.listOutbox({ limit: 1000 })).every((r) => r.attempts === 1)).toBe(true);
  });

  if (h.dialect === 'postgres') {
    it('wakes a listener on another connection when a message commits, not before, and not for a rollback', async () => {
      const s = await h.fresh({ now: clock });
      const other = await h.another();
      const heard: string[] = [];
      const listener = await listenOutbox(s.url, (id) => heard.push(id));
      try {
        // A marker NOTIFY, committed while the message's transaction is still open: notifications
        // arrive in commit order, so the message can only be heard after the marker.
        await s.transaction(async (tx) => {
          await tx.outbox.enqueueOutbox(msg('w1'));
          await other.db.run('SELECT pg_notify(?, ?)', [OUTBOX_CHANNEL, 'marker-1']);
        });
        await waitFor(heard, (a) => a.length >= 2);
        expect(heard).toEqual(['marker-1', 'w1']);

        await expect(
          s.transaction(async (tx) => {
            await tx.outbox.enqueueOutbox(msg('w2'));
            throw new Error('undo');
          }),
        ).rejects.toThrow('undo');
        await s.outbox.enqueueOutbox(msg('w3', { state: 'held' })); // not deliverable: silent
        await s.outbox.enqueueOutbox(msg('w4'));
        await waitFor(heard, (a) => a.length >= 3);
        expect(heard).toEqual(['marker-1', 'w1', 'w4']);
      } finally {
        await listener.close();
      }
    });

    it('wakes a listener when a message becomes deliverable again (retry, hold released)', async () => {
      const s = await h.fresh({ now: clock });
      await s.outbox.enqueueOutbox(msg('r1'));
      await s.outbox.markOutboxFailed('r1', 'dead', null);
      await s.outbox.enqueueOutbox(msg('r2'));
      await s.outbox.holdOutbox('r2', { reason: 'x', by: 'qa', at: T0 });
      const heard: string[] = [];
      const listener = await listenOutbox((s.root as PgDb).pool, (id) => heard.push(id));
      try {
        await s.outbox.markOutboxFailed('r2', 'still held', at(5)); // stays held: silent
        await s.outbox.retryDeadOutbox('r1', T0);
        await s.outbox.releaseOutboxHold('r2');
        await waitFor(heard, (a) => a.length >= 2);
        expect(heard).toEqual(['r1', 'r2']);
      } finally {
        await listener.close();
      }
    });
  }
});
