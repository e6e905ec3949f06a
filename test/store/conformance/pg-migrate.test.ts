// The PostgreSQL migration runner: each migration once, in its own transaction with its row in
// lotgate_schema, under an advisory lock — so machines starting together apply it exactly once, a
// failing migration leaves the database at the version before it, and a database written by a
// newer lotgate is refused. Data written at one version survives the next migration.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb } from '../../../pipeline/store/dialect/postgres/driver.js';
import { migratePg, pgSchemaVersion, type PgMigration } from '../../../pipeline/store/dialect/postgres/migrate.js';
import { createPgDatabase } from './harness.js';

const V1: PgMigration = { version: 1, name: 'things', sql: 'CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT NOT NULL)' };
const V2: PgMigration = { version: 2, name: 'things get a colour', sql: "ALTER TABLE things ADD COLUMN colour TEXT NOT NULL DEFAULT 'grey'" };
const V3_BROKEN: PgMigration = { version: 3, name: 'broken', sql: 'ALTER TABLE things ADD COLUMN size BIGINT; ALTER TABLE nowhere ADD COLUMN x BIGINT' };

describe('PostgreSQL migrations', () => {
  let pgdb: { url: string; drop: () => Promise<void> };
  const open: PgDb[] = [];
  const connect = async () => {
    const db = await PgDb.connect(pgdb.url, { max: 2 });
    open.push(db);
    return db;
  };
  beforeAll(async () => {
    pgdb = await createPgDatabase('lotgate_mig');
  });
  afterAll(async () => {
    for (const db of open) await db.close();
    await pgdb.drop();
  });

  it('machines migrating at once apply each migration once; data survives the next version', async () => {
    const machines = await Promise.all([connect(), connect(), connect()]);
    const results = await Promise.all(machines.map((db) => migratePg(db, [V1])));
    expect(results.every((r) => r.to === 1)).toBe(true);
    const db = machines[0];
    expect(await db.all('SELECT version, name FROM lotgate_schema ORDER BY version')).toEqual([{ version: 1, name: 'things' }]);
    await db.run('INSERT INTO things (id, name) VALUES (?, ?)', [1, 'kept']);
    await Promise.all(machines.map((m) => migratePg(m, [V1, V2])));
    expect(await db.all('SELECT id, name, colour FROM things')).toEqual([{ id: 1, name: 'kept', colour: 'grey' }]);
    expect(await pgSchemaVersion(db)).toBe(2);
  });

  it('a failing migration leaves the database at the version before it, and says which failed', async () => {
    const db = await connect();
    await expect(migratePg(db, [V1, V2, V3_BROKEN])).rejects.toThrow(/PostgreSQL migration 3 \(broken\) failed: relation "nowhere" does not exist/);
    expect(await pgSchemaVersion(db)).toBe(2);
    expect(await db.get("SELECT 1 AS one FROM information_schema.columns WHERE table_name = 'things' AND column_name = 'size'")).toBeUndefined();
  });

  it('refuses a database written by a newer lotgate', async () => {
    const db = await connect();
    await expect(migratePg(db, [V1])).rejects.toThrow(/database schema is at version 2, newer than this lotgate knows \(1\); upgrade lotgate/);
  });
});
