// The outbox and the job leases and runs on both dialects (ported from the sync Store's
// test/store/outbox-jobs.test.ts): the idempotency key, claiming and marking, dead letters and
// retries, messages held for a submission; one lease holder until expiry or release; job runs.

import { expect, it } from 'vitest';
import { addSubmission } from '../helpers.js';
import { describeStore } from './harness.js';

const msg = (id: string, extra: Record<string, unknown> = {}) => ({ id, topic: 'lot.readiness', target: 'erp', key: 'lot:000123/L1', payload: { state: 'READY', n: id }, ...extra });

describeStore('outbox, leases and job runs', (h) => {
  const setup = async () => ({ s: await h.fresh({ now: () => new Date('2026-03-01T12:00:00Z') }), lotId: 0 });

  it('stores a message id once (the idempotency key)', async () => {
    const { s } = await setup();
    expect(await s.outbox.enqueueOutbox(msg('m1'))).toBe(true);
    expect(await s.outbox.enqueueOutbox({ ...msg('m1'), payload: { state: 'BLOCKED' } })).toBe(false);
    const rows = await s.outbox.listOutbox();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 'm1', state: 'pending', attempts: 0, payload: { state: 'READY', n: 'm1' }, target: 'erp', key: 'lot:000123/L1' });
    expect(rows[0].nextAttemptAt).toBe('2026-03-01T12:00:00.000Z');
  });

  it('claims due messages, hides them while in flight, and marks them sent or failed', async () => {
    const { s } = await setup();
    await s.outbox.enqueueOutbox(msg('a'));
    await s.outbox.enqueueOutbox(msg('b'));
    await s.outbox.enqueueOutbox(msg('c'));
    expect(await s.outbox.claimOutbox(10, '2026-03-01T11:59:59Z')).toEqual([]); // not due yet

    const now = '2026-03-01T12:00:00Z';
    const claimed = await s.outbox.claimOutbox(2, now, 60_000);
    expect(claimed.map((m) => m.id)).toEqual(['a', 'b']);
    expect(claimed[0]).toMatchObject({ attempts: 1, nextAttemptAt: '2026-03-01T12:01:00.000Z' });
    // In flight: a second pusher gets only the rest.
    expect((await s.outbox.claimOutbox(10, now)).map((m) => m.id)).toEqual(['c']);

    expect(await s.outbox.markOutboxSent('a', '2026-03-01T12:00:05Z')).toBe(true);
    expect(await s.outbox.markOutboxSent('a', '2026-03-01T12:00:06Z')).toBe(false);
    expect(await s.outbox.getOutbox('a')).toMatchObject({ state: 'sent', sentAt: '2026-03-01T12:00:05.000Z', nextAttemptAt: null });

    expect(await s.outbox.markOutboxFailed('b', 'HTTP 503', '2026-03-01T12:05:00Z')).toBe(true);
    expect(await s.outbox.getOutbox('b')).toMatchObject({ state: 'pending', lastError: 'HTTP 503', attempts: 1 });
    expect((await s.outbox.claimOutbox(10, '2026-03-01T12:04:59Z')).map((m) => m.id)).toEqual([]);
    const again = await s.outbox.claimOutbox(10, '2026-03-01T12:05:00Z');
    expect(again.map((m) => [m.id, m.attempts])).toEqual([['b', 2], ['c', 2]]);

    // Out of attempts: dead letter, never claimed again until an operator retries it.
    expect(await s.outbox.markOutboxFailed('b', 'HTTP 400', null)).toBe(true);
    expect(await s.outbox.getOutbox('b')).toMatchObject({ state: 'dead', lastError: 'HTTP 400' });
    expect((await s.outbox.claimOutbox(10, '2030-01-01T00:00:00Z')).map((m) => m.id)).toEqual(['c']);
    expect(await s.outbox.markOutboxFailed('a', 'late failure', null)).toBe(false); // already sent
    expect(await s.outbox.retryOutbox('a')).toBe(false);
    expect(await s.outbox.retryOutbox('b')).toBe(true);
    expect(await s.outbox.getOutbox('b')).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await s.outbox.countOutbox()).toEqual({ pending: 2, sent: 1, dead: 0, held: 0 });
  });

  it('holds messages of a submission until released', async () => {
    const { s } = await setup();
    const sub = await addSubmission(s, 'acme-cmo');
    const other = await addSubmission(s, 'acme-cmo');
    await s.outbox.enqueueOutbox(msg('h1', { submissionId: sub, state: 'held' }));
    await s.outbox.enqueueOutbox(msg('h2', { submissionId: sub, state: 'held' }));
    await s.outbox.enqueueOutbox(msg('h3', { submissionId: other, state: 'held' }));
    expect(await s.outbox.claimOutbox(10, '2030-01-01T00:00:00Z')).toEqual([]);
    expect(await s.outbox.listOutbox({ state: 'held' })).toHaveLength(3);
    expect(await s.outbox.releaseHeldOutbox(sub)).toBe(2);
    expect(await s.outbox.releaseHeldOutbox(sub)).toBe(0);
    expect((await s.outbox.claimOutbox(10, '2030-01-01T00:00:00Z')).map((m) => m.id)).toEqual(['h1', 'h2']);
    expect((await s.outbox.listOutbox({ submissionId: other })).map((m) => m.state)).toEqual(['held']);
  });

  it('a lease belongs to one holder until it expires or is released', async () => {
    const { s } = await setup();
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    expect(await s.jobs.tryAcquireLease('sweep', 'proc-a', 60_000, t0)).toBe(true);
    expect(await s.jobs.tryAcquireLease('sweep', 'proc-b', 60_000, t0 + 59_999)).toBe(false);
    // Other jobs are independent.
    expect(await s.jobs.tryAcquireLease('push', 'proc-b', 60_000, t0)).toBe(true);
    // The holder renews.
    expect(await s.jobs.tryAcquireLease('sweep', 'proc-a', 60_000, t0 + 30_000)).toBe(true);
    expect(await s.jobs.getLease('sweep')).toEqual({ name: 'sweep', holder: 'proc-a', expiresAt: new Date(t0 + 90_000).toISOString() });
    expect(await s.jobs.tryAcquireLease('sweep', 'proc-b', 60_000, t0 + 89_999)).toBe(false);
    expect(await s.jobs.tryAcquireLease('sweep', 'proc-b', 60_000, new Date(t0 + 90_000))).toBe(true);
    expect(await s.jobs.tryAcquireLease('sweep', 'proc-a', 60_000, t0 + 90_001)).toBe(false);
    // Only the holder can release.
    expect(await s.jobs.releaseLease('sweep', 'proc-a')).toBe(false);
    expect(await s.jobs.releaseLease('sweep', 'proc-b')).toBe(true);
    expect(await s.jobs.tryAcquireLease('sweep', 'proc-a', 60_000, t0 + 90_002)).toBe(true);
  });

  it('records job runs and lists them newest first', async () => {
    const { s } = await setup();
    const r1 = await s.jobs.recordJobRun({ name: 'sweep', holder: 'a', startedAt: '2026-03-01T00:00:00Z', finishedAt: '2026-03-01T00:00:02Z', status: 'ok', details: { lots: 3 } });
    await s.jobs.recordJobRun({ name: 'push', startedAt: '2026-03-01T00:01:00Z', status: 'error', error: 'HTTP 500' });
    const r3 = await s.jobs.recordJobRun({ name: 'sweep', startedAt: '2026-03-01T00:02:00Z', status: 'skipped' });
    expect((await s.jobs.listJobRuns({ name: 'sweep' })).map((r) => r.id)).toEqual([r3, r1]);
    expect((await s.jobs.listJobRuns({ limit: 1 }))[0].id).toBe(r3);
    expect((await s.jobs.listJobRuns({ name: 'sweep' }))[1]).toMatchObject({ holder: 'a', details: { lots: 3 }, finishedAt: '2026-03-01T00:00:02.000Z', status: 'ok' });
    expect((await s.jobs.listJobRuns({ name: 'push' }))[0]).toMatchObject({ status: 'error', error: 'HTTP 500', details: null });
  });
});
