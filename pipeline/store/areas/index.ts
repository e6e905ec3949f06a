// The async store: small interfaces, one per area, each written once over Db (db/db.ts) and
// run on SQLite or PostgreSQL alike. A transaction is a value: `store.transaction(async (tx) =>
// …)` hands the callback a store whose areas all run on the transaction's connection.

import type { Db, RootDb } from '../db/db.js';
import { applyArea, type ApplyArea } from './apply.js';
import { auditArea, type AuditArea } from './audit.js';
import { authArea, type AuthArea } from './auth.js';
import { boardArea, type BoardArea } from './board.js';
import { factsArea, type FactsArea } from './facts.js';
import { jobsArea, type JobsArea } from './jobs.js';
import { ledgerArea, type LedgerArea } from './ledger.js';
import { masterdataArea, type MasterDataArea } from './masterdata.js';
import { notificationsArea, type NotificationsArea } from './notifications.js';
import { outboxArea, type OutboxArea } from './outbox.js';
import { pullsArea, type PullsArea } from './pulls.js';
import { readinessArea, type ReadinessArea } from './readiness.js';
import { readsArea, type ReadsArea } from './reads.js';

export interface Areas {
  readonly ledger: LedgerArea;
  readonly masterdata: MasterDataArea;
  readonly facts: FactsArea;
  readonly readiness: ReadinessArea;
  readonly audit: AuditArea;
  readonly outbox: OutboxArea;
  readonly jobs: JobsArea;
  readonly auth: AuthArea;
  readonly pulls: PullsArea;
  readonly notifications: NotificationsArea;
  /** One mapped record of a partner's file applied (resolution + facts, all or nothing). */
  readonly apply: ApplyArea;
  /** The board's, the metrics' and the jobs' reads. */
  readonly board: BoardArea;
  /** The read model of the API, the CLI and the board, scoped in one place (scope.ts). */
  readonly reads: ReadsArea;
}

export interface AsyncStore extends Areas {
  readonly db: Db;
  /** Runs fn in one transaction (a savepoint inside one); its rejection rolls back and rethrows. */
  transaction<T>(fn: (tx: AsyncStore) => Promise<T>): Promise<T>;
}

export function asyncStore(db: Db): AsyncStore {
  return {
    db,
    ledger: ledgerArea(db),
    masterdata: masterdataArea(db),
    facts: factsArea(db),
    readiness: readinessArea(db),
    audit: auditArea(db),
    outbox: outboxArea(db),
    jobs: jobsArea(db),
    auth: authArea(db),
    pulls: pullsArea(db),
    notifications: notificationsArea(db),
    apply: applyArea(db),
    board: boardArea(db),
    reads: readsArea(db),
    transaction: (fn) => db.transaction((tx) => fn(asyncStore(tx))),
  };
}

export type { Db, RootDb };
