// `npm run test:postgres`: the whole suite with every store on PostgreSQL. Loaded as a vitest
// setup file when LOTGATE_TEST_STORE=postgres: each SQLite file a test opens (its data dir's
// lotgate.db, a path it chose) becomes a PostgreSQL database of its own (pg-name.mjs), created on
// first open and dropped when the test file ends, so tests that open "the same file" twice share
// one database exactly as they shared the file. Processes the test spawns get the same mapping
// through NODE_OPTIONS (pg-child.mjs). What stays SQLite: tests that open the file with
// better-sqlite3 directly (SQLite's own migrations, raw inspection).

import { fileURLToPath } from 'node:url';
import { afterAll, vi } from 'vitest';
// @ts-expect-error plain ESM helper shared with the child hook
import { admin, databaseFor, isSqliteFile } from './pg-name.mjs';

const prefix = `lgt_${process.pid}`;
process.env.LOTGATE_TEST_PG_PREFIX = prefix;
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${fileURLToPath(new URL('./pg-child.mjs', import.meta.url))}`.trim();

vi.mock('../../pipeline/store/open-db.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../pipeline/store/open-db.js')>();
  return {
    ...real,
    openDb: async (url: string, opts?: Parameters<typeof real.openDb>[1]) =>
      isSqliteFile(url) ? real.openDb(await databaseFor(real.sqlitePath(url)), opts) : real.openDb(url, opts),
  };
});

afterAll(async () => {
  await admin(async (c: import('pg').Client) => {
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}\\_%`]);
    for (const r of rows) await c.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`);
  });
});
