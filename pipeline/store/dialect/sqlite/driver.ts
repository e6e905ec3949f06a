// The SQLite side of Db: one better-sqlite3 connection behind promises. Statements are
// synchronous underneath; the Mutex keeps other callers' statements out of an open transaction
// (the connection is shared by everything in the process). Transactions are BEGIN IMMEDIATE so
// writers of other processes queue on the file lock instead of failing half-way.
//
// Waiting for that lock must not block the event loop: SQLite's own busy handler sleeps inside
// the call, and a second connection of the same process (or anything else the process serves)
// would stop with it. So the connection's busy_timeout is 0 and a BEGIN IMMEDIATE or a statement
// outside a transaction that meets SQLITE_BUSY is tried again on a timer, until busyTimeoutMs.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Db, RootDb, RunResult } from '../../db/db.js';
import { Mutex } from '../../db/mutex.js';
import { migrate, MIGRATIONS } from '../../migrations.js';

export interface SqliteOpenOptions {
  now?: () => Date;
  /** How long a statement waits for another connection's write lock (default 30 s). */
  busyTimeoutMs?: number;
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null only. */
function bind(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : p === true ? 1 : p === false ? 0 : p instanceof Date ? p.toISOString() : p));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Prepared statements kept per connection (least recently used dropped first). */
const STATEMENT_CACHE = 500;
/**
 * Texts longer than this are generated (multi-row VALUES, IN lists of hundreds) and come in many
 * lengths: prepared for each use, never kept — a kept one holds its program (up to a megabyte
 * for 500 rows of 21 values) for as long as it stays in the cache.
 */
const CACHED_TEXT_MAX = 4_096;

class Conn {
  private readonly stmts = new Map<string, Database.Statement>();
  readonly mutex = new Mutex();
  constructor(
    readonly db: Database.Database,
    readonly clock: () => Date,
    private readonly busyTimeoutMs: number,
  ) {}

  /** Runs fn, again and again while another connection holds the write lock (up to the busy timeout). */
  async whenFree<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      try {
        return fn();
      } catch (e) {
        if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw e;
      }
      await sleep(delay);
    }
  }

  /**
   * The prepared statement of this text, from a cache of the STATEMENT_CACHE most recently used
   * (long generated texts are not kept: CACHED_TEXT_MAX).
   */
  stmt(sql: string): Database.Statement {
    if (sql.length > CACHED_TEXT_MAX) return this.db.prepare(sql);
    let s = this.stmts.get(sql);
    if (s) {
      this.stmts.delete(sql);
    } else {
      s = this.db.prepare(sql);
      if (this.stmts.size >= STATEMENT_CACHE) this.stmts.delete(this.stmts.keys().next().value!);
    }
    this.stmts.set(sql, s);
    return s;
  }

  all<T>(sql: string, params: readonly unknown[]): T[] {
    return this.stmt(sql).all(...bind(params)) as T[];
  }

  run(sql: string, params: readonly unknown[]): RunResult {
    const s = this.stmt(sql);
    if (s.reader) {
      const rows = s.all(...bind(params)) as Record<string, unknown>[];
      return { changes: rows.length, rows };
    }
    return { changes: s.run(...bind(params)).changes, rows: [] };
  }
}

/** A handle on the connection: the root (each statement takes the lock) or a transaction (holds it). */
class SqliteHandle implements Db {
  readonly dialect = 'sqlite' as const;

  constructor(
    protected readonly conn: Conn,
    private readonly depth: number,
  ) {}

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  private use<T>(fn: () => T): Promise<T> {
    return this.depth > 0 ? Promise.resolve().then(fn) : this.conn.mutex.run(() => this.conn.whenFree(fn));
  }

  all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.use(() => this.conn.all<T>(sql, params));
  }

  async get<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return this.use(() => this.conn.stmt(sql).get(...bind(params)) as T | undefined);
  }

  run(sql: string, params: readonly unknown[] = []): Promise<RunResult> {
    return this.use(() => this.conn.run(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.use(() => void this.conn.db.exec(sql));
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.depth > 0) return this.savepoint(fn);
    const release = await this.conn.mutex.lock();
    try {
      await this.conn.whenFree(() => this.conn.db.exec('BEGIN IMMEDIATE'));
      try {
        const out = await fn(new SqliteHandle(this.conn, 1));
        this.conn.db.exec('COMMIT');
        return out;
      } catch (e) {
        if (this.conn.db.inTransaction) this.conn.db.exec('ROLLBACK');
        throw e;
      }
    } finally {
      release();
    }
  }

  private async savepoint<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const name = `sp${this.depth}`;
    this.conn.db.exec(`SAVEPOINT ${name}`);
    try {
      const out = await fn(new SqliteHandle(this.conn, this.depth + 1));
      this.conn.db.exec(`RELEASE ${name}`);
      return out;
    } catch (e) {
      this.conn.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw e;
    }
  }

  now(): string {
    return this.conn.clock().toISOString();
  }
}

export class SqliteDb extends SqliteHandle implements RootDb {
  private constructor(
    conn: Conn,
    readonly location: string,
  ) {
    super(conn, 0);
  }

  /** Opens (creating it when missing) and migrates the database file. */
  static open(path: string, opts: SqliteOpenOptions = {}): SqliteDb {
    const inMemory = path === ':memory:' || path === '';
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    const busyTimeoutMs = Math.max(0, Math.floor(opts.busyTimeoutMs ?? 30_000));
    const db = new Database(path);
    try {
      // Opening waits in SQLite's own handler (once per process start); afterwards whenFree() waits.
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, MIGRATIONS);
      db.pragma('busy_timeout = 0');
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteDb(new Conn(db, opts.now ?? (() => new Date()), busyTimeoutMs), path);
  }

  /** Opens an existing file read-only and as it is (no migration): store copy's source. */
  static openReadOnly(path: string): SqliteDb {
    return new SqliteDb(new Conn(new Database(path, { readonly: true, fileMustExist: true }), () => new Date(), 0), path);
  }

  /** The better-sqlite3 connection, for the few edges that stream (store copy reads through it). */
  get raw(): Database.Database {
    return this.conn.db;
  }

  async close(): Promise<void> {
    await this.conn.mutex.run(() => {
      if (this.conn.db.open) this.conn.db.close();
    });
  }
}
