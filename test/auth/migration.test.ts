// Migration 7 (identities, sessions, tokens, API submissions, signatures) on a database holding data.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, Store } from '../../pipeline/store/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('migration 7', () => {
  it('brings the previous version up with its ledger and lots intact, and the new tables usable', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-m7-'));
    dirs.push(dir);
    const file = path.join(dir, 'lotgate.db');
    const before = MIGRATIONS.filter((m) => m.version < 7);
    const old = Store.open(file, { migrations: before });
    const sid = old.insertSubmission({ partner: 'erp', originalName: 'a.csv', size: 1, sha256: 'a'.repeat(64), source: 'cli', archivePath: '/x' });
    old.upsertLot('MAT', 'L1', { site: '1000' }, { submissionId: sid, partner: 'erp' });
    expect(old.schemaVersion).toBe(before[before.length - 1].version);
    old.close();

    const s = Store.open(file);
    try {
      expect(s.schemaVersion).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
      expect(s.getSubmission(sid)).toMatchObject({ originalName: 'a.csv' });
      expect(s.listLotsScoped([{ sites: ['1000'], materials: '*', partners: '*' }], {}, { limit: 10 }).map((l) => l.lotNumber)).toEqual(['L1']);
      const id = s.auth.insertPrincipal({ kind: 'user', username: 'u1', displayName: 'U One' });
      expect(s.auth.getPrincipal(id)).toMatchObject({ username: 'u1', failedLogins: 0, totpLastStep: null });
      expect(s.auth.acceptTotpStep(id, 100)).toBe(true);
      expect(s.auth.acceptTotpStep(id, 100)).toBe(false);
      expect(() => s.auth.insertPrincipal({ kind: 'partner_user', username: 'p1', displayName: 'P' })).toThrow(/CHECK/);
    } finally {
      s.close();
    }
  });
});
