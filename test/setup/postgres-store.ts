// `npm run test:postgres`: the whole suite with every store on PostgreSQL. Loaded as a vitest
// setup file when LOTGATE_TEST_STORE=postgres: each SQLite file a test opens (its data dir's
// lotgate.db, a path it chose) becomes a PostgreSQL database of its own (pg-name.mjs), created on
// first open and dropped when the test file ends, so tests that open "the same file" twice share
// one database exactly as they shared the file. Processes the test spawns get the same mapping
// through NODE_OPTIONS, worker threads through their execArgv (pg-child.mjs). What stays SQLite: tests that open the file with
// better-sqlite3 directly (SQLite's own migrations, raw inspection).

import { fileURLToPath } from 'node:url';
import { afterAll, vi } from 'vitest';
// @ts-expect-error plain ESM helper shared with the child hook
import { admin, databaseFor, isSqliteFile } from './pg-name.mjs';

const prefix = `lgt_${process.pid}`;
process.env.LOTGATE_TEST_PG_PREFIX = prefix;
const hook = fileURLToPath(new URL('./pg-child.mjs', import.meta.url));
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${hook}`.trim();


vi.mock('../../pipeline/store/open-db.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../pipeline/store/open-db.js')>();
  return {
    ...real,
    openDb: async (url: string, opts?: Parameters<typeof real.openDb>[1]) =>
      isSqliteFile(url) ? real.openDb(await databaseFor(real.sqlitePath(url)), opts) : real.openDb(url, opts),
  };
});

// Worker threads (the queue's task threads) load the same hook.
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  const entry = fileURLToPath(new URL('./pg-child.mjs', import.meta.url));
  class Worker extends real.Worker {
    constructor(file: string | URL, opts: import('node:worker_threads').WorkerOptions = {}) {
      super(file, { ...opts, execArgv: [...(opts.execArgv ?? process.execArgv), '--import', entry] });
    }
  }
  return { ...real, default: { ...real, Worker }, Worker };
});

afterAll(async () => {
  await admin(async (c: import('pg').Client) => {
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}\\_%`]);
    for (const r of rows) await c.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`);
  });
});
