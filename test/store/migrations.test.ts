// The SQLite schema runner (pipeline/store/migrations.ts) and what opening a SQLite file through
// the store does: create and migrate once, set the connection pragmas, refuse a newer file.
// PostgreSQL has its own runner (conformance/pg-migrate.test.ts).

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LATEST_VERSION, migrate, MIGRATIONS, schemaVersion, type Migration } from '../../pipeline/store/migrations.js';
import { openStore } from '../../pipeline/store/store.js';
import { tempDir, tempStore } from './helpers.js';

describe('migrations', () => {
  let cleanup: () => void | Promise<void> = () => {};
  afterEach(() => cleanup());

  const tables = (path: string) => {
    const raw = new Database(path, { readonly: true });
    try {
      return (raw.prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index','trigger') ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    } finally {
      raw.close();
    }
  };

  const versionOf = (path: string) => {
    const raw = new Database(path, { readonly: true });
    try {
      return schemaVersion(raw);
    } finally {
      raw.close();
    }
  };

  it('creates the schema once and is a no-op on every later open', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const path = join(t.dir, 'nested', 'lotgate.db');
    const s1 = await openStore(path);
    const sub = await s1.ledger.insertSubmission({ partner: 'p', originalName: 'a.csv', size: 1, sha256: 'a'.repeat(64), source: 'cli', archivePath: '/x' });
    await s1.close();
    expect(versionOf(path)).toBe(LATEST_VERSION);
    const before = tables(path);
    for (const name of ['submissions', 'lots', 'lot_identifiers', 'audit_events', 'outbox', 'job_leases', 'deviation_lots', 'audit_events_no_update']) {
      expect(before).toContain(name);
    }

    const s2 = await openStore(path);
    expect((await s2.ledger.getSubmission(sub))?.originalName).toBe('a.csv');
    await s2.close();
    expect(versionOf(path)).toBe(LATEST_VERSION);
    expect(tables(path)).toEqual(before);
    const raw = new Database(path);
    try {
      expect(migrate(raw)).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION });
    } finally {
      raw.close();
    }
  });

  it('sets the connection pragmas', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const path = join(t.dir, 'db.sqlite');
    await (await openStore(path)).close();
    const raw = new Database(path);
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal'); // persistent in the file
    } finally {
      raw.close();
    }
  });

  it('applies only newer migrations, in order, and rolls back a failing one entirely', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const path = join(t.dir, 'db.sqlite');
    const extra: Migration[] = [...MIGRATIONS, { version: LATEST_VERSION + 1, name: 'add note', sql: 'ALTER TABLE lots ADD COLUMN note TEXT;' }];
    const broken: Migration[] = [...extra, { version: LATEST_VERSION + 2, name: 'half broken', sql: 'CREATE TABLE t_ok (x); INSERT INTO no_such_table VALUES (1);' }];
    await (await openStore(path)).close();
    const raw = new Database(path);
    try {
      expect(migrate(raw, extra)).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION + 1 });
      expect(() => migrate(raw, broken)).toThrow(/migration .* \(half broken\) failed/);
      expect(raw.pragma('user_version', { simple: true })).toBe(LATEST_VERSION + 1);
      expect(tables(path)).not.toContain('t_ok');
      expect((raw.prepare('PRAGMA table_info(lots)').all() as { name: string }[]).map((c) => c.name)).toContain('note');
    } finally {
      raw.close();
    }
  });

  it('refuses a database from a newer lotgate', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const newer = join(t.dir, 'newer.db');
    const raw = new Database(newer);
    raw.pragma(`user_version = ${LATEST_VERSION + 5}`);
    raw.close();
    await expect(openStore(newer)).rejects.toThrow(/newer than this lotgate/);
  });

  it('rejects migration lists that are out of order', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const db = new Database(join(t.dir, 'x.db'));
    try {
      expect(() => migrate(db, [{ version: 2, name: 'b', sql: '' }, { version: 1, name: 'a', sql: '' }])).toThrow(/strictly increasing/);
    } finally {
      db.close();
    }
  });

  it('health reports the file and its contents', async () => {
    const t = await tempStore();
    cleanup = t.cleanup;
    const { store } = t;
    await store.ledger.insertSubmission({ partner: 'erp', originalName: 'a.csv', size: 1, sha256: 'c'.repeat(64), source: 'cli', archivePath: '/x' });
    await store.masterdata.upsertLot('000123', 'L1', {}, { submissionId: null, partner: 'erp' });
    await store.outbox.enqueueOutbox({ id: 'x', topic: 't', key: 'k', payload: null });
    await store.audit.appendAudit({ actor: 'a', action: 'job.run' });
    const h = await store.health();
    expect(h).toMatchObject({ ok: true, path: t.path, submissions: 1, lots: 1, outboxPending: 1, outboxDead: 0, auditEvents: 1 });
    expect(h.sizeBytes).toBeGreaterThan(0);
    expect(h.walBytes).toBeGreaterThan(0);
  });
});
