// The one async handle every store area gets: run SQL, read rows, open a transaction. The same
// interface for SQLite (better-sqlite3 behind promises) and PostgreSQL (`pg`), so an area is
// written once. SQL is written with `?` placeholders; the PostgreSQL driver numbers them.
//
// A transaction is an object, not a global: `db.transaction(async (tx) => …)` hands `tx`, a Db
// bound to the transaction's connection, to the area functions it calls. A transaction inside a
// transaction is a savepoint. The callback's rejection rolls back (to the savepoint) and rethrows.
// Inside the callback use `tx` only: the root handle runs outside the transaction (on PostgreSQL
// another connection; on SQLite it waits for the transaction to end, so from inside it, for ever).

export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** Rows of a RETURNING clause (empty without one). */
  rows: Record<string, unknown>[];
}

export interface Db {
  readonly dialect: Dialect;
  /** True when this handle is a transaction (or a savepoint inside one). */
  readonly inTransaction: boolean;
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  run(sql: string, params?: readonly unknown[]): Promise<RunResult>;
  /** Several statements without parameters (schema scripts). */
  exec(sql: string): Promise<void>;
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** The clock of recorded_at/created_at columns, as the store's one string form (ISO-8601 UTC, ms). */
  now(): string;
}

/** A Db that can be closed: what an adapter's open() returns. */
export interface RootDb extends Db {
  /** Where it is: the SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  close(): Promise<void>;
}

/** Values per IN list or multi-row statement: well under both dialects' parameter limits. */
export const IN_CHUNK = 500;

/** A long list cut into lists of at most `size`. */
export function chunks<T>(items: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The placeholders of a multi-row VALUES list: `VALUES ${rowMarks(rows.length, 3)}` → (?, ?, ?), (?, ?, ?) … */
export function rowMarks(rows: number, width: number): string {
  const row = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => row).join(', ');
}

/** A list placeholder: `IN (${marks(ids)})`. */
export function marks(values: readonly unknown[]): string {
  return values.length ? values.map(() => '?').join(', ') : 'NULL';
}
