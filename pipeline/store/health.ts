// The store's health for `lotgate status`, /api/v1/status and /readyz: where it is, how big, at
// which schema version, and the counts an operator looks at first. Never throws: a store that
// cannot answer is reported as not ok with the reason.

import { existsSync, statSync } from 'node:fs';
import { auditArea } from './areas/audit.js';
import { outboxArea } from './areas/outbox.js';
import type { RootDb } from './db/db.js';
import { PG_LATEST_VERSION, pgSchemaVersion } from './dialect/postgres/migrate.js';
import { LATEST_VERSION } from './migrations.js';
import type { StoreHealth } from './types.js';

const fileSize = (p: string): number | undefined => (existsSync(p) ? statSync(p).size : undefined);

async function size(db: RootDb): Promise<{ sizeBytes: number; walBytes?: number }> {
  if (db.dialect === 'sqlite') return { sizeBytes: fileSize(db.location) ?? 0, walBytes: fileSize(`${db.location}-wal`) };
  const r = await db.get<{ n: number }>('SELECT pg_database_size(current_database()) AS n');
  return { sizeBytes: Number(r?.n ?? 0) };
}

async function version(db: RootDb): Promise<{ version: number; latest: number }> {
  if (db.dialect === 'postgres') return { version: await pgSchemaVersion(db), latest: PG_LATEST_VERSION };
  const r = await db.get<{ user_version: number }>('PRAGMA user_version');
  return { version: r?.user_version ?? 0, latest: LATEST_VERSION };
}

export async function storeHealth(db: RootDb): Promise<StoreHealth> {
  const base = { path: db.location, sizeBytes: 0 };
  try {
    Object.assign(base, await size(db));
    const count = async (table: string) => (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))?.n ?? 0;
    const { version: v, latest } = await version(db);
    const current = v === latest;
    const outbox = await outboxArea(db).countOutbox();
    return {
      ok: current,
      ...base,
      schemaVersion: v,
      submissions: await count('submissions'),
      lots: await count('lots'),
      outboxPending: outbox.pending,
      outboxDead: outbox.dead,
      auditEvents: (await auditArea(db).auditHead()).seq,
      ...(current ? {} : { error: `schema version ${v}, expected ${latest}` }),
    };
  } catch (err) {
    return { ok: false, ...base, schemaVersion: -1, submissions: 0, lots: 0, outboxPending: 0, outboxDead: 0, auditEvents: 0, error: (err as Error).message };
  }
}
