// The store additions of migration 2: an existing database is migrated with its data intact;
// per-connector deliveries, notification keys, pulled files and job-run rows behave as the jobs
// rely on.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, Store, UNFINISHED_RUN_ERROR } from '../../pipeline/store/store.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dbPath(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'lotgate-store2-'));
  dirs.push(d);
  return path.join(d, 'lotgate.db');
}
function open(p: string, opts: Parameters<typeof Store.open>[1] = {}): Store {
  const s = Store.open(p, { now: () => new Date('2026-11-20T12:00:00Z'), ...opts });
  stores.push(s);
  return s;
}
const msg = (id: string, key = 'M/L1') => ({ id, topic: 'erp.lot_readiness', key, payload: { id } });

describe('migration 2', () => {
  it('brings a version-1 database up with its outbox, runs and leases intact', () => {
    const p = dbPath();
    const v1 = open(p, { migrations: MIGRATIONS.slice(0, 1) });
    expect(v1.schemaVersion).toBe(1);
    v1.enqueueOutbox(msg('old-1'));
    v1.recordJobRun({ name: 'push', startedAt: '2026-11-20T11:00:00Z', finishedAt: '2026-11-20T11:00:01Z', status: 'ok', details: { n: 1 } });
    v1.tryAcquireLease('job:push', 'h1', 60_000, '2026-11-20T11:59:00Z');
    v1.close();

    const v2 = open(p);
    expect(v2.schemaVersion).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    expect(v2.getOutbox('old-1')).toMatchObject({ state: 'pending', payload: { id: 'old-1' } });
    expect(v2.listJobRuns({ name: 'push' })).toEqual([expect.objectContaining({ status: 'ok', details: { n: 1 } })]);
    expect(v2.getLease('job:push')?.holder).toBe('h1');
    // The old message can be tracked per connector now.
    v2.markDeliverySent('old-1', 'erp-http', '2026-11-20T12:00:00Z');
    expect(v2.listDeliveries('old-1')).toEqual([expect.objectContaining({ connector: 'erp-http', state: 'sent', attempts: 1 })]);
  });
});

describe('deliveries', () => {
  it('counts attempts per connector, never turns a sent delivery back, and resets dead ones on retry', () => {
    const s = open(dbPath());
    s.enqueueOutbox(msg('a'));
    expect(s.recordDeliveryFailure('a', 'erp', 'HTTP 503', '2026-11-20T12:01:00Z', '2026-11-20T12:00:00Z')).toBe(1);
    expect(s.recordDeliveryFailure('a', 'erp', 'HTTP 503', null, '2026-11-20T12:02:00Z')).toBe(2);
    s.markDeliverySent('a', 'qms', '2026-11-20T12:00:00Z');
    expect(s.recordDeliveryFailure('a', 'qms', 'late failure', null, '2026-11-20T12:03:00Z')).toBe(0);
    expect(s.listDeliveries('a').map((d) => [d.connector, d.state, d.attempts])).toEqual([
      ['erp', 'dead', 2],
      ['qms', 'sent', 1],
    ]);
    s.markOutboxFailed('a', 'erp: gave up', null);
    expect(s.retryDeadOutbox('a', '2026-11-20T13:00:00Z')).toEqual({ retried: true, deliveries: 1 });
    expect(s.listDeliveries('a').map((d) => [d.connector, d.state, d.attempts])).toEqual([
      ['erp', 'pending', 0],
      ['qms', 'sent', 1],
    ]);
    expect(s.retryDeadOutbox('a', '2026-11-20T13:00:00Z')).toEqual({ retried: false, deliveries: 0 });
  });

  it('finds the older undelivered message of the same key per connector', () => {
    const s = open(dbPath());
    s.enqueueOutbox(msg('first', 'K'));
    s.enqueueOutbox(msg('other-key', 'J'));
    s.enqueueOutbox(msg('second', 'K'));
    expect(s.olderUndelivered({ id: 'second', topic: 'erp.lot_readiness', key: 'K' }, 'erp')?.id).toBe('first');
    expect(s.olderUndelivered({ id: 'first', topic: 'erp.lot_readiness', key: 'K' }, 'erp')).toBeUndefined();
    s.markDeliverySent('first', 'erp', '2026-11-20T12:00:00Z');
    expect(s.olderUndelivered({ id: 'second', topic: 'erp.lot_readiness', key: 'K' }, 'erp')).toBeUndefined();
    expect(s.olderUndelivered({ id: 'second', topic: 'erp.lot_readiness', key: 'K' }, 'qms')?.id).toBe('first');
    // A dead older message no longer holds the newer state back.
    s.recordDeliveryFailure('first', 'qms', 'refused', null, '2026-11-20T12:00:00Z');
    expect(s.olderUndelivered({ id: 'second', topic: 'erp.lot_readiness', key: 'K' }, 'qms')).toBeUndefined();
    expect(s.findOutboxIdsByPrefix('fir')).toEqual([]); // ids are hex; a non-hex prefix matches nothing
  });
});

describe('notification keys, pulled files and job runs', () => {
  it('keeps a sent notification key sent', () => {
    const s = open(dbPath());
    const n = { key: 'lot_blocked:abc@qa-mail', channel: 'qa-mail', eventType: 'lot_blocked', subject: 'M / L', eventAt: '2026-11-20T10:00:00Z' };
    expect(s.recordNotification({ ...n, ok: false, error: '451' }, '2026-11-20T12:00:00Z')).toBe(1);
    expect(s.recordNotification({ ...n, ok: true }, '2026-11-20T12:01:00Z')).toBe(2);
    expect(s.recordNotification({ ...n, ok: false, error: 'x' }, '2026-11-20T12:02:00Z')).toBe(0);
    expect(s.getNotificationSent(n.key)).toMatchObject({ state: 'sent', attempts: 2, lastError: null });
  });

  it('tracks a remote file from seen to fetching to fetched, keeping the first ledger mark', () => {
    const s = open(dbPath());
    const k = { partner: 'acme-cmo', remotePath: '/out/a.csv', size: 10, mtime: 1_700_000_000_000 };
    expect(s.notePulledSeen(k, '2026-11-20T12:00:00Z')).toMatchObject({ state: 'seen', firstSeenAt: '2026-11-20T12:00:00.000Z' });
    // It grew: the earlier sighting is dropped.
    const grown = { ...k, size: 20 };
    s.notePulledSeen(grown, '2026-11-20T12:01:00Z');
    expect(s.listPulledFiles({ partner: 'acme-cmo' }).map((r) => r.size)).toEqual([20]);
    const first = s.startPullFetch(grown, '2026-11-20T12:02:00Z');
    expect(first).toMatchObject({ state: 'fetching', ledgerMark: 0 });
    s.insertSubmission({ partner: 'acme-cmo', originalName: 'a.csv', size: 20, sha256: 'f'.repeat(64), source: 'pull', archivePath: '/x' });
    expect(s.startPullFetch(grown, '2026-11-20T12:03:00Z').ledgerMark).toBe(0);
    expect(s.findPulledSubmission('acme-cmo', 'a.csv', 'f'.repeat(64), 0)).toBe(1);
    s.finishPullFetch(grown, { sha256: 'f'.repeat(64), submissionId: 1 }, '2026-11-20T12:04:00Z');
    expect(s.startPullFetch(grown, '2026-11-20T12:05:00Z')).toMatchObject({ state: 'fetched', submissionId: 1 });
  });

  it('leaves a started run looking unfinished until it is finished', () => {
    const s = open(dbPath());
    const id = s.startJobRun('pull', 'h#1', '2026-11-20T12:00:00Z', { trigger: 'schedule' });
    expect(s.listJobRuns({ name: 'pull' })[0]).toMatchObject({ status: 'error', finishedAt: null, error: UNFINISHED_RUN_ERROR });
    s.finishJobRun(id, { finishedAt: '2026-11-20T12:00:05Z', status: 'ok', details: { counts: { fetched: 2 } } });
    expect(s.listJobRuns({ name: 'pull' })[0]).toMatchObject({ status: 'ok', finishedAt: '2026-11-20T12:00:05.000Z', error: null, details: { counts: { fetched: 2 } } });
  });
});
