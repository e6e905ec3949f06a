// Versioned schema of the PostgreSQL store. `lotgate_schema` records each applied migration;
// every migration runs in its own transaction with its row, under a transaction-level advisory
// lock, so two machines starting at once apply it exactly once (the second waits, then sees it).
//
// Adding a migration: append { version: <last + 1>, name, sql } to PG_MIGRATIONS. Never edit one
// that has shipped. Write it for a database holding data (ALTER TABLE … ADD COLUMN … DEFAULT,
// CREATE INDEX, UPDATE to backfill) and add a test that opens a database at the previous
// version. The SQLite store has its own list (pipeline/store/migrations.ts): the two are numbered
// independently; a change to the model is a migration in both.

import type { Db } from '../../db/db.js';
import { INITIAL_SCHEMA } from './schema/index.js';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [{ version: 1, name: 'initial schema (the SQLite schema at its version 16)', sql: INITIAL_SCHEMA }];

export const PG_LATEST_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version;

/** Any 64-bit constant both machines agree on: "lotgate" in ASCII. */
const MIGRATION_LOCK = 0x6c6f7467617465;

export async function pgSchemaVersion(db: Db): Promise<number> {
  const t = await db.get<{ t: string | null }>(`SELECT to_regclass('lotgate_schema')::text AS t`);
  if (!t?.t) return 0;
  const r = await db.get<{ v: number | null }>('SELECT max(version) AS v FROM lotgate_schema');
  return r?.v ?? 0;
}

/** Brings the database to the newest migration; refuses one written by a newer lotgate. */
export async function migratePg(db: Db, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<{ from: number; to: number }> {
  const latest = migrations.length ? migrations[migrations.length - 1].version : 0;
  const from = await pgSchemaVersion(db);
  if (from > latest) throw new Error(`database schema is at version ${from}, newer than this lotgate knows (${latest}); upgrade lotgate`);
  for (const m of migrations) {
    if (m.version <= from) continue;
    await db.transaction(async (tx) => {
      await tx.run('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
      await tx.exec('CREATE TABLE IF NOT EXISTS lotgate_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      // Another machine may have migrated while we waited for the lock.
      if ((await pgSchemaVersion(tx)) >= m.version) return;
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new Error(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      await tx.run('INSERT INTO lotgate_schema (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, tx.now()]);
    });
  }
  return { from, to: await pgSchemaVersion(db) };
}
