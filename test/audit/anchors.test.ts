// Audit anchoring: the head of the chain kept outside the database (anchor file, outbox) makes a
// truncated or rewritten-and-rehashed audit trail fail verification — at the store level and
// through the compiled `lotgate audit verify`.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { anchorAuditHead, verifyWithAnchors } from '../../pipeline/audit/anchors.js';
import { loadConfig, type LotgateConfig } from '../../pipeline/config/config.js';
import { auditHash, GENESIS_HASH } from '../../pipeline/store/areas/audit.js';
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

/** What an attacker with the database file does: drop the append-only guard first. */
function unguarded(dbPath: string): Database.Database {
  const db = new Database(dbPath);
  for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'").all() as { name: string }[]) db.exec(`DROP TRIGGER ${t.name}`);
  return db;
}

/** Rewrites one event and recomputes every hash after it: the chain is consistent again. */
function rehashFrom(db: Database.Database, seq: number, details: unknown): void {
  db.prepare('UPDATE audit_events SET details = ? WHERE seq = ?').run(JSON.stringify(details), seq);
  const rows = db.prepare('SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq').all(seq) as { seq: number; at: string; actor: string; action: string; subject: string | null; details: string }[];
  let prev = seq === 1 ? GENESIS_HASH : (db.prepare('SELECT hash FROM audit_events WHERE seq = ?').get(seq - 1) as { hash: string }).hash;
  for (const r of rows) {
    const hash = auditHash(prev, { ...r, details: JSON.parse(r.details) });
    db.prepare('UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, r.seq);
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

    const db = unguarded(dbPath);
    db.prepare('DELETE FROM audit_events WHERE seq > 6').run();
    db.close();
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
    const db = unguarded(dbPath);
    rehashFrom(db, 3, { i: 'forged' });
    db.close();
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
    const db = unguarded(dbPath);
    db.prepare('DELETE FROM audit_events WHERE seq = 4').run();
    db.close();
    const bad = cli(['audit', 'verify', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out)).toMatchObject({ ok: false, head: { seq: 3 }, anchorFile: config.audit.anchorFile, problems: [{ code: 'E_AUDIT_TRUNCATED' }] });
    const bad2 = cli(['audit', 'verify', '--expect', expectArg]);
    expect(bad2.code).toBe(1);
    expect(bad2.out).toMatch(/E_AUDIT_TRUNCATED/);
  });
});
