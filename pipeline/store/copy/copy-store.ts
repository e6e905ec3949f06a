// `lotgate store copy --to postgres://…`: moves a SQLite store into an empty PostgreSQL database
// for a user who outgrows one machine. Every table, every row as stored (ids kept, identities
// moved past them), in one PostgreSQL transaction: a failure leaves the target empty. Before:
// the source's audit chain must verify. After: row counts per table, the ledger's totals per
// state and the audit chain (verified on PostgreSQL, same head) must match, or the command fails.

import { asyncStore, type AsyncStore } from '../areas/index.js';
import type { Db } from '../db/db.js';
import { pgClientOf, PgDb } from '../dialect/postgres/driver.js';
import { migratePg } from '../dialect/postgres/migrate.js';
import { copyRows, CopyValueError, type CopyValue } from '../dialect/postgres/copy.js';
import { LEDGER_TOTALS, SqliteSource, type LedgerTotal, type SourceTable } from './sqlite-source.js';

export interface CopyProgress {
  table: string;
  copied: number;
  total: number;
}

export interface CopyReport {
  from: string;
  to: string;
  tables: { table: string; rows: number }[];
  rows: number;
  ledger: LedgerTotal[];
  audit: { events: number; head: { seq: number; hash: string } };
}

export class CopyError extends Error {
  constructor(
    readonly code: 'E_DATABASE_UNREACHABLE' | 'E_STORE_COPY_AUDIT_BROKEN' | 'E_STORE_COPY_TARGET_NOT_EMPTY' | 'E_STORE_COPY_MISMATCH' | 'E_STORE_COPY_FAILED',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'CopyError';
  }
}

const PROGRESS_EVERY = 20_000;

export async function copyStore(sqlitePath: string, url: string, onProgress: (p: CopyProgress) => void = () => {}): Promise<CopyReport> {
  const source = SqliteSource.open(sqlitePath);
  let target: PgDb | undefined;
  try {
    const before = await source.verifyAudit();
    if (!before.ok) throw new CopyError('E_STORE_COPY_AUDIT_BROKEN', `the audit chain of ${sqlitePath} is broken at event ${before.brokenAt} (${before.reason}); nothing was copied. Run \`lotgate audit verify\` and resolve it first`);
    target = await PgDb.connect(url).catch((e: Error) => {
      throw new CopyError('E_DATABASE_UNREACHABLE', `${e.message}; nothing was copied. Check the URL (postgres://user@host:5432/dbname), that the server runs and that the database exists (createdb)`);
    });
    await migratePg(target);
    const tables = source.tables();
    await assertEmpty(target, tables);

    const copied: { table: string; rows: number }[] = [];
    await target.transaction(async (tx) => {
      for (const t of tables) copied.push({ table: t.name, rows: await copyTable(tx, source, t, onProgress) });
      await moveIdentities(tx);
    });

    const report: CopyReport = {
      from: sqlitePath,
      to: target.location,
      tables: copied,
      rows: copied.reduce((n, t) => n + t.rows, 0),
      ledger: source.ledgerTotals(),
      audit: { events: before.count, head: { seq: 0, hash: '' } },
    };
    await compare(source, asyncStore(target), report);
    return report;
  } finally {
    source.close();
    await target?.close();
  }
}

async function assertEmpty(db: Db, tables: SourceTable[]): Promise<void> {
  for (const t of tables) {
    const r = await db.get<{ one: number }>(`SELECT 1 AS one FROM "${t.name}" LIMIT 1`);
    if (r) throw new CopyError('E_STORE_COPY_TARGET_NOT_EMPTY', `table ${t.name} of the target already holds rows; copy into an empty database (createdb a new one, or drop this one's tables)`);
  }
}

async function copyTable(tx: Db, source: SqliteSource, t: SourceTable, onProgress: (p: CopyProgress) => void): Promise<number> {
  const total = source.count(t.name);
  if (total === 0) return 0;
  let copied = 0;
  function* counted(): Generator<CopyValue[]> {
    for (const row of source.rows(t)) {
      copied++;
      if (copied % PROGRESS_EVERY === 0) onProgress({ table: t.name, copied, total });
      yield row as CopyValue[];
    }
  }
  try {
    await copyRows(pgClientOf(tx), `"${t.name}"`, t.columns.map((c) => `"${c}"`), counted());
  } catch (e) {
    // A value refused while formatting names its row; one the server refuses, only its table.
    const where = e instanceof CopyValueError ? `table ${t.name}, row ${copied}` : `table ${t.name}`;
    throw new CopyError('E_STORE_COPY_FAILED', `${where}: ${(e as Error).message}; nothing was copied (the target is left empty)`);
  }
  onProgress({ table: t.name, copied, total });
  return copied;
}

/** Ids were copied as they are: each identity must continue after the largest. */
async function moveIdentities(tx: Db): Promise<void> {
  const cols = await tx.all<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name`,
  );
  for (const c of cols) {
    await tx.get(`SELECT setval(pg_get_serial_sequence(?, ?), coalesce((SELECT max("${c.column_name}") FROM "${c.table_name}"), 0) + 1, false)`, [`"${c.table_name}"`, c.column_name]);
  }
}

/** The rows read from the SQLite snapshot (report.tables) against what PostgreSQL now holds. */
async function compare(source: SqliteSource, target: AsyncStore, report: CopyReport): Promise<void> {
  const problems: string[] = [];
  for (const t of report.tables) {
    const got = (await target.db.get<{ n: number }>(`SELECT count(*) AS n FROM "${t.table}"`))?.n ?? 0;
    if (t.rows !== got) problems.push(`${t.table}: ${t.rows} rows in SQLite, ${got} in PostgreSQL`);
  }
  const ledger = await target.db.all<LedgerTotal>(LEDGER_TOTALS);
  if (JSON.stringify(ledger) !== JSON.stringify(report.ledger)) problems.push(`ledger totals differ: ${JSON.stringify(report.ledger)} vs ${JSON.stringify(ledger)}`);
  const after = await target.audit.verifyAudit();
  if (!after.ok) problems.push(`the copied audit chain does not verify: event ${after.brokenAt}: ${after.reason}`);
  else if (after.count !== report.audit.events) problems.push(`audit events: ${report.audit.events} in SQLite, ${after.count} in PostgreSQL`);
  report.audit.head = await target.audit.auditHead();
  const sourceHead = await source.auditHead();
  if (sourceHead.seq !== report.audit.head.seq || sourceHead.hash !== report.audit.head.hash) problems.push(`audit heads differ: ${sourceHead.seq}:${sourceHead.hash} vs ${report.audit.head.seq}:${report.audit.head.hash}`);
  if (problems.length) throw new CopyError('E_STORE_COPY_MISMATCH', `the copy does not match its source: ${problems.join('; ')}. The source is untouched; drop the target database and copy again`);
}
