// The audit area's promises on both dialects: one hash chain (audit.ts's hashing over canonical
// JSON, pinned here), no fork and no gap when two machines append at once,
// the database refusing to change or remove an event, tampering found at the first bad seq, the
// reads production makes (list, search with scope, after a cursor, at an instant), and on
// PostgreSQL the two-role set-up of docs/postgres-audit-roles.md.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { auditHash, auditHashOfText, GENESIS_HASH } from '../../../pipeline/store/areas/audit.js';
import { asyncStore } from '../../../pipeline/store/areas/index.js';
import { createRolesSql, DEFAULT_AUDIT_ROLES, grantAppSql, prepareDatabaseSql } from '../../../pipeline/store/dialect/postgres/audit-roles.js';
import { openDb } from '../../../pipeline/store/open-db.js';
import { canonicalJson } from '../../../pipeline/store/canonical-json.js';
import type { AuditInput } from '../../../pipeline/store/types.js';
import { describeStore, type Harness, type OpenedStore } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const ev = (i: number, extra: Partial<AuditInput> = {}): AuditInput => ({ actor: `actor:${i % 3}`, action: 'job.run', subject: `job:${i}`, details: { i, nested: { b: 2, a: [1, 'x'] } }, ...extra });

/** Appends n events from another lotgate process (a child `node` running the TypeScript sources). */
async function appendFromAnotherProcess(url: string, n: number, started: () => void): Promise<void> {
  const script = `
    import { openDb } from ${JSON.stringify(path.join(ROOT, 'pipeline/store/open-db.ts'))};
    import { asyncStore } from ${JSON.stringify(path.join(ROOT, 'pipeline/store/areas/index.ts'))};
    const db = await openDb(process.argv[1]);
    const s = asyncStore(db);
    console.log('ready');
    await new Promise((r) => process.stdin.once('data', r));
    await Promise.all(Array.from({ length: ${n} }, (_, i) => s.audit.appendAudit({ actor: 'child', action: 'job.run', subject: 'job:child', details: { i } })));
    await db.close();
    process.stdin.destroy();`;
  const proc = spawn(process.execPath, ['--import', path.join(ROOT, 'test/scheduler/helpers/ts-register.mjs'), '--input-type=module', '-e', script, url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout.on('data', (d: Buffer) => {
    if (d.toString().includes('ready')) {
      proc.stdin.write('go\n');
      started();
    }
  });
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`the second process failed (${code}): ${err}`);
}

/**
 * The second machine. PostgreSQL: another pool in this process. SQLite: another process — two
 * SQLite connections in one process cannot wait for each other's write lock (better-sqlite3's
 * busy wait blocks the one event loop both need; see the report of issue 13).
 */
async function appendFromSecondMachine(h: Harness, s: OpenedStore, n: number, started: () => void): Promise<void> {
  if (h.dialect === 'sqlite') return appendFromAnotherProcess(s.url, n, started);
  const b = await h.another();
  started();
  await Promise.all(Array.from({ length: n }, (_, i) => b.audit.appendAudit(ev(1000 + i, { actor: 'child' }))));
}

/** As the superuser the harness connects as: runs SQL with the append-only triggers out of the way. */
async function tamper(s: OpenedStore, sql: string): Promise<void> {
  if (s.db.dialect === 'postgres') {
    await s.db.exec(`ALTER TABLE audit_events DISABLE TRIGGER USER; ${sql}; ALTER TABLE audit_events ENABLE TRIGGER USER`);
  } else {
    await s.db.exec(`DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; ${sql}`);
  }
}

describe('canonical JSON and the two hash functions', () => {
  it('canonical JSON ignores key order and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [3, 'x'] } })).toBe('{"a":{"c":[3,"x"]},"b":1}');
  });

  it('auditHashOfText hashes the canonical details text as auditHash hashes the parsed details', () => {
    const cases: unknown[] = [null, 0, -0, 1e21, 'ü\u2028"\\', [1, undefined, { b: 2, a: [] }], { z: { y: null, x: 'é' }, a: 1.5, __proto__x: true }, { '': 1, ' ': 2 }];
    for (const [i, details] of cases.entries()) {
      const detailsText = canonicalJson(details);
      for (const subject of [null, 'lot:M/L"1']) {
        const e = { seq: i + 1, at: '2026-03-01T12:00:00.000Z', actor: 'partner:a', action: 'x.y', subject };
        expect(auditHashOfText('f'.repeat(64), { ...e, detailsText })).toBe(auditHash('f'.repeat(64), { ...e, details: JSON.parse(detailsText) }));
      }
    }
  });
});

describeStore('audit', (h) => {
  it('appends a chain whose hashes are the sync module’s, and reads it back', async () => {
    const s = await h.fresh({ now: () => new Date('2026-03-01T10:00:00.000Z') });
    expect(await s.audit.auditHead()).toEqual({ seq: 0, hash: GENESIS_HASH });
    const heads = [];
    for (let i = 1; i <= 4; i++) heads.push(await s.audit.appendAudit(ev(i, i === 4 ? { at: '2026-03-02T00:00:00+02:00', subject: null, details: undefined } : {})));
    expect(heads.map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    // Recompute the chain from the events as given, with audit.ts's own hash function.
    let prev = GENESIS_HASH;
    for (let i = 1; i <= 4; i++) {
      const e = ev(i);
      const at = i === 4 ? '2026-03-01T22:00:00.000Z' : '2026-03-01T10:00:00.000Z';
      prev = auditHash(prev, { seq: i, at, actor: e.actor, action: e.action, subject: i === 4 ? null : e.subject!, details: i === 4 ? null : e.details });
      expect(heads[i - 1].hash).toBe(prev);
    }
    expect(await s.audit.auditHead()).toEqual(heads[3]);
    expect(await s.audit.auditHashAt(2)).toBe(heads[1].hash);
    expect(await s.audit.auditHashAt(9)).toBeUndefined();
    const all = await s.audit.listAudit();
    expect(all.map((r) => r.seq)).toEqual([4, 3, 2, 1]);
    expect(all[3]).toEqual({ seq: 1, at: '2026-03-01T10:00:00.000Z', actor: 'actor:1', action: 'job.run', subject: 'job:1', details: ev(1).details, prevHash: GENESIS_HASH, hash: heads[0].hash });
    expect(all[0]).toMatchObject({ subject: null, details: null, at: '2026-03-01T22:00:00.000Z' });
    expect((await s.audit.listAudit({ subject: 'job:2' })).map((r) => r.seq)).toEqual([2]);
    expect((await s.audit.listAudit({ action: 'job.run', limit: 2 })).map((r) => r.seq)).toEqual([4, 3]);
    expect(await s.audit.verifyAudit()).toEqual({ ok: true, count: 4 });
  });

  it('appendAuditMany writes the events one appendAudit each would write (more than one INSERT of them)', async () => {
    const now = () => new Date('2026-03-01T10:00:00.000Z');
    const events = Array.from({ length: 450 }, (_, i) => ev(i, i % 7 === 0 ? { at: '2026-03-02T00:00:00+02:00' } : {}));
    const one = await h.fresh({ now });
    await one.audit.appendAudit(ev(-1));
    for (const e of events) await one.audit.appendAudit(e);
    const many = await h.fresh({ now });
    await many.audit.appendAudit(ev(-1));
    const heads = await many.audit.appendAuditMany(events);
    expect(heads.map((x) => x.seq)).toEqual(events.map((_, i) => i + 2));
    expect(await many.audit.listAudit({ limit: 1000 })).toEqual(await one.audit.listAudit({ limit: 1000 }));
    expect(await many.audit.verifyAudit()).toEqual({ ok: true, count: 451 });
    expect(await many.audit.appendAuditMany([])).toEqual([]);
  });

  it('an append in a rolled-back transaction leaves no gap; one in a committed transaction stays', async () => {
    const s = await h.fresh();
    await s.audit.appendAudit(ev(1));
    await expect(
      s.transaction(async (tx) => {
        await tx.audit.appendAudit(ev(2));
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    const inTx = await s.transaction(async (tx) => [await tx.audit.appendAudit(ev(3)), await tx.audit.appendAudit(ev(4))]);
    expect(inTx.map((x) => x.seq)).toEqual([2, 3]);
    expect(await s.audit.verifyAudit()).toEqual({ ok: true, count: 3 });
  });

  it('two machines appending 50 events each at once make one chain of 100, contiguous, verified', async () => {
    const s = await h.fresh();
    let go!: () => void;
    const started = new Promise<void>((r) => (go = r));
    const mine = started.then(() => Promise.all(Array.from({ length: 50 }, (_, i) => s.audit.appendAudit(ev(i)))));
    const [, seqs] = await Promise.all([appendFromSecondMachine(h, s, 50, go), mine]);
    const rows = await s.db.all<{ seq: number; actor: string }>('SELECT seq, actor FROM audit_events ORDER BY seq');
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(rows.filter((r) => r.actor === 'child')).toHaveLength(50);
    expect(new Set(seqs.map((x) => x.seq)).size).toBe(50);
    expect(await s.audit.verifyAudit()).toEqual({ ok: true, count: 100 });
    expect((await s.audit.auditHead()).seq).toBe(100);
  }, 30_000);

  it('the database refuses to change or remove an event', async () => {
    const s = await h.fresh();
    await s.audit.appendAudit(ev(1));
    await expect(s.db.run(`UPDATE audit_events SET actor = 'x' WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(s.db.run('DELETE FROM audit_events WHERE seq = 1')).rejects.toThrow(/append-only/);
    if (h.dialect === 'postgres') await expect(s.db.exec('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
    expect(await s.audit.verifyAudit()).toEqual({ ok: true, count: 1 });
  });

  it('verifyAudit reports the first altered row, and a removed one', async () => {
    const s = await h.fresh();
    for (let i = 1; i <= 5; i++) await s.audit.appendAudit(ev(i));
    await tamper(s, `UPDATE audit_events SET details = '{"i":99}' WHERE seq = 3`);
    expect(await s.audit.verifyAudit()).toEqual({ ok: false, count: 3, brokenAt: 3, reason: 'hash does not match the event (row altered)' });

    const t = await h.fresh();
    for (let i = 1; i <= 5; i++) await t.audit.appendAudit(ev(i));
    await tamper(t, 'DELETE FROM audit_events WHERE seq = 2');
    expect(await t.audit.verifyAudit()).toEqual({ ok: false, count: 2, brokenAt: 3, reason: 'sequence gap: expected seq 2, found 3 (rows removed)' });
  });

  it('searches by subject, actor, action prefix and time, newest first, paged by seq', async () => {
    const s = await h.fresh();
    const at = (minute: number) => `2026-01-01T00:0${minute}:00.000Z`;
    await s.audit.appendAudit({ actor: 'a', action: 'auth.failures', subject: 'principal:1', at: at(1) });
    await s.audit.appendAudit({ actor: 'b', action: 'job.run', subject: 'job:x', at: at(2) });
    await s.audit.appendAudit({ actor: 'a', action: 'auth.failures', subject: 'principal:2', at: at(3) });
    await s.audit.appendAudit({ actor: 'a', action: 'sftp.connect', subject: 'principal:1', at: at(4) });
    const seqs = async (q: Parameters<OpenedStore['audit']['searchAudit']>[1]) => (await s.audit.searchAudit('all', q)).items.map((r) => r.seq);
    expect(await seqs({ limit: 10 })).toEqual([4, 3, 2, 1]);
    expect(await seqs({ limit: 10, actor: 'a', actionPrefix: 'auth.' })).toEqual([3, 1]);
    expect(await seqs({ limit: 10, actionPrefix: 'AUTH.' })).toEqual([]);
    expect(await seqs({ limit: 10, subject: 'principal:1' })).toEqual([4, 1]);
    expect(await seqs({ limit: 10, from: '2026-01-01T00:02:00.000Z', to: '2026-01-01T00:03:00.000Z' })).toEqual([3, 2]);
    const page1 = await s.audit.searchAudit('all', { limit: 3 });
    expect(page1.nextBeforeSeq).toBe(2);
    const page2 = await s.audit.searchAudit('all', { limit: 3, beforeSeq: page1.nextBeforeSeq! });
    expect(page2).toMatchObject({ items: [{ seq: 1 }], nextBeforeSeq: null });
    expect(await s.audit.auditSeqAt('2026-01-01T00:03:30.000Z')).toBe(3);
    expect(await s.audit.auditSeqAt(new Date('2025-12-31T00:00:00.000Z'))).toBe(0);
    expect((await s.audit.listAuditAfter(1)).map((r) => r.seq)).toEqual([2, 3, 4]);
    expect((await s.audit.listAuditAfter(0, { actions: ['auth.failures', 'sftp.connect'], limit: 2 })).map((r) => r.seq)).toEqual([1, 3]);
    expect(await s.audit.listAuditAfter(0, { actions: [] })).toEqual([]);
  });

  it('a scoped search sees only events about lots and submissions in scope', async () => {
    const s = await h.fresh();
    const at = '2026-01-01T00:00:00.000Z';
    for (const [id, site] of [[1, 'S1'], [2, 'S2']] as const) {
      await s.db.run('INSERT INTO lots (id, material_id, lot_number, site, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [id, 'M1', `L${id}`, site, at, at]);
      await s.db.run(`INSERT INTO submissions (id, partner, original_name, size, sha256, received_at, source, archive_path) VALUES (?, 'p1', 'f.csv', 1, 'x', ?, 'cli', 'a')`, [id, at]);
      await s.db.run('UPDATE lots SET submission_id = ? WHERE id = ?', [id, id]);
    }
    for (const subject of ['lot:M1/L1', 'lot:M1/L2', 'submission:1', 'submission:2', 'principal:1']) await s.audit.appendAudit({ actor: 'a', action: 'job.run', subject });
    const seen = async (access: Parameters<OpenedStore['audit']['searchAudit']>[0]) => (await s.audit.searchAudit(access, { limit: 10 })).items.map((r) => r.subject).sort();
    expect(await seen('all')).toHaveLength(5);
    expect(await seen([{ sites: ['S1'], materials: '*', partners: '*' }])).toEqual(['lot:M1/L1', 'submission:1']);
    expect(await seen([{ sites: '*', materials: '*', partners: '*' }])).toEqual(['lot:M1/L1', 'lot:M1/L2', 'submission:1', 'submission:2']);
    expect(await seen([{ sites: [], materials: '*', partners: '*' }])).toEqual([]);
    expect(await seen([])).toEqual([]);
  });

  it('hashes each event over the previous hash and its canonical JSON, from 64 zeros', async () => {
    const s = await h.fresh({ now: () => new Date('2026-03-01T12:00:00.000Z') });
    expect(await s.audit.verifyAudit()).toEqual({ ok: true, count: 0 });
    const first = await s.audit.appendAudit({ actor: 'a', action: 'outbox.hold', subject: 's', details: { b: 1, a: 2 }, at: '2026-01-01T00:00:00Z' });
    expect(first.seq).toBe(1);
    // The format pinned independently of audit.ts: sha256 over the previous hash and the event as
    // canonical JSON (sorted keys, the instant normalised).
    const expected = createHash('sha256')
      .update('0'.repeat(64) + canonicalJson({ seq: 1, at: '2026-01-01T00:00:00.000Z', actor: 'a', action: 'outbox.hold', subject: 's', details: { a: 2, b: 1 } }))
      .digest('hex');
    expect(first.hash).toBe(expected);
    expect((await s.audit.appendAudit({ actor: 'a', action: 'outbox.release', details: undefined })).seq).toBe(2);
    // Details: a Date is stored as its ISO instant, undefined members are dropped.
    await s.audit.appendAudit({ actor: 'a', action: 'outbox.hold', details: { when: new Date('2026-01-01T00:00:00Z'), skip: undefined } });
    const rows = await s.audit.listAudit({ limit: 10 });
    expect(rows.map((r) => r.seq)).toEqual([3, 2, 1]);
    expect(rows[0].details).toEqual({ when: '2026-01-01T00:00:00.000Z' });
    expect(rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[1].prevHash).toBe(first.hash);
    expect(await s.audit.verifyAudit()).toEqual({ ok: true, count: 3 });
  });

  it('refuses a DELETE of the whole trail; finds a removed row renumbered to hide the gap by its broken link', async () => {
    const s = await h.fresh();
    for (let i = 1; i <= 5; i++) await s.audit.appendAudit(ev(i));
    await expect(s.db.run('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    expect(await s.audit.verifyAudit()).toEqual({ ok: true, count: 5 });
    await tamper(s, 'DELETE FROM audit_events WHERE seq = 2; UPDATE audit_events SET seq = seq - 1 WHERE seq >= 3');
    const v = await s.audit.verifyAudit();
    expect(v).toMatchObject({ ok: false, brokenAt: 2 });
    if (!v.ok) expect(v.reason).toMatch(/prev_hash/);
  });

  if (h.dialect === 'postgres') {
    it('docs/postgres-audit-roles.md: the application role may append and read, never change or remove', async () => {
      const s = await h.fresh();
      const tag = Math.random().toString(36).slice(2, 10);
      const names = { owner: `lg_owner_${tag}`, app: `lg_app_${tag}` };
      const asRole = (role: string) => {
        const u = new URL(s.url);
        u.username = role;
        return u.toString();
      };
      await s.db.exec(createRolesSql(names));
      try {
        // A database as step 2 leaves it (the harness migrated it as superuser: start it again empty).
        await s.db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
        await s.db.exec(prepareDatabaseSql(names));
        const owner = await openDb(asRole(names.owner));
        try {
          await owner.exec(grantAppSql(names));
          expect(await owner.get<{ o: string }>(`SELECT tableowner AS o FROM pg_tables WHERE tablename = 'audit_events'`)).toEqual({ o: names.owner });
        } finally {
          await owner.close();
        }
        const appDb = await openDb(asRole(names.app));
        try {
          const app = asyncStore(appDb);
          await app.audit.appendAudit(ev(1));
          await app.audit.appendAudit(ev(2));
          expect(await app.audit.verifyAudit()).toEqual({ ok: true, count: 2 });
          await expect(appDb.run(`UPDATE audit_events SET actor = 'x' WHERE seq = 1`)).rejects.toThrow(/permission denied/);
          await expect(appDb.run('DELETE FROM audit_events WHERE seq = 1')).rejects.toThrow(/permission denied/);
          await expect(appDb.exec('TRUNCATE audit_events')).rejects.toThrow(/permission denied/);
          await expect(appDb.exec('ALTER TABLE audit_events DISABLE TRIGGER USER')).rejects.toThrow(/must be owner/);
          await expect(appDb.run(`INSERT INTO lotgate_schema (version, name, applied_at) VALUES (99, 'x', 'x')`)).rejects.toThrow(/permission denied/);
          // The usual rights elsewhere, identity columns included.
          const at = '2026-01-01T00:00:00.000Z';
          const lot = await appDb.run('INSERT INTO lots (material_id, lot_number, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id', ['M', 'L', at, at]);
          await app.readiness.markLotsDirty([lot.rows[0].id as number], {});
          await app.readiness.clearDirty([lot.rows[0].id as number]);
          expect(await appDb.run(`UPDATE lots SET site = 'S' WHERE id = ?`, [lot.rows[0].id])).toMatchObject({ changes: 1 });
        } finally {
          await appDb.close();
        }
      } finally {
        await s.db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
        await s.db.exec(`DROP OWNED BY ${names.app}, ${names.owner}; DROP ROLE ${names.app}; DROP ROLE ${names.owner}`);
      }
    }, 30_000);

    it('the document shows the SQL the set-up runs', () => {
      const doc = readFileSync(path.join(ROOT, 'docs/postgres-audit-roles.md'), 'utf8');
      for (const sql of [createRolesSql(DEFAULT_AUDIT_ROLES), prepareDatabaseSql(DEFAULT_AUDIT_ROLES), grantAppSql(DEFAULT_AUDIT_ROLES)]) expect(doc).toContain(sql);
    });
  }
});

