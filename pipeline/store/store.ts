// The store: every table of lotgate behind small async interfaces, one per area (areas/), each
// written once over Db (db/db.ts) and run on SQLite (the embedded default, one file under
// ./data) or PostgreSQL (several machines) alike. ALL SQL of lotgate lives in pipeline/store.
//
//   const store = await openStore(config.store.url);
//   const sub = await store.ledger.getSubmission(id);
//   await store.transaction(async (tx) => { await tx.ledger.updateSubmission(…); await tx.audit.appendAudit(…); });
//
// A transaction is a value: the callback gets a store whose areas run on the transaction's
// connection; inside it use `tx` only (the root store runs outside it: on PostgreSQL another
// connection, on SQLite it waits for the transaction to end). A transaction inside a transaction
// is a savepoint. Migrations: migrations.ts (SQLite) and dialect/postgres/migrate.ts.

import type { RootDb } from './db/db.js';
import { storeHealth } from './health.js';
import { openDb, type OpenDbOptions } from './open-db.js';
import { asyncStore, type AsyncStore } from './areas/index.js';
import type { StoreHealth } from './types.js';

/** The store a caller is handed: the root store or a transaction's. */
export type Store = AsyncStore;

/** The store the composition root opened: the one that is closed. */
export interface OpenStore extends Store {
  readonly db: RootDb;
  /** The SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

export function storeOn(db: RootDb): OpenStore {
  return { ...asyncStore(db), db, location: db.location, health: () => storeHealth(db), close: () => db.close() };
}

/** Opens (creating and migrating when needed) the database the URL names: a postgres:// URL or a SQLite file. */
export async function openStore(url: string, opts: OpenDbOptions = {}): Promise<OpenStore> {
  return storeOn(await openDb(url, opts));
}

export type * from './types.js';
export type { ApplyResult, FactWrite } from './areas/apply-fields.js';
export type { AuditSearch } from './areas/audit.js';
export type { PrincipalKind, PrincipalRow, RoleBindingRow, ServiceTokenRow, SessionRow, SignatureRow } from './areas/auth-rows.js';
export type { BoardLot, LotPush, MetricsSnapshot } from './areas/board.js';
export { UNFINISHED_RUN_ERROR } from './areas/jobs.js';
export type { DocumentRequestRow, NotificationSentRow } from './areas/notifications.js';
export type { BanKind, BanRecord, PulledFileRow, PulledState, RemoteFileKey } from './areas/pulls.js';
export type { DirtyLot } from './areas/readiness-dirty.js';
export { readinessHash, readinessText, type ReadinessClock, type ReadinessStamp } from './areas/readiness.js';
export type { LotFilters, ScopedLotRow, SubmissionFilters } from './areas/reads-rows.js';
export type { ResolveResult } from './areas/resolution.js';
export type { Access, Scope, ScopeDim } from './scope.js';
export { LATEST_VERSION, MIGRATIONS } from './migrations.js';
