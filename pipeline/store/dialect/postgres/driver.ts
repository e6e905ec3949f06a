// The PostgreSQL side of Db: a `pg` Pool. Root statements take any pooled connection; a
// transaction holds one connection from BEGIN to COMMIT. SQL arrives with `?` placeholders
// (the store's one style) and is numbered `$1…` here, once per distinct text. A statement with
// parameters goes out as a named prepared statement (see statementName): each connection parses
// and plans it once, then only binds and executes it (so a pooler between lotgate and the server
// must keep a client on one server connection, or support protocol-level prepared statements:
// PgBouncer in session mode, or 1.21+ with max_prepared_statements in transaction mode).
//
// Sizing: `max` connections per process (default 10). Every lotgate process holds at most one
// connection per concurrent transaction plus short reads; PostgreSQL's max_connections must
// cover (processes × max) with room for psql and backups. `statement_timeout` bounds any one
// statement (default 60 s) so a stuck query fails with a code instead of holding locks forever.

import { createHash } from 'node:crypto';
import pg from 'pg';
import { redactUrl as redact } from '../../../runtime/redact-url.js';
import type { Db, RootDb, RunResult } from '../../db/db.js';

/** The URL without its password, for messages and logs. */
export const redactUrl = (url: string): string => redact(url, 'postgres://(unparseable URL)');

export interface PgOpenOptions {
  now?: () => Date;
  /** Pool size per process (default 10). */
  max?: number;
  /** Longest a statement may run, ms (default 60 000). */
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity (default "lotgate"). */
  applicationName?: string;
}

const INT8 = 20;
const NUMERIC = 1700;

/** Counts and ids come back as JS numbers (all of lotgate's fit in 2^53), NUMERIC as numbers. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => (v === null ? null : Number(v));
    return pg.types.getTypeParser(oid, format);
  },
};

const numbered = new Map<string, string>();

/** `?` → `$n`, outside string literals, quoted identifiers and comments. */
export function numberPlaceholders(sql: string): string {
  const hit = numbered.get(sql);
  if (hit !== undefined) return hit;
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  if (numbered.size < 5_000) numbered.set(sql, out);
  return out;
}

/** Statements with more parameters than this stay unnamed: generated multi-row VALUES and long
 *  IN lists, whose texts vary with the batch and whose parse is shared by many rows anyway. */
const MAX_NAMED_PARAMS = 100;
/** At most this many distinct named texts per process, so at most this many per connection on
 *  the server (pg keeps a connection's statements until it closes); later texts go unnamed. */
const MAX_NAMED_TEXTS = 1_000;
const names = new Map<string, string | null>();
const nameOwners = new Map<string, string>();

/**
 * The prepared-statement name of a `$n` text, or undefined to send it unnamed. pg prepares a
 * name once per connection and then refuses the same name for another text, so a name maps to
 * exactly one text: a hash of it, and should two texts ever share one, the later stays unnamed.
 * Prepared statements outlive a rolled-back transaction and pg records one only once the server
 * has parsed it, so a failed statement or transaction leaves nothing half-known behind.
 */
export function statementName(text: string, paramCount: number): string | undefined {
  if (paramCount === 0 || paramCount > MAX_NAMED_PARAMS) return undefined;
  const hit = names.get(text);
  if (hit !== undefined) return hit ?? undefined;
  if (names.size >= MAX_NAMED_TEXTS) return undefined;
  const name = `lg_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
  const owner = nameOwners.get(name);
  if (owner !== undefined && owner !== text) {
    names.set(text, null);
    return undefined;
  }
  nameOwners.set(name, text);
  names.set(text, name);
  return name;
}

function bind(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : p === true ? 1 : p === false ? 0 : p));
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

class PgHandle implements Db {
  readonly dialect = 'postgres' as const;

  constructor(
    protected readonly q: Queryable,
    private readonly depth: number,
    protected readonly clock: () => Date,
    private readonly pgPool: pg.Pool,
  ) {}

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  private async query(sql: string, params: readonly unknown[]): Promise<pg.QueryResult> {
    const text = numberPlaceholders(sql);
    const name = statementName(text, params.length);
    return name === undefined ? this.q.query(text, bind(params)) : this.q.query({ name, text, values: bind(params) });
  }

  async all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async get<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<RunResult> {
    const r = await this.query(sql, params);
    return { changes: r.rowCount ?? 0, rows: r.rows };
  }

  async exec(sql: string): Promise<void> {
    await this.q.query(sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.depth > 0) return this.savepoint(fn);
    const client = await this.pgPool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const out = await fn(new PgHandle(client, 1, this.clock, this.pgPool));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw e;
      }
    } finally {
      client.release(broken);
    }
  }

  private async savepoint<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const name = `sp${this.depth}`;
    await this.q.query(`SAVEPOINT ${name}`);
    try {
      const out = await fn(new PgHandle(this.q, this.depth + 1, this.clock, this.pgPool));
      await this.q.query(`RELEASE SAVEPOINT ${name}`);
      return out;
    } catch (e) {
      await this.q.query(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.q.query(`RELEASE SAVEPOINT ${name}`);
      throw e;
    }
  }

  /** The transaction's own connection (COPY streams need it); undefined at the root. */
  get client(): pg.PoolClient | undefined {
    return this.depth > 0 ? (this.q as pg.PoolClient) : undefined;
  }

  now(): string {
    return this.clock().toISOString();
  }
}

/** The connection of a PostgreSQL transaction handle, for COPY; throws on any other handle. */
export function pgClientOf(db: Db): pg.PoolClient {
  const client = db instanceof PgHandle ? db.client : undefined;
  if (!client) throw new Error('a PostgreSQL transaction handle is needed here (db.transaction(async (tx) => …))');
  return client;
}

export class PgDb extends PgHandle implements RootDb {
  private constructor(
    private readonly poolRef: pg.Pool,
    clock: () => Date,
    readonly location: string,
  ) {
    super(poolRef, 0, clock, poolRef);
  }

  /** Connects (one round trip, so a wrong URL fails here with its reason). No migrations: see migrate.ts. */
  static async connect(url: string, opts: PgOpenOptions = {}): Promise<PgDb> {
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      statement_timeout: opts.statementTimeoutMs ?? 60_000,
      application_name: opts.applicationName ?? 'lotgate',
      types,
    });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => {});
      throw new Error(`cannot reach PostgreSQL at ${redactUrl(url)}: ${(e as Error).message}`, { cause: e });
    }
    return new PgDb(pool, opts.now ?? (() => new Date()), redactUrl(url));
  }

  get pool(): pg.Pool {
    return this.poolRef;
  }

  async close(): Promise<void> {
    await this.poolRef.end();
  }
}
