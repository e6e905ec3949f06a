// The conformance harness: every suite written with describeStore() runs twice, against a SQLite
// file and against a PostgreSQL database of its own (created for the test file, dropped after).
// fresh() gives each test an empty, migrated database; another() a second connection to it, as a
// second lotgate process (or machine) would have.
//
// SQLite and another(): two connections of one process cannot both hold a write transaction. The
// second BEGIN IMMEDIATE blocks the event loop until the busy timeout, so the first can never go
// on: a test that keeps a transaction open on one connection while the other writes is
// PostgreSQL-only. Racing single statements or short transactions (Promise.all) works on both.
//
// PostgreSQL: LOTGATE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) must
// reach a server where that user may CREATE DATABASE; `.ci/run` starts one when none answers.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import type { Dialect, RootDb } from '../../../pipeline/store/db/db.js';
import { asyncStore, type AsyncStore } from '../../../pipeline/store/areas/index.js';
import { openDb } from '../../../pipeline/store/open-db.js';

export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

export const ADMIN_URL = process.env.LOTGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface OpenedStore extends AsyncStore {
  readonly root: RootDb;
  /** The URL the store was opened with (a file path for SQLite). */
  readonly url: string;
}

export interface Harness {
  readonly dialect: Dialect;
  /** An empty database at the newest schema and a store on it; closed after the test. */
  fresh(opts?: { now?: () => Date }): Promise<OpenedStore>;
  /** Another connection to the database of the last fresh(); closed after the test. */
  another(opts?: { now?: () => Date }): Promise<OpenedStore>;
}

/** A database of its own on the test server; returns its URL and how to drop it. */
export async function createPgDatabase(prefix = 'lotgate_t'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(`the PostgreSQL tests need a server at ${ADMIN_URL} (set LOTGATE_TEST_POSTGRES_URL; .ci/run starts one): ${(e as Error).message}`);
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function makeHarness(dialect: Dialect): Harness & { setup(): Promise<void>; closeAll(): Promise<void>; teardown(): Promise<void> } {
  let dir = '';
  let pgDb: { url: string; drop: () => Promise<void> } | undefined;
  let current = '';
  let n = 0;
  const open: RootDb[] = [];

  const openAt = async (url: string, now?: () => Date): Promise<OpenedStore> => {
    const root = await openDb(url, { now, max: 4 });
    open.push(root);
    return { ...asyncStore(root), root, url };
  };

  return {
    dialect,
    async setup() {
      if (dialect === 'sqlite') dir = mkdtempSync(path.join(tmpdir(), 'lotgate-conf-'));
      else pgDb = await createPgDatabase();
    },
    async fresh(opts = {}) {
      if (dialect === 'sqlite') {
        current = path.join(dir, `store-${++n}.db`);
      } else {
        current = pgDb!.url;
        const c = new pg.Client({ connectionString: current });
        await c.connect();
        await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
        await c.end();
      }
      return openAt(current, opts.now);
    },
    async another(opts = {}) {
      if (!current) throw new Error('another() needs a fresh() first');
      return openAt(current, opts.now);
    },
    async closeAll() {
      for (const db of open.splice(0)) await db.close();
    },
    async teardown() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (pgDb) await pgDb.drop();
    },
  };
}

/** describe(name) once per dialect, with a harness for the body's tests. */
export function describeStore(name: string, body: (h: Harness) => void): void {
  for (const dialect of DIALECTS) {
    describe(`${name} [${dialect}]`, () => {
      const h = makeHarness(dialect);
      beforeAll(() => h.setup(), 60_000);
      afterEach(() => h.closeAll());
      afterAll(() => h.teardown(), 60_000);
      body(h);
    });
  }
}
