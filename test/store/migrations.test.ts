import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LATEST_VERSION, migrate, MIGRATIONS, type Migration } from '../../pipeline/store/migrations.js';
import { Store } from '../../pipeline/store/store.js';
import { tempDir } from './helpers.js';

describe('migrations', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  const tables = (path: string) => {
    const raw = new Database(path, { readonly: true });
    try {
      return (raw.prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index','trigger') ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    } finally {
      raw.close();
    }
  };

  it('creates the schema once and is a no-op on every later open', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const path = join(t.dir, 'nested', 'lotgate.db');
    const s1 = Store.open(path);
    expect(s1.schemaVersion).toBe(LATEST_VERSION);
    const sub = s1.insertSubmission({ partner: 'p', originalName: 'a.csv', size: 1, sha256: 'a'.repeat(64), source: 'cli', archivePath: '/x' });
    s1.close();
    const before = tables(path);
    for (const name of ['submissions', 'lots', 'lot_identifiers', 'audit_events', 'outbox', 'job_leases', 'deviation_lots', 'audit_events_no_update']) {
      expect(before).toContain(name);
    }

    const s2 = Store.open(path);
    expect(s2.schemaVersion).toBe(LATEST_VERSION);
    expect(s2.getSubmission(sub)?.originalName).toBe('a.csv');
    s2.close();
    expect(tables(path)).toEqual(before);
    const raw = new Database(path);
    try {
      expect(migrate(raw)).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION });
    } finally {
      raw.close();
    }
  });

  it('sets the connection pragmas', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const path = join(t.dir, 'db.sqlite');
    Store.open(path).close();
    const raw = new Database(path);
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal'); // persistent in the file
    } finally {
      raw.close();
    }
  });

  it('applies only newer migrations, in order, and rolls back a failing one entirely', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const path = join(t.dir, 'db.sqlite');
    const extra: Migration[] = [
      ...MIGRATIONS,
      { version: LATEST_VERSION + 1, name: 'add note', sql: 'ALTER TABLE lots ADD COLUMN note TEXT;' },
    ];
    const broken: Migration[] = [
      ...extra,
      { version: LATEST_VERSION + 2, name: 'half broken', sql: 'CREATE TABLE t_ok (x); INSERT INTO no_such_table VALUES (1);' },
    ];
    Store.open(path).close();
    Store.open(path, { migrations: extra }).close();
    expect(() => Store.open(path, { migrations: broken })).toThrow(/migration .* \(half broken\) failed/);
    const raw = new Database(path);
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(LATEST_VERSION + 1);
      expect(tables(path)).not.toContain('t_ok');
      expect((raw.prepare('PRAGMA table_info(lots)').all() as { name: string }[]).map((c) => c.name)).toContain('note');
    } finally {
      raw.close();
    }
  });

  it('refuses a database from a newer lotgate, and read-only opens of an unmigrated one', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const newer = join(t.dir, 'newer.db');
    const raw = new Database(newer);
    raw.pragma(`user_version = ${LATEST_VERSION + 5}`);
    raw.close();
    expect(() => Store.open(newer)).toThrow(/newer than this lotgate/);

    const empty = join(t.dir, 'empty.db');
    new Database(empty).close();
    expect(() => Store.open(empty, { readonly: true })).toThrow(/open it once read-write/);
    expect(() => Store.open(join(t.dir, 'missing.db'), { readonly: true })).toThrow();

    Store.open(empty).close();
    const ro = Store.open(empty, { readonly: true });
    expect(ro.listSubmissions()).toEqual([]);
    expect(() => ro.insertSubmission({ partner: 'p', originalName: 'a', size: 1, sha256: 'b', source: 'cli', archivePath: '/x' })).toThrow(/readonly/i);
    ro.close();
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
});
