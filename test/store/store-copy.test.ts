// `lotgate store copy`: a SQLite store written by the real pipeline (lots, results with a
// rejected row, readiness, audit, outbox, a user) moves into an empty PostgreSQL database row for
// row; the target must be empty; a broken source chain or a value PostgreSQL refuses leaves the
// target empty with a code.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { copyStore } from '../../pipeline/store/copy/copy-store.js';
import { createPgDatabase } from './conformance/harness.js';
import { testLog } from '../runtime/helpers/log.js';
import { ingestText, registerText } from '../runtime/helpers/ingest.js';
import { lotsCsv, MATERIAL, makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { openDb } from '../../pipeline/store/open-db.js';
import { readViews } from './helpers/read-views.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/lotgate.js');

let w: World;
let target: { url: string; drop: () => Promise<void> };
const dbPath = () => path.join(w.config.dataDir, 'lotgate.db');

async function pgRows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

/** Every row of every table, sorted, as comparable text; and each table's columns. */
const columns: Record<string, string[]> = {};
function sqliteDump(file: string): Record<string, string[]> {
  const db = new Database(file, { readonly: true });
  const out: Record<string, string[]> = {};
  for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]) {
    out[name] = (db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]).map((r) => JSON.stringify(r)).sort();
    columns[name] = (db.pragma(`table_info("${name}")`) as { name: string }[]).map((c) => `"${c.name}"`);
  }
  db.close();
  return out;
}

/** The same columns through lotgate's PostgreSQL driver (BIGINT as numbers, as SQLite gives
 *  them); PostgreSQL-only columns (outbox.seq) are left out. */
async function pgDump(url: string, tables: string[]): Promise<Record<string, string[]>> {
  const db = await openDb(url, { migrate: false });
  const out: Record<string, string[]> = {};
  try {
    for (const t of tables) out[t] = (await db.all(`SELECT ${columns[t].join(', ')} FROM "${t}"`)).map((r) => JSON.stringify(r)).sort();
  } finally {
    await db.close();
  }
  return out;
}

beforeAll(async () => {
  w = makeWorld();
  const lg: Lotgate = await createLotgate(w.config, { log: testLog() });
  try {
    await ingestText(lg, w.dir, 'erp', 'LOTS_1.csv', lotsCsv(['L1', 'L2', 'L3']));
    // 40 results and one row for a lot nobody knows: applied with errors, a rejected row kept.
    const id = await registerText(lg, w.dir, 'lab-a', 'RESULTS_1.csv', resultsCsv('L1', 40) + `L9,${MATERIAL},S-99,ASSAY,1\n`);
    expect((await processSubmission(lg, id)).state).toBe('applied_with_errors');
    const qa = await lg.store.auth.insertPrincipal({ kind: 'user', username: 'qa.lead', displayName: 'QA Lead', passwordHash: 'argon2-hash-stand-in' });
    await lg.store.auth.addRoleBinding({ principalId: qa, role: 'qa', scope: { sites: ['site-1'], materials: '*', partners: '*' }, createdBy: 'test' });
  } finally {
    await lg.close();
  }
}, 60_000);
afterAll(() => w.cleanup());

beforeEach(async () => {
  target = await createPgDatabase('lotgate_copy');
});
afterEach(async () => {
  await target.drop();
});

describe('store copy', () => {
  it('moves every row of every table; counts, ledger totals and the audit chain match', async () => {
    const progress: string[] = [];
    const report = await copyStore(dbPath(), target.url, (p) => progress.push(p.table));
    const src = sqliteDump(dbPath());
    expect(report.rows).toBe(Object.values(src).reduce((n, rows) => n + rows.length, 0));
    expect(report.rows).toBeGreaterThan(50);
    expect(report.audit.events).toBeGreaterThan(0);
    expect(report.ledger.reduce((n, l) => n + l.files, 0)).toBe(2);
    expect(progress).toContain('test_results');
    // Row for row (PostgreSQL returns the same columns with the same values).
    const dst = await pgDump(target.url, Object.keys(src));
    for (const t of Object.keys(src)) expect(dst[t], t).toEqual(src[t]);
    // New rows continue after the copied ids.
    const [{ id }] = await pgRows(target.url, `INSERT INTO job_runs (name, started_at, status) VALUES ('x', '2026-01-01T00:00:00.000Z', 'ok') RETURNING id`);
    const maxSrc = Math.max(0, ...src.job_runs.map((r) => (JSON.parse(r) as { id: number }).id));
    expect(Number(id)).toBe(maxSrc + 1);
  });

  it('the copy reads the same through the async store on both databases: board, lot pages, submissions, audit', async () => {
    await copyStore(dbPath(), target.url);
    const [lite, pg] = [await readViews(dbPath()), await readViews(target.url)];
    expect(lite.lots.length).toBe(3);
    expect(lite.rejected.flat().length).toBe(1);
    expect(pg).toEqual(lite);
  });

  it('refuses a target that already holds rows, and changes nothing there', async () => {
    await copyStore(dbPath(), target.url);
    const before = await pgRows(target.url, 'SELECT count(*)::int AS n FROM submissions');
    await expect(copyStore(dbPath(), target.url)).rejects.toThrow(/E_STORE_COPY_TARGET_NOT_EMPTY/);
    expect(await pgRows(target.url, 'SELECT count(*)::int AS n FROM submissions')).toEqual(before);
  });

  it('a value PostgreSQL refuses rolls the whole copy back (target empty) with the table named', async () => {
    const copy = path.join(w.dir, 'nul.db');
    const src = new Database(dbPath(), { readonly: true });
    await src.backup(copy);
    src.close();
    const db = new Database(copy);
    db.prepare('UPDATE lots SET site = ? WHERE lot_number = ?').run('bad\u0000site', 'L2');
    db.close();
    await expect(copyStore(copy, target.url)).rejects.toThrow(/E_STORE_COPY_FAILED: table lots, row \d+: .*NUL/);
    expect(await pgRows(target.url, 'SELECT (SELECT count(*) FROM submissions)::int + (SELECT count(*) FROM audit_events)::int AS n')).toEqual([{ n: 0 }]);
  });

  it('refuses a source whose audit chain does not verify, before writing anything', async () => {
    const copy = path.join(w.dir, 'tampered.db');
    const src = new Database(dbPath(), { readonly: true });
    await src.backup(copy);
    src.close();
    const db = new Database(copy);
    db.exec('DROP TRIGGER audit_events_no_update');
    db.prepare("UPDATE audit_events SET actor = 'someone else' WHERE seq = 1").run();
    db.close();
    await expect(copyStore(copy, target.url)).rejects.toThrow(/E_STORE_COPY_AUDIT_BROKEN: .* event 1/);
    expect(await pgRows(target.url, "SELECT to_regclass('submissions')::text AS t")).toEqual([{ t: null }]);
  });

  it('`lotgate store copy --to … --json` prints the report; a wrong URL is one clear line', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'store', 'copy', '--to', target.url, '--json'], { env: w.env() });
    const report = JSON.parse(stdout) as { rows: number; audit: { head: { seq: number } } };
    expect(report.rows).toBeGreaterThan(50);
    expect(report.audit.head.seq).toBeGreaterThan(0);
    const bad = await run(process.execPath, [BIN, 'store', 'copy', '--to', 'postgres://postgres@127.0.0.1:1/none'], { env: w.env() }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr).toMatch(/^lotgate: E_DATABASE_UNREACHABLE: cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/none: .*nothing was copied.*\n$/);
  });
});
