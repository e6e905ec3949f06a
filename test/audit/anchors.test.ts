// Audit anchoring: the head of the chain kept outside the database (anchor file, outbox) makes a
// truncated or rewritten-and-rehashed audit trail fail verification — at the store level and
// through the compiled `lotgate audit verify`.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { anchorAuditHead, verifyWithAnchors } from '../../pipeline/audit/anchors.js';
import { loadConfig, type LotgateConfig } from '../../pipeline/config/config.js';
import { auditHash, GENESIS_HASH } from '../../pipeline/store/areas/audit.js';
import type { Db } from '../../pipeline/store/db/db.js';
import { openStore, type Store } from '../../pipeline/store/store.js';

const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(): { dir: string; config: LotgateConfig; dbPath: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-anchor-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'config.yaml'), 'dataDir: ./data\n');
  const config = loadConfig({ configPath: path.join(dir, 'config.yaml'), env: {} });
  return { dir, config, dbPath: path.join(config.dataDir, 'lotgate.db') };
}

async function addEvents(store: Store, n: number, from = 0): Promise<void> {
  for (let i = 0; i < n; i++) await store.audit.appendAudit({ actor: 'test', action: 'job.run', subject: `thing:${from + i}`, details: { i: from + i } });
}

/**
 * What an attacker with the database does: switch the append-only guard off first (SQLite: drop
 * its triggers; PostgreSQL: disable them, as the table's owner can), then tamper through `fn`.
 */
async function unguarded(dbPath: string, fn: (db: Db) => Promise<void>): Promise<void> {
  const store = await openStore(dbPath);
  try {
    const db = store.db;
    if (db.dialect === 'postgres') await db.run('ALTER TABLE audit_events DISABLE TRIGGER USER');
    else for (const t of await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")) await db.run(`DROP TRIGGER ${t.name}`);
    await fn(db);
  } finally {
    await store.close();
  }
}

/** Rewrites one event and recomputes every hash after it: the chain is consistent again. */
async function rehashFrom(db: Db, seq: number, details: unknown): Promise<void> {
  await db.run('UPDATE audit_events SET details = ? WHERE seq = ?', [JSON.stringify(details), seq]);
  const rows = await db.all<{ seq: number; at: string; actor: string; action: string; subject: string | null; details: string }>('SELECT seq, at, actor, action, subject, details FROM audit_events WHERE seq >= ? ORDER BY seq', [seq]);
  let prev = seq === 1 ? GENESIS_HASH : (await db.get<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = ?', [seq - 1]))!.hash;
  for (const r of rows) {
    const hash = auditHash(prev, { ...r, seq: Number(r.seq), details: JSON.parse(r.details) });
    await db.run('UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?', [prev, hash, r.seq]);
    prev = hash;
  }
}

describe('audit anchors', () => {
  it('a truncated tail fails verification against the anchor file', async () => {
    const { config, dbPath } = setup();
    const store = await openStore(dbPath);
    await addEvents(store, 5);
    const first = await anchorAuditHead({ store, config, now: () => new Date() }, 'test');
    expect(first).toMatchObject({ written: true, outbox: true, head: { seq: 5 } });
    // Unchanged head: no second line.
    expect((await anchorAuditHead({ store, config, now: () => new Date() }, 'test')).written).toBe(false);
    await addEvents(store, 3, 5);
    await anchorAuditHead({ store, config, now: () => new Date() }, 'test');
    const lines = readFileSync(config.audit.anchorFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual([5, 8]);
    expect((await store.outbox.listOutbox({ topic: 'audit.anchor' })).map((m) => (m.payload as { seq: number }).seq)).toEqual([5, 8]);
    expect(await verifyWithAnchors(store, config.audit.anchorFile, [])).toMatchObject({ ok: true, count: 8, anchorsChecked: 2, problems: [] });
    await store.close();

    await unguarded(dbPath, (db) => db.run('DELETE FROM audit_events WHERE seq > 6').then(() => undefined));
    const after = await openStore(dbPath);
    // Inside the chain nothing looks wrong…
    expect(await after.audit.verifyAudit()).toEqual({ ok: true, count: 6 });
    // …but the anchor of seq 8 is beyond its end.
    const v = await verifyWithAnchors(after, config.audit.anchorFile, []);
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.code)).toEqual(['E_AUDIT_TRUNCATED']);
    expect(v.problems[0].message).toMatch(/event 8 .* ends at 6/);
    await after.close();
  });

  it('a rewritten and rehashed chain fails against an anchor and against --expect', async () => {
    const { config, dbPath } = setup();
    const store = await openStore(dbPath);
    await addEvents(store, 6);
    const head = await store.audit.auditHead();
    await anchorAuditHead({ store, config, now: () => new Date() }, 'test');
    await store.close();
    await unguarded(dbPath, (db) => rehashFrom(db, 3, { i: 'forged' }));
    const after = await openStore(dbPath);
    expect(await after.audit.verifyAudit()).toEqual({ ok: true, count: 6 });
    const v = await verifyWithAnchors(after, config.audit.anchorFile, [head]);
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.code)).toEqual(['E_AUDIT_REWRITTEN', 'E_AUDIT_REWRITTEN']);
    expect(v.problems[1].message).toMatch(/^--expect says event 6/);
    await after.close();
  });

  it('lotgate audit verify prints the head, accepts --expect and fails on a truncated chain', async () => {
    const { dir, config, dbPath } = setup();
    const store = await openStore(dbPath);
    await addEvents(store, 4);
    await store.close();
    const cli = (args: string[]) => {
      const r = spawnSync(process.execPath, [path.join(root, 'bin/lotgate.js'), '--config', path.join(dir, 'config.yaml'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, LOTGATE_LOG_LEVEL: 'warn', LOTGATE_DATA_DIR: '' } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const ok = cli(['audit', 'verify']);
    expect(ok.code, ok.err).toBe(0);
    const headLine = /head: (\d+):([0-9a-f]{64})/.exec(ok.out)!;
    expect(Number(headLine[1])).toBe(4);
    const expectArg = `${headLine[1]}:${headLine[2]}`;
    expect(cli(['audit', 'verify', '--expect', expectArg]).code).toBe(0);
    expect(cli(['audit', 'verify', '--expect', `4:${'a'.repeat(64)}`]).code).toBe(1);
    expect(cli(['audit', 'verify', '--expect', 'nonsense']).code).toBe(2);
    expect(cli(['audit', 'anchor']).code).toBe(0);
    await unguarded(dbPath, (db) => db.run('DELETE FROM audit_events WHERE seq = 4').then(() => undefined));
    const bad = cli(['audit', 'verify', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out)).toMatchObject({ ok: false, head: { seq: 3 }, anchorFile: config.audit.anchorFile, problems: [{ code: 'E_AUDIT_TRUNCATED' }] });
    const bad2 = cli(['audit', 'verify', '--expect', expectArg]);
    expect(bad2.code).toBe(1);
    expect(bad2.out).toMatch(/E_AUDIT_TRUNCATED/);
  });
});
