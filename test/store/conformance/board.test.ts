// The board area's promises on both dialects: the board, digest, recompute and metrics reads give
// what the sync modules gave on a SQLite file holding the same rows (recorded, reference.ts; so the two dialects agree
// with each other too), in the same order, with numbers as numbers; latestPushes keeps one
// message per key and topic (the newest, the lower id on a tie) over any number of keys; and
// probeWritable resolves only when the store takes writes, leaving nothing behind.

import Database from 'better-sqlite3';
import pg from 'pg';
import { expect, it } from 'vitest';
import { auditArea } from '../../../pipeline/store/areas/audit.js';
import { boardArea } from '../../../pipeline/store/areas/board.js';
import type { Db } from '../../../pipeline/store/db/db.js';
import { SqliteDb } from '../../../pipeline/store/dialect/sqlite/driver.js';
import { describeStore, type OpenedStore } from './harness.js';
import { call, reference } from './reference.js';

const T1 = '2026-03-01T10:00:00.000Z';
const T2 = '2026-03-02T10:00:00.000Z';
const T3 = '2026-03-03T10:00:00.000Z';
/** Leases that ran out before this are stale. */
const STALE_BEFORE = new Date(1_000_000);

const KEYS = ['MAT-1/L1', 'mat-2/L2', 'MAT-9/L6', 'nobody/none'];

/** A small installation, written with plain SQL (and the audit area, so the chain is valid). */
async function seed(db: Db): Promise<void> {
  const run = (sql: string, args: unknown[] = []) => db.run(sql, args);
  const sub = `INSERT INTO submissions (id, partner, original_name, size, sha256, received_at, source, archive_path, state, "rows", applied, rejected) VALUES (?, ?, 'f.csv', 1, 'x', ?, 'cli', 'a', ?, ?, ?, ?)`;
  await run(sub, [1, 'acme', T1, 'applied', 10, 8, 2]);
  await run(sub, [2, 'acme', T2, 'applied', 5, 5, 0]);
  await run(sub, [3, 'acme', T3, 'received', 0, 0, 0]);
  await run(sub, [4, 'beta', T1, 'rejected', 3, 0, 3]);
  // Upper case sorts before lower case in byte order (COLLATE "C" = SQLite BINARY).
  await run(sub, [5, 'Zeta', T2, 'quarantined', 0, 0, 0]);

  const mat = `INSERT INTO materials (material_id, description, product_family, updated_at) VALUES (?, ?, ?, ?)`;
  await run(mat, ['MAT-1', 'Tablets 10 mg', 'oral', T1]);
  await run(mat, ['mat-2', null, 'inject', T1]);
  const lot = `INSERT INTO lots (id, material_id, lot_number, site, vendor, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`;
  await run(lot, [1, 'MAT-1', 'L1', 'S1', 'V1', T1, T1]);
  await run(lot, [2, 'MAT-1', 'L2', null, 'V1', T1, T1]);
  await run(lot, [3, 'MAT-1', 'L10', 'S2', null, T1, T1]);
  await run(lot, [4, 'mat-2', 'L2', 'S1', 'V2', T1, T1]);
  await run(lot, [5, 'MAT-9', 'L5', null, null, T1, T1]);
  await run(lot, [6, 'MAT-9', 'L6', null, null, T1, T1]);

  const ready = `INSERT INTO lot_readiness (lot_id, state, late, readiness, computed_at) VALUES (?, ?, ?, ?, ?)`;
  const reason = { code: 'DEVIATION_OPEN', severity: 'BLOCKED', message: 'Deviation DEV-1 is open', evidence: [{ kind: 'deviation', ref: 'DEV-1' }] };
  await run(ready, [1, 'BLOCKED', 1, JSON.stringify({ state: 'BLOCKED', late: true, reasons: [reason], lateStages: [{ stage: 'qa_release', dueDate: '2026-03-01' }] }), T2]);
  await run(ready, [2, 'READY', 0, JSON.stringify({ state: 'READY', late: false, reasons: [] }), T2]);
  await run(ready, [3, 'CONDITIONAL', 0, JSON.stringify({ state: 'CONDITIONAL', late: false, reasons: [] }), T2]);
  await run(ready, [4, 'NOT_READY', 0, JSON.stringify({ state: 'NOT_READY', late: false, reasons: [] }), T3]);
  // An unreadable document: both readers fall back to the columns.
  await run(ready, [5, 'READY', 1, 'not json', T3]);
  // Lot 6 has no readiness yet: UNASSESSED in the metrics, absent from the board.

  const disp = `INSERT INTO dispositions (lot_id, decision, decided_at, recorded_at) VALUES (?, ?, ?, ?)`;
  await run(disp, [2, 'quarantine', T1, T1]);
  await run(disp, [2, 'released', T2, T2]); // newest: released → off the board
  await run(disp, [3, 'released', T1, T1]);
  await run(disp, [3, 'quarantine', T2, T2]); // newest: quarantine → on the board
  await run(disp, [4, 'rejected', T1, T1]); // off the board

  const dev = `INSERT INTO deviations (id, issuer, partner_ref, title, classification, status, capa_refs, opened_at, closed_at, updated_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  await run(dev, [1, 'acme', 'DEV-1', 'first', 'major', 'open', '[]', T1, null, T1, T1]);
  await run(dev, [2, 'acme', 'DEV-1', 'second', 'critical', 'closed', '["CAPA-1","CAPA-2"]', T1, T3, T3, T3]);
  await run(dev, [3, 'acme', 'DEV-2', null, 'minor', 'investigation', '[]', T2, null, T2, T2]);
  await run(dev, [4, 'beta', 'DEV-1', 'other issuer', 'minor', 'open', '[]', T2, null, T2, T2]);
  await run('INSERT INTO deviation_lots (deviation_id, lot_id) VALUES (1, 1), (1, 4), (2, 4), (2, 3), (4, 6)');

  const msg = `INSERT INTO outbox (id, topic, "key", payload, state, created_at) VALUES (?, ?, ?, '{}', ?, ?)`;
  await run(msg, ['a1', 'lot.readiness', 'MAT-1/L1', 'sent', T1]);
  await run(msg, ['a2', 'lot.readiness', 'MAT-1/L1', 'pending', T2]);
  await run(msg, ['a3', 'lot.release', 'MAT-1/L1', 'dead', T1]);
  await run(msg, ['b2', 'lot.readiness', 'mat-2/L2', 'held', T3]);
  await run(msg, ['c1', 'lot.readiness', 'OTHER/L1', 'pending', T1]);
  const del = `INSERT INTO outbox_deliveries (outbox_id, connector, state, attempts, last_error, sent_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`;
  await run(del, ['a2', 'qms', 'pending', 2, 'timeout', null, T2]);
  await run(del, ['a2', 'erp', 'sent', 1, null, T2, T2]);
  await run(del, ['a3', 'erp', 'dead', 5, 'HTTP 500', null, T2]);
  await run(del, ['b2', 'erp', 'pending', 0, null, null, T3]);
  await run(del, ['c1', 'erp', 'pending', 0, null, null, T1]);

  const lease = 'INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?)';
  await run(lease, ['digest', 'host-a', 500_000]);
  await run(lease, ['Alpha', 'host-b', 999_999]);
  await run(lease, ['notify', 'host-a', 1_000_000]); // expires exactly at the threshold: not stale
  await run(lease, ['sweep', 'host-c', 9_000_000]);

  const audit = auditArea(db);
  await audit.appendAudit({ actor: 'op', action: 'audit.verified', details: { ok: true }, at: T1 });
  await audit.appendAudit({ actor: 'anonymous', action: 'auth.login.failed', details: {}, at: T2 });
  await audit.appendAudit({ actor: 'op', action: 'audit.verified', details: { ok: true }, at: T3 });
  await audit.appendAudit({ actor: 'anonymous', action: 'auth.login.failed', details: {}, at: T3 });
}

/** What the sync Store answered on the same rows (reference.ts). */
const REF = reference('board');
const want = (method: string, ...args: unknown[]): unknown => REF(call(method, ...args));

async function seeded(h: { fresh(): Promise<OpenedStore> }): Promise<OpenedStore> {
  const s = await h.fresh();
  await seed(s.db);
  return s;
}

describeStore('board area', (h) => {
  it('latestPushes: the newest message per key and topic with its deliveries, as the sync read gives it', async () => {
    const s = await seeded(h);
    const got = await boardArea(s.db).latestPushes(KEYS);
    expect(got).toEqual(want('latestPushes', KEYS));
    expect([...got.keys()]).toEqual(['MAT-1/L1', 'mat-2/L2']);
    expect(got.get('MAT-1/L1')).toEqual([
      {
        key: 'MAT-1/L1',
        topic: 'lot.readiness',
        messageId: 'a2',
        state: 'pending',
        createdAt: T2,
        connectors: [
          { connector: 'erp', state: 'sent', sentAt: T2, lastError: null },
          { connector: 'qms', state: 'pending', sentAt: null, lastError: 'timeout' },
        ],
      },
      { key: 'MAT-1/L1', topic: 'lot.release', messageId: 'a3', state: 'dead', createdAt: T1, connectors: [{ connector: 'erp', state: 'dead', sentAt: null, lastError: 'HTTP 500' }] },
    ]);
    expect(got.get('mat-2/L2')!.map((p) => p.messageId)).toEqual(['b2']);
    expect((await boardArea(s.db).latestPushes([])).size).toBe(0);
  });

  it('latestPushes: two messages of one topic at one instant — the lower id, on both dialects', async () => {
    // The sync read keeps whichever SQLite happens to return first (insertion order in practice);
    // PostgreSQL has no such order, so the port breaks the tie by id. Inserted higher id first.
    const s = await h.fresh();
    const msg = `INSERT INTO outbox (id, topic, "key", payload, state, created_at) VALUES (?, 'lot.readiness', 'TIE/L', '{}', ?, ?)`;
    await s.db.run(msg, ['f9', 'pending', T3]);
    await s.db.run(msg, ['f2', 'held', T3]);
    await s.db.run(msg, ['f1', 'sent', T2]);
    const got = await boardArea(s.db).latestPushes(['TIE/L']);
    expect(got.get('TIE/L')!.map((p) => [p.messageId, p.state])).toEqual([['f2', 'held']]);
  });

  it('latestPushes: over a thousand keys (chunked IN lists), duplicates and keys case-sensitive', async () => {
    const s = await seeded(h);
    const many = [...Array.from({ length: 1200 }, (_, i) => `X-${i}/L`), 'mat-2/L2', 'MAT-1/L1', 'mat-1/l1', 'MAT-1/L1'];
    const got = await boardArea(s.db).latestPushes(many);
    expect(got).toEqual(want('latestPushes', many));
    expect([...got.keys()]).toEqual(['MAT-1/L1', 'mat-2/L2']);
  });

  it('metricsSnapshot: the same counts, sums, order and stale leases as the sync module, numbers as numbers', async () => {
    const s = await seeded(h);
    const got = await boardArea(s.db).metricsSnapshot(STALE_BEFORE);
    expect(got).toEqual(want('metricsSnapshot', STALE_BEFORE));
    expect(got).toEqual({
      filesByPartnerState: [
        { partner: 'Zeta', state: 'quarantined', n: 1 },
        { partner: 'acme', state: 'applied', n: 2 },
        { partner: 'acme', state: 'received', n: 1 },
        { partner: 'beta', state: 'rejected', n: 1 },
      ],
      rowsByPartner: [
        { partner: 'Zeta', rows: 0, applied: 0, rejected: 0 },
        { partner: 'acme', rows: 15, applied: 13, rejected: 2 },
        { partner: 'beta', rows: 3, applied: 0, rejected: 3 },
      ],
      readiness: [
        { state: 'BLOCKED', n: 1 },
        { state: 'CONDITIONAL', n: 1 },
        { state: 'NOT_READY', n: 1 },
        { state: 'READY', n: 2 },
        { state: 'UNASSESSED', n: 1 },
      ],
      outboxOldestUndelivered: [
        { connector: 'erp', createdAt: T1 },
        { connector: 'qms', createdAt: T2 },
      ],
      auditLastVerifiedAt: T3,
      loginsFailed: 2,
      staleLeases: [
        { name: 'Alpha', holder: 'host-b', expiresAt: new Date(999_999).toISOString() },
        { name: 'digest', holder: 'host-a', expiresAt: new Date(500_000).toISOString() },
      ],
    });
  });

  it('metricsSnapshot on an empty store: empty lists, no verification, zero failures', async () => {
    const s = await h.fresh();
    expect(await boardArea(s.db).metricsSnapshot(STALE_BEFORE)).toEqual({
      filesByPartnerState: [],
      rowsByPartner: [],
      readiness: [],
      outboxOldestUndelivered: [],
      auditLastVerifiedAt: null,
      loginsFailed: 0,
      staleLeases: [],
    });
  });

  it('getDeviationWithLots: the newest version and the lots of every version, only of that issuer', async () => {
    const s = await seeded(h);
    const board = boardArea(s.db);
    const got = await board.getDeviationWithLots('acme', 'DEV-1');
    expect(got).toEqual(want('getDeviationWithLots', 'acme', 'DEV-1'));
    expect(got).toEqual({
      deviation: {
        partnerRef: 'DEV-1',
        issuer: 'acme',
        qmsRef: null,
        title: 'second',
        classification: 'critical',
        status: 'closed',
        capaRefs: ['CAPA-1', 'CAPA-2'],
        openedAt: T1,
        closedAt: T3,
        updatedAt: T3,
        submissionId: null,
      },
      lots: [
        { materialId: 'MAT-1', lotNumber: 'L1' },
        { materialId: 'MAT-1', lotNumber: 'L10' },
        { materialId: 'mat-2', lotNumber: 'L2' },
      ],
    });
    expect(await board.getDeviationWithLots('acme', 'DEV-2')).toEqual(want('getDeviationWithLots', 'acme', 'DEV-2'));
    expect((await board.getDeviationWithLots('acme', 'DEV-2'))!.lots).toEqual([]);
    expect(await board.getDeviationWithLots('beta', 'DEV-1')).toEqual(want('getDeviationWithLots', 'beta', 'DEV-1'));
    expect(await board.getDeviationWithLots('acme', 'DEV-404')).toBeUndefined();
    expect(await board.getDeviationWithLots('ACME', 'DEV-1')).toBeUndefined();
  });

  it('listOpenBoard: assessed lots whose newest disposition is not final, readiness expanded as the sync read does', async () => {
    const s = await seeded(h);
    const got = await boardArea(s.db).listOpenBoard();
    expect(got).toEqual(want('listOpenBoard'));
    expect(got.map((l) => [l.lotId, l.materialId, l.lotNumber, l.state, l.late])).toEqual([
      [1, 'MAT-1', 'L1', 'BLOCKED', true],
      [3, 'MAT-1', 'L10', 'CONDITIONAL', false],
      [5, 'MAT-9', 'L5', 'READY', true],
    ]);
    expect(got[0]).toMatchObject({ description: 'Tablets 10 mg', productFamily: 'oral', vendor: 'V1', site: 'S1', computedAt: T2 });
    expect(got[0].readiness.reasons).toEqual([{ code: 'DEVIATION_OPEN', severity: 'BLOCKED', message: 'Deviation DEV-1 is open', evidence: [{ kind: 'deviation', ref: 'DEV-1' }] }]);
    expect(got[2].readiness).toEqual({ state: 'READY', late: true, reasons: [] });
    expect(got[2].description).toBeNull();
  });

  it('probeWritable resolves on a writable store and leaves nothing behind, from two connections at once', async () => {
    const s = await h.fresh();
    const b = await h.another();
    await Promise.all([boardArea(s.db).probeWritable(), boardArea(b.db).probeWritable(), boardArea(s.db).probeWritable()]);
    expect(await s.db.get('SELECT count(*) AS n FROM job_leases')).toEqual({ n: 0 });
  });

  it('probeWritable rejects when the store takes no writes', async () => {
    const s = await h.fresh();
    if (s.db.dialect === 'sqlite') {
      // Another process holds the write lock past the busy timeout.
      const holder = new Database(s.url);
      const probe = SqliteDb.open(s.url, { busyTimeoutMs: 150 });
      try {
        holder.exec('BEGIN IMMEDIATE');
        await expect(boardArea(probe).probeWritable()).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
        holder.exec('ROLLBACK');
        await boardArea(probe).probeWritable();
      } finally {
        await probe.close();
        holder.close();
      }
      return;
    }
    // PostgreSQL: the database turned read-only (as a standby or a read-only default would make it).
    const name = new URL(s.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: s.url });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
      const late = await h.another();
      await expect(boardArea(late.db).probeWritable()).rejects.toThrow(/read-only/);
      await admin.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
      const again = await h.another();
      await boardArea(again.db).probeWritable();
    } finally {
      await admin.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
      await admin.end();
    }
  });
});
