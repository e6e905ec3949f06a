// The store additions of migration 2: an existing database is migrated with its data intact;
// per-connector deliveries, notification keys, pulled files and job-run rows behave as the jobs
// rely on.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../pipeline/store/migrations.js';
import { LATEST_VERSION, MIGRATIONS, openStore, UNFINISHED_RUN_ERROR, type OpenStore } from '../../pipeline/store/store.js';
import { itSqlite } from '../setup/store-mode.js';

const dirs: string[] = [];
const stores: OpenStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dbPath(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'lotgate-store2-'));
  dirs.push(d);
  return path.join(d, 'lotgate.db');
}
async function open(p: string): Promise<OpenStore> {
  const s = await openStore(p, { now: () => new Date('2026-11-20T12:00:00Z') });
  stores.push(s);
  return s;
}
const msg = (id: string, key = 'M/L1') => ({ id, topic: 'erp.lot_readiness', key, payload: { id } });

describe('migration 2', () => {
  // SQLite's migration 2 from a version-1 file; PostgreSQL's migrations: test/store/conformance/pg-migrate.test.ts.
  itSqlite('brings a version-1 database up with its outbox, runs and leases intact', async () => {
    const p = dbPath();
    // A database lotgate left at version 1, with the rows version 1 wrote (the store itself only
    // opens a database at the current version).
    const v1 = new Database(p);
    migrate(v1, MIGRATIONS.slice(0, 1));
    expect(schemaVersion(v1)).toBe(1);
    const now = '2026-11-20T12:00:00.000Z';
    v1.prepare(`INSERT INTO outbox (id, topic, target, "key", payload, state, attempts, next_attempt_at, created_at, submission_id) VALUES (?, ?, NULL, ?, ?, 'pending', 0, ?, ?, NULL)`).run(
      'old-1',
      'erp.lot_readiness',
      'M/L1',
      JSON.stringify({ id: 'old-1' }),
      now,
      now,
    );
    v1.prepare('INSERT INTO job_runs (name, holder, started_at, finished_at, status, details, error) VALUES (?, NULL, ?, ?, ?, ?, NULL)').run('push', '2026-11-20T11:00:00.000Z', '2026-11-20T11:00:01.000Z', 'ok', JSON.stringify({ n: 1 }));
    v1.prepare('INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?)').run('job:push', 'h1', Date.parse('2026-11-20T11:59:00Z') + 60_000);
    v1.close();

    const v2 = await open(p);
    expect((await v2.health()).schemaVersion).toBe(LATEST_VERSION);
    expect(await v2.outbox.getOutbox('old-1')).toMatchObject({ state: 'pending', payload: { id: 'old-1' } });
    expect(await v2.jobs.listJobRuns({ name: 'push' })).toEqual([expect.objectContaining({ status: 'ok', details: { n: 1 } })]);
    expect((await v2.jobs.getLease('job:push'))?.holder).toBe('h1');
    // The old message can be tracked per connector now.
    await v2.outbox.markDeliverySent('old-1', 'erp-http', '2026-11-20T12:00:00Z');
    expect(await v2.outbox.listDeliveries('old-1')).toEqual([expect.objectContaining({ connector: 'erp-http', state: 'sent', attempts: 1 })]);
  });
});

describe('deliveries', () => {
  it('counts attempts per connector, never turns a sent delivery back, and resets dead ones on retry', async () => {
    const s = await open(dbPath());
    await s.outbox.enqueueOutbox(msg('a'));
    expect(await s.outbox.recordDeliveryFailure('a', 'erp', 'HTTP 503', '2026-11-20T12:01:00Z', '2026-11-20T12:00:00Z')).toBe(1);
    expect(await s.outbox.recordDeliveryFailure('a', 'erp', 'HTTP 503', null, '2026-11-20T12:02:00Z')).toBe(2);
    await s.outbox.markDeliverySent('a', 'qms', '2026-11-20T12:00:00Z');
    expect(await s.outbox.recordDeliveryFailure('a', 'qms', 'late failure', null, '2026-11-20T12:03:00Z')).toBe(0);
    expect((await s.outbox.listDeliveries('a')).map((d) => [d.connector, d.state, d.attempts])).toEqual([
      ['erp', 'dead', 2],
      ['qms', 'sent', 1],
    ]);
    await s.outbox.markOutboxFailed('a', 'erp: gave up', null);
    expect(await s.outbox.retryDeadOutbox('a', '2026-11-20T13:00:00Z')).toEqual({ retried: true, deliveries: 1 });
    expect((await s.outbox.listDeliveries('a')).map((d) => [d.connector, d.state, d.attempts])).toEqual([
      ['erp', 'pending', 0],
      ['qms', 'sent', 1],
    ]);
    expect(await s.outbox.retryDeadOutbox('a', '2026-11-20T13:00:00Z')).toEqual({ retried: false, deliveries: 0 });
  });

  it('finds the older undelivered message of the same key per connector', async () => {
    const s = await open(dbPath());
    await s.outbox.enqueueOutbox(msg('first', 'K'));
    await s.outbox.enqueueOutbox(msg('other-key', 'J'));
    await s.outbox.enqueueOutbox(msg('second', 'K'));
    expect((await s.outbox.olderUndelivered({ id: 'second', topic: 'erp.lot_readiness', key: 'K' }, 'erp'))?.id).toBe('first');
    expect(await s.outbox.olderUndelivered({ id: 'first', topic: 'erp.lot_readiness', key: 'K' }, 'erp')).toBeUndefined();
    await s.outbox.markDeliverySent('first', 'erp', '2026-11-20T12:00:00Z');
    expect(await s.outbox.olderUndelivered({ id: 'second', topic: 'erp.lot_readiness', key: 'K' }, 'erp')).toBeUndefined();
    expect((await s.outbox.olderUndelivered({ id: 'second', topic: 'erp.lot_readiness', key: 'K' }, 'qms'))?.id).toBe('first');
    // A dead older message no longer holds the newer state back.
    await s.outbox.recordDeliveryFailure('first', 'qms', 'refused', null, '2026-11-20T12:00:00Z');
    expect(await s.outbox.olderUndelivered({ id: 'second', topic: 'erp.lot_readiness', key: 'K' }, 'qms')).toBeUndefined();
    expect(await s.outbox.findOutboxIdsByPrefix('fir')).toEqual([]); // ids are hex; a non-hex prefix matches nothing
  });
});

describe('notification keys, pulled files and job runs', () => {
  it('keeps a sent notification key sent', async () => {
    const s = await open(dbPath());
    const n = { key: 'lot_blocked:abc@qa-mail', channel: 'qa-mail', eventType: 'lot_blocked', subject: 'M / L', eventAt: '2026-11-20T10:00:00Z' };
    expect(await s.notifications.recordNotification({ ...n, ok: false, error: '451' }, '2026-11-20T12:00:00Z')).toBe(1);
    expect(await s.notifications.recordNotification({ ...n, ok: true }, '2026-11-20T12:01:00Z')).toBe(2);
    expect(await s.notifications.recordNotification({ ...n, ok: false, error: 'x' }, '2026-11-20T12:02:00Z')).toBe(0);
    expect(await s.notifications.getNotificationSent(n.key)).toMatchObject({ state: 'sent', attempts: 2, lastError: null });
  });

  it('tracks a remote file from seen to fetching to fetched, keeping the first ledger mark', async () => {
    const s = await open(dbPath());
    const k = { partner: 'acme-cmo', remotePath: '/out/a.csv', size: 10, mtime: 1_700_000_000_000 };
    expect(await s.pulls.notePulledSeen(k, '2026-11-20T12:00:00Z')).toMatchObject({ state: 'seen', firstSeenAt: '2026-11-20T12:00:00.000Z' });
    // It grew: the earlier sighting is dropped.
    const grown = { ...k, size: 20 };
    await s.pulls.notePulledSeen(grown, '2026-11-20T12:01:00Z');
    expect((await s.pulls.listPulledFiles({ partner: 'acme-cmo' })).map((r) => r.size)).toEqual([20]);
    const first = await s.pulls.startPullFetch(grown, '2026-11-20T12:02:00Z');
    expect(first).toMatchObject({ state: 'fetching', ledgerMark: 0 });
    await s.ledger.insertSubmission({ partner: 'acme-cmo', originalName: 'a.csv', size: 20, sha256: 'f'.repeat(64), source: 'pull', archivePath: '/x' });
    expect((await s.pulls.startPullFetch(grown, '2026-11-20T12:03:00Z')).ledgerMark).toBe(0);
    expect(await s.pulls.findPulledSubmission('acme-cmo', 'a.csv', 'f'.repeat(64), 0)).toBe(1);
    await s.pulls.finishPullFetch(grown, { sha256: 'f'.repeat(64), submissionId: 1 }, '2026-11-20T12:04:00Z');
    expect(await s.pulls.startPullFetch(grown, '2026-11-20T12:05:00Z')).toMatchObject({ state: 'fetched', submissionId: 1 });
  });

  it('leaves a started run looking unfinished until it is finished', async () => {
    const s = await open(dbPath());
    const id = await s.jobs.startJobRun('pull', 'h#1', '2026-11-20T12:00:00Z', { trigger: 'schedule' });
    expect((await s.jobs.listJobRuns({ name: 'pull' }))[0]).toMatchObject({ status: 'error', finishedAt: null, error: UNFINISHED_RUN_ERROR });
    await s.jobs.finishJobRun(id, { finishedAt: '2026-11-20T12:00:05Z', status: 'ok', details: { counts: { fetched: 2 } } });
    expect((await s.jobs.listJobRuns({ name: 'pull' }))[0]).toMatchObject({ status: 'ok', finishedAt: '2026-11-20T12:00:05.000Z', error: null, details: { counts: { fetched: 2 } } });
  });
});
