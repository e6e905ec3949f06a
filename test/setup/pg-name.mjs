// The PostgreSQL database that stands in for a SQLite file in `npm run test:postgres`: named from
// the test file's process (LOTGATE_TEST_PG_PREFIX, inherited by the processes a test spawns) and
// the file's path, created on first use. Shared by the vitest setup file (postgres-store.ts) and
// the hook that child processes load (pg-child.mjs).

import { createHash } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL = process.env.LOTGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function admin(fn) {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const made = new Set();

/** The URL of the database standing in for the SQLite file at `file` (created when missing). */
export async function databaseFor(file) {
  const name = `${process.env.LOTGATE_TEST_PG_PREFIX}_${createHash('sha1').update(file).digest('hex').slice(0, 16)}`;
  if (!made.has(name)) {
    await admin((c) => c.query(`CREATE DATABASE ${name}`)).catch((e) => {
      if (e.code !== '42P04' && e.code !== '23505') throw e; // already there (or being created by another process)
    });
    made.add(name);
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** True for a store URL that is a SQLite file (not PostgreSQL, not in memory). */
export function isSqliteFile(url) {
  if (/^postgres(?:ql)?:\/\//i.test(url)) return false;
  const file = url.replace(/^sqlite:(\/\/)?/i, '');
  return file !== '' && file !== ':memory:';
}
