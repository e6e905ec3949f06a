// `lotgate store check`: on a SQLite file and on a PostgreSQL database it prints the dialect, the
// location (no password), the schema version, the row counts and an intact audit chain; a
// tampered chain exits 1 with E_STORE_CHECK_AUDIT_BROKEN; a missing SQLite file is refused (and
// not created); an unreachable server is one clear line. Spawns bin/lotgate.js: build first.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditArea } from '../../pipeline/store/areas/audit.js';
import { PG_LATEST_VERSION } from '../../pipeline/store/dialect/postgres/migrate.js';
import { LATEST_VERSION } from '../../pipeline/store/migrations.js';
import { openDb } from '../../pipeline/store/open-db.js';
import { createPgDatabase } from './conformance/harness.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/lotgate.js');
const T = '2026-04-01T00:00:00.000Z';

let dir: string;
let pgDb: { url: string; drop: () => Promise<void> };

/** Three files in two states, two lots, three audit events: the same on both dialects. */
async function seed(url: string): Promise<void> {
  const db = await openDb(url);
  try {
    const sub = `INSERT INTO submissions (partner, original_name, size, sha256, received_at, source, archive_path, state) VALUES ('acme', 'f.csv', 1, 'x', ?, 'cli', 'a', ?)`;
    for (const state of ['applied', 'applied', 'rejected']) await db.run(sub, [T, state]);
    for (const lot of ['L1', 'L2']) await db.run(`INSERT INTO lots (material_id, lot_number, created_at, updated_at) VALUES ('M1', ?, ?, ?)`, [lot, T, T]);
    const audit = auditArea(db);
    for (const actor of ['a', 'b', 'c']) await audit.appendAudit({ actor, action: 'audit.verified', details: { ok: true }, at: T });
  } finally {
    await db.close();
  }
}

/** The environment of an operator's shell with nothing lotgate-specific set. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('LOTGATE_DATABASE_URL' in extra)) delete e.LOTGATE_DATABASE_URL;
  delete e.LOTGATE_CONFIG;
  return e;
}

async function lotgate(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: env(extra), cwd: dir });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const expectedCounts = { submissions: { total: 3, byState: { applied: 2, rejected: 1 } }, lots: 2, auditEvents: 3, audit: { ok: true, count: 3 } };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lotgate-check-'));
  pgDb = await createPgDatabase('lotgate_check');
}, 60_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgDb.drop();
});

describe('lotgate store check', () => {
  it('SQLite: the data directory store by default; text and --json', async () => {
    const data = path.join(dir, 'data');
    const file = path.join(data, 'lotgate.db');
    await seed(file);
    const json = await lotgate(['store', 'check', '--json'], { LOTGATE_DATA_DIR: data });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ dialect: 'sqlite', location: file, schemaVersion: LATEST_VERSION, latestSchemaVersion: LATEST_VERSION, ...expectedCounts });
    const text = await lotgate(['store', 'check', '--url', file]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`sqlite at ${file}, schema version ${LATEST_VERSION} (current)`);
    expect(text.stdout).toMatch(/submissions: 3\n {2}applied +2\n {2}rejected +1\nlots: 2\naudit events: 3\naudit chain verified: 3 events\n$/);
  });

  it('PostgreSQL: --url or LOTGATE_DATABASE_URL; the password never printed', async () => {
    await seed(pgDb.url);
    const viaEnv = await lotgate(['store', 'check', '--json'], { LOTGATE_DATABASE_URL: pgDb.url });
    expect(viaEnv.code).toBe(0);
    const report = JSON.parse(viaEnv.stdout);
    expect(report).toEqual({ dialect: 'postgres', location: pgDb.url, schemaVersion: PG_LATEST_VERSION, latestSchemaVersion: PG_LATEST_VERSION, ...expectedCounts });
    const withPassword = new URL(pgDb.url);
    withPassword.password = 'sekrit'; // trust auth: accepted and ignored
    const text = await lotgate(['store', 'check', '--url', withPassword.toString()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^postgres at postgres:\/\/postgres:\*\*\*@/);
    expect(text.stdout).not.toContain('sekrit');
    expect(text.stdout).toContain('audit chain verified: 3 events');
  });

  it('a tampered audit chain: the report, then E_STORE_CHECK_AUDIT_BROKEN and exit 1 (both dialects)', async () => {
    const file = path.join(dir, 'tampered.db');
    await seed(file);
    const db = new Database(file);
    db.exec('DROP TRIGGER audit_events_no_update');
    db.prepare("UPDATE audit_events SET actor = 'someone else' WHERE seq = 2").run();
    db.close();
    const sqlite = await lotgate(['store', 'check', '--url', file]);
    expect(sqlite.code).toBe(1);
    expect(sqlite.stdout).toContain('AUDIT CHAIN BROKEN at event 2');
    expect(sqlite.stderr).toMatch(/^lotgate: E_STORE_CHECK_AUDIT_BROKEN: the audit chain of .*tampered\.db is broken at event 2/);

    const t = await createPgDatabase('lotgate_check_t');
    try {
      await seed(t.url);
      const c = new pg.Client({ connectionString: t.url });
      await c.connect();
      await c.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
      await c.query("UPDATE audit_events SET details = '{}' WHERE seq = 3");
      await c.end();
      const out = await lotgate(['store', 'check', '--url', t.url, '--json']);
      expect(out.code).toBe(1);
      expect(JSON.parse(out.stdout).audit).toMatchObject({ ok: false, brokenAt: 3 });
      expect(out.stderr).toMatch(/E_STORE_CHECK_AUDIT_BROKEN: .* event 3/);
    } finally {
      await t.drop();
    }
  });

  it('a missing SQLite file is refused and not created; an unreachable server is one line', async () => {
    const missing = path.join(dir, 'nowhere', 'lotgate.db');
    const r = await lotgate(['store', 'check', '--url', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`lotgate: E_STORE_CHECK_NOT_FOUND: there is no SQLite store at ${missing}; pass --url, set LOTGATE_DATABASE_URL or --data-dir\n`);
    expect(existsSync(path.dirname(missing))).toBe(false);
    const bad = await lotgate(['store', 'check', '--url', 'postgres://postgres@127.0.0.1:1/none']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^lotgate: E_DATABASE_UNREACHABLE: cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/none: .*\n$/);
  });
});
