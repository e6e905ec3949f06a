// Which database a lotgate uses: `store.url` in config.yaml or LOTGATE_DATABASE_URL.
// `postgres://…` / `postgresql://…` is PostgreSQL; anything else (a path, `sqlite:<path>`) is a
// SQLite file, `<dataDir>/lotgate.db` when nothing is set.

import type { RootDb } from './db/db.js';
import { PgDb, type PgOpenOptions } from './dialect/postgres/driver.js';
import { migratePg } from './dialect/postgres/migrate.js';
import { SqliteDb } from './dialect/sqlite/driver.js';
import { databaseKind, sqlitePath } from './url.js';

export { databaseKind, sqlitePath, type DatabaseKind } from './url.js';

export interface OpenDbOptions extends PgOpenOptions {
  /** PostgreSQL: leave the schema as it is (a reader that must not change the database). A SQLite file is always brought to the current version, as Store.open does. */
  migrate?: boolean;
  /** SQLite: how long a write waits for another process's lock (default 30 s; tests shorten it). */
  busyTimeoutMs?: number;
}

/** Opens and migrates the database the URL names. */
export async function openDb(url: string, opts: OpenDbOptions = {}): Promise<RootDb> {
  if (databaseKind(url) === 'sqlite') return SqliteDb.open(sqlitePath(url), { now: opts.now, busyTimeoutMs: opts.busyTimeoutMs });
  const db = await PgDb.connect(url, opts);
  try {
    if (opts.migrate !== false) await migratePg(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}
