import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../pipeline/store/store.js';
import { addSubmission, tempStore } from './helpers.js';

describe('outbox', () => {
  let t: ReturnType<typeof tempStore>;
  let store: Store;
  beforeEach(() => {
    t = tempStore();
    store = t.store;
  });
  afterEach(() => t.cleanup());

  const msg = (id: string, extra: Record<string, unknown> = {}) => ({ id, topic: 'lot.readiness', target: 'erp', key: 'lot:000123/L1', payload: { state: 'READY', n: id }, ...extra });

  it('stores a message id once (the idempotency key)', () => {
    expect(store.enqueueOutbox(msg('m1'))).toBe(true);
    expect(store.enqueueOutbox({ ...msg('m1'), payload: { state: 'BLOCKED' } })).toBe(false);
    const rows = store.listOutbox();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 'm1', state: 'pending', attempts: 0, payload: { state: 'READY', n: 'm1' }, target: 'erp', key: 'lot:000123/L1' });
    expect(rows[0].nextAttemptAt).toBe('2026-03-01T12:00:00.000Z');
  });

  it('claims due messages, hides them while in flight, and marks them sent or failed', () => {
    store.enqueueOutbox(msg('a'));
    store.enqueueOutbox(msg('b'));
    store.enqueueOutbox(msg('c'));
    expect(store.claimOutbox(10, '2026-03-01T11:59:59Z')).toEqual([]); // not due yet

    const now = '2026-03-01T12:00:00Z';
    const claimed = store.claimOutbox(2, now, 60_000);
    expect(claimed.map((m) => m.id)).toEqual(['a', 'b']);
    expect(claimed[0]).toMatchObject({ attempts: 1, nextAttemptAt: '2026-03-01T12:01:00.000Z' });
    // In flight: a second pusher gets only the rest.
    expect(store.claimOutbox(10, now).map((m) => m.id)).toEqual(['c']);

    expect(store.markOutboxSent('a', '2026-03-01T12:00:05Z')).toBe(true);
    expect(store.markOutboxSent('a', '2026-03-01T12:00:06Z')).toBe(false);
    expect(store.getOutbox('a')).toMatchObject({ state: 'sent', sentAt: '2026-03-01T12:00:05.000Z', nextAttemptAt: null });

    expect(store.markOutboxFailed('b', 'HTTP 503', '2026-03-01T12:05:00Z')).toBe(true);
    expect(store.getOutbox('b')).toMatchObject({ state: 'pending', lastError: 'HTTP 503', attempts: 1 });
    expect(store.claimOutbox(10, '2026-03-01T12:04:59Z').map((m) => m.id)).toEqual([]);
    const again = store.claimOutbox(10, '2026-03-01T12:05:00Z');
    expect(again.map((m) => [m.id, m.attempts])).toEqual([['b', 2], ['c', 2]]);

    // Out of attempts: dead letter, never claimed again until an operator retries it.
    expect(store.markOutboxFailed('b', 'HTTP 400', null)).toBe(true);
    expect(store.getOutbox('b')).toMatchObject({ state: 'dead', lastError: 'HTTP 400' });
    expect(store.claimOutbox(10, '2030-01-01T00:00:00Z').map((m) => m.id)).toEqual(['c']);
    expect(store.markOutboxFailed('a', 'late failure', null)).toBe(false); // already sent
    expect(store.retryOutbox('a')).toBe(false);
    expect(store.retryOutbox('b')).toBe(true);
    expect(store.getOutbox('b')).toMatchObject({ state: 'pending', attempts: 0 });
    expect(store.countOutbox()).toEqual({ pending: 2, sent: 1, dead: 0, held: 0 });
  });

  it('holds messages of a submission until released', () => {
    const sub = addSubmission(store, 'acme-cmo');
    const other = addSubmission(store, 'acme-cmo');
    store.enqueueOutbox(msg('h1', { submissionId: sub, state: 'held' }));
    store.enqueueOutbox(msg('h2', { submissionId: sub, state: 'held' }));
    store.enqueueOutbox(msg('h3', { submissionId: other, state: 'held' }));
    expect(store.claimOutbox(10, '2030-01-01T00:00:00Z')).toEqual([]);
    expect(store.listOutbox({ state: 'held' })).toHaveLength(3);
    expect(store.releaseHeldOutbox(sub)).toBe(2);
    expect(store.releaseHeldOutbox(sub)).toBe(0);
    expect(store.claimOutbox(10, '2030-01-01T00:00:00Z').map((m) => m.id)).toEqual(['h1', 'h2']);
    expect(store.listOutbox({ submissionId: other }).map((m) => m.state)).toEqual(['held']);
  });
});

describe('job leases and runs', () => {
  let t: ReturnType<typeof tempStore>;
  beforeEach(() => {
    t = tempStore();
  });
  afterEach(() => t.cleanup());

  it('a lease belongs to one holder until it expires or is released', () => {
    const { store } = t;
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    expect(store.tryAcquireLease('sweep', 'proc-a', 60_000, t0)).toBe(true);
    expect(store.tryAcquireLease('sweep', 'proc-b', 60_000, t0 + 59_999)).toBe(false);
    // Other jobs are independent.
    expect(store.tryAcquireLease('push', 'proc-b', 60_000, t0)).toBe(true);
    // The holder renews.
    expect(store.tryAcquireLease('sweep', 'proc-a', 60_000, t0 + 30_000)).toBe(true);
    expect(store.getLease('sweep')).toEqual({ name: 'sweep', holder: 'proc-a', expiresAt: new Date(t0 + 90_000).toISOString() });
    expect(store.tryAcquireLease('sweep', 'proc-b', 60_000, t0 + 89_999)).toBe(false);
    expect(store.tryAcquireLease('sweep', 'proc-b', 60_000, new Date(t0 + 90_000))).toBe(true);
    expect(store.tryAcquireLease('sweep', 'proc-a', 60_000, t0 + 90_001)).toBe(false);
    // Only the holder can release.
    expect(store.releaseLease('sweep', 'proc-a')).toBe(false);
    expect(store.releaseLease('sweep', 'proc-b')).toBe(true);
    expect(store.tryAcquireLease('sweep', 'proc-a', 60_000, t0 + 90_002)).toBe(true);
  });

  it('a lease is exclusive across connections to the same file', () => {
    const other = Store.open(t.path);
    try {
      const now = '2026-03-01T00:00:00Z';
      expect(t.store.tryAcquireLease('import', 'a', 10_000, now)).toBe(true);
      expect(other.tryAcquireLease('import', 'b', 10_000, now)).toBe(false);
    } finally {
      other.close();
    }
  });

  it('records job runs and lists them newest first', () => {
    const { store } = t;
    const r1 = store.recordJobRun({ name: 'sweep', holder: 'a', startedAt: '2026-03-01T00:00:00Z', finishedAt: '2026-03-01T00:00:02Z', status: 'ok', details: { lots: 3 } });
    store.recordJobRun({ name: 'push', startedAt: '2026-03-01T00:01:00Z', status: 'error', error: 'HTTP 500' });
    const r3 = store.recordJobRun({ name: 'sweep', startedAt: '2026-03-01T00:02:00Z', status: 'skipped' });
    expect(store.listJobRuns({ name: 'sweep' }).map((r) => r.id)).toEqual([r3, r1]);
    expect(store.listJobRuns({ limit: 1 })[0].id).toBe(r3);
    expect(store.listJobRuns({ name: 'sweep' })[1]).toMatchObject({ holder: 'a', details: { lots: 3 }, finishedAt: '2026-03-01T00:00:02.000Z', status: 'ok' });
    expect(store.listJobRuns({ name: 'push' })[0]).toMatchObject({ status: 'error', error: 'HTTP 500', details: null });
  });
});
