// A recompute compares the new readiness with the stored one by its digest (migration 13,
// lot_readiness.readiness_hash). A store written before that version has no digests: opening it
// migrates it, and the first recompute gives every unchanged lot its digest without counting a
// change, an audit event or an outbox message; after that unchanged lots are skipped by digest.

import { copyFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { recomputeReadiness } from '../../pipeline/readiness/recompute.js';
import { testLog } from '../runtime/helpers/log.js';
import { ingestText } from '../runtime/helpers/ingest.js';
import { lotsCsv, makeWorld, type World } from '../runtime/helpers/world.js';
import { itSqlite } from '../setup/store-mode.js';

let w: World;
let lg: Lotgate;

beforeEach(async () => {
  w = makeWorld();
  lg = await createLotgate(w.config, { log: testLog() });
});
afterEach(async () => {
  await lg.close();
  w.cleanup();
});

const ingest = async (name: string, text: string): Promise<void> => void (await ingestText(lg, w.dir, 'erp', name, text));

const dbPath = () => path.join(w.config.dataDir, 'lotgate.db');
const counts = async (l: Lotgate) => ({ audit: (await l.store.audit.listAudit({ action: 'lot.readiness_changed', limit: 10_000 })).length, outbox: (await l.store.outbox.listOutbox({})).length });

describe('readiness digests', () => {
  // SQLite's migration 13 from a version-12 file; PostgreSQL's migrations: test/store/conformance/pg-migrate.test.ts.
  itSqlite('upgrades a store from before migration 13 without a spurious change, then skips unchanged lots by digest', async () => {
    await ingest('LOTS_1.csv', lotsCsv(['L1', 'L2', 'L3']));
    const ids = (await lg.store.reads.listLots()).map((l) => l.lotId);
    const before = await counts(lg);
    await lg.close();

    // The same store as lotgate 12 left it: no digest column, user_version 12.
    const old = path.join(w.dir, 'v12.db');
    copyFileSync(dbPath(), old);
    const raw = new Database(old);
    const docs = raw.prepare('SELECT lot_id, readiness FROM lot_readiness ORDER BY lot_id').all();
    raw.exec('ALTER TABLE lot_readiness DROP COLUMN readiness_hash');
    raw.pragma('user_version = 12');
    raw.close();
    copyFileSync(old, dbPath());

    lg = await createLotgate(w.config, { log: testLog() });
    const db = new Database(dbPath(), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(13);
      expect(db.prepare('SELECT count(*) FROM lot_readiness WHERE readiness_hash IS NULL').pluck().get()).toBe(3);

      const at = new Date();
      expect(await lg.store.transaction((tx) => recomputeReadiness({ ...lg, store: tx }, ids, at, 'test'))).toEqual({ lots: 3, changed: 0 });
      expect(await counts(lg)).toEqual(before);
      expect(db.prepare('SELECT count(*) FROM lot_readiness WHERE readiness_hash IS NULL').pluck().get()).toBe(0);
      // The documents themselves were left as they were.
      expect(db.prepare('SELECT lot_id, readiness FROM lot_readiness ORDER BY lot_id').all()).toEqual(docs);

      // With digests, an unchanged lot is not written again.
      expect(await lg.store.transaction((tx) => recomputeReadiness({ ...lg, store: tx }, ids, at, 'test'))).toEqual({ lots: 3, changed: 0 });
      expect(await counts(lg)).toEqual(before);
    } finally {
      db.close();
    }
  });

  it('a lot whose stored digest differs is compared and rewritten; the change is counted once', async () => {
    await ingest('LOTS_1.csv', lotsCsv(['L1']));
    const [lotId] = (await lg.store.reads.listLots()).map((l) => l.lotId);
    const before = await counts(lg);
    const stored = (await lg.store.readiness.getReadiness(lotId))!;
    // Make the stored readiness differ (another state, another digest), as new facts would.
    const other = stored.state === 'BLOCKED' ? 'READY' : 'BLOCKED';
    // Tampered through the store's own connection (SQLite or PostgreSQL).
    const row = (await lg.store.db.get<{ readiness: string }>('SELECT readiness FROM lot_readiness WHERE lot_id = ?', [lotId]))!;
    const doc = JSON.stringify({ ...(JSON.parse(row.readiness) as Record<string, unknown>), state: other });
    await lg.store.db.run(`UPDATE lot_readiness SET state = ?, readiness = ?, readiness_hash = 'x' WHERE lot_id = ?`, [other, doc, lotId]);
    const r = await lg.store.transaction((tx) => recomputeReadiness({ ...lg, store: tx }, [lotId], new Date(), 'test'));
    expect(r.changed).toBe(1);
    expect((await lg.store.readiness.getReadiness(lotId))!.state).toBe(stored.state);
    expect((await counts(lg)).audit).toBe(before.audit + r.changed);
    expect((await lg.store.transaction((tx) => recomputeReadiness({ ...lg, store: tx }, [lotId], new Date(), 'test'))).changed).toBe(0);
  });
});
