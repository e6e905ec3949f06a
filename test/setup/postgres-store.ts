// `npm run test:postgres`: the whole suite with every store on PostgreSQL. Loaded as a vitest
// setup file when LOTGATE_TEST_STORE=postgres: each SQLite file a test opens (its data dir's
// lotgate.db, a path it chose) becomes a PostgreSQL database of its own, created on first open and
// dropped when the test file ends, so tests that open "the same file" twice share one database
// exactly as they shared the file. Processes a test spawns are not covered (they open the SQLite
// file named in their config); those tests run on SQLite in both modes.

import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, vi } from 'vitest';

const ADMIN_URL = process.env.LOTGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const created = new Set<string>();

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The PostgreSQL database standing in for the SQLite file at `file`. */
async function databaseFor(file: string): Promise<string> {
  const name = `lgt_${process.pid}_${createHash('sha1').update(file).digest('hex').slice(0, 16)}`;
  if (!created.has(name)) {
    await admin((c) => c.query(`CREATE DATABASE ${name}`)).catch((e: { code?: string }) => {
      if (e.code !== '42P04') throw e; // already there
    });
    created.add(name);
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

vi.mock('../../pipeline/store/open-db.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../pipeline/store/open-db.js')>();
  return {
    ...real,
    openDb: async (url: string, opts?: Parameters<typeof real.openDb>[1]) => {
      const file = real.databaseKind(url) === 'sqlite' ? real.sqlitePath(url) : null;
      if (file === null || file === '' || file === ':memory:') return real.openDb(url, opts);
      return real.openDb(await databaseFor(file), opts);
    },
  };
});

afterAll(async () => {
  for (const name of created) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  created.clear();
});
