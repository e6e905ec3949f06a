// Migration 7 (identities, sessions, tokens, API submissions, signatures) on a database holding data.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect } from 'vitest';
import { migrate, schemaVersion } from '../../pipeline/store/migrations.js';
import { MIGRATIONS, openStore } from '../../pipeline/store/store.js';
import { itSqlite } from '../setup/store-mode.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('migration 7', () => {
  // SQLite's migration 7 from a version-6 file; PostgreSQL's migrations: test/store/conformance/pg-migrate.test.ts.
  itSqlite('brings the previous version up with its ledger and lots intact, and the new tables usable', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-m7-'));
    dirs.push(dir);
    const file = path.join(dir, 'lotgate.db');
    const before = MIGRATIONS.filter((m) => m.version < 7);
    // The previous version, written as that lotgate did (the async store speaks the current schema only).
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.pragma('foreign_keys = ON');
    migrate(old, before);
    const at = new Date().toISOString();
    const sid = Number(
      old
        .prepare('INSERT INTO submissions (partner, original_name, size, sha256, received_at, source, archive_path) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run('erp', 'a.csv', 1, 'a'.repeat(64), at, 'cli', '/x').lastInsertRowid,
    );
    old.prepare('INSERT INTO lots (material_id, lot_number, site, created_at, updated_at, submission_id, partner) VALUES (?, ?, ?, ?, ?, ?, ?)').run('MAT', 'L1', '1000', at, at, sid, 'erp');
    expect(schemaVersion(old)).toBe(before[before.length - 1].version);
    old.close();

    const s = await openStore(file);
    try {
      expect((await s.health()).schemaVersion).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
      expect(await s.ledger.getSubmission(sid)).toMatchObject({ originalName: 'a.csv' });
      expect((await s.reads.listLotsScoped([{ sites: ['1000'], materials: '*', partners: '*' }], {}, { limit: 10 })).map((l) => l.lotNumber)).toEqual(['L1']);
      const id = await s.auth.insertPrincipal({ kind: 'user', username: 'u1', displayName: 'U One' });
      expect(await s.auth.getPrincipal(id)).toMatchObject({ username: 'u1', failedLogins: 0, totpLastStep: null });
      expect(await s.auth.acceptTotpStep(id, 100)).toBe(true);
      expect(await s.auth.acceptTotpStep(id, 100)).toBe(false);
      await expect(s.auth.insertPrincipal({ kind: 'partner_user', username: 'p1', displayName: 'P' })).rejects.toThrow(/CHECK/);
    } finally {
      await s.close();
    }
  });
});
