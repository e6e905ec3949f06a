// The one handle every store module gets: the connection, a per-Store cache of prepared
// statements (keyed by SQL text, prepared on first use), the per-transaction lookup cache,
// and the clock.

import type Database from 'better-sqlite3';
import { TxCache } from './tx-cache.js';
import type { Instant } from './types.js';

export class Sql {
  private readonly cache = new Map<string, Database.Statement>();
  private readonly rawCache = new Map<string, Database.Statement>();
  /** Lookups remembered for the open Store.begin() transaction (tx-cache.ts). */
  readonly tx = new TxCache();

  constructor(
    readonly db: Database.Database,
    private readonly clock: () => Date,
  ) {}

  /** The prepared statement for this SQL text, prepared once per Store. */
  q(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  /** Like q(), but the statement returns rows as arrays of column values (cheaper for wide rows). */
  raw(sql: string): Database.Statement {
    let stmt = this.rawCache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql).raw(true);
      this.rawCache.set(sql, stmt);
    }
    return stmt;
  }

  now(): string {
    return this.clock().toISOString();
  }

  /** Runs fn atomically: inside the caller's transaction if there is one, else in its own IMMEDIATE one. */
  atomic<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : this.db.transaction(fn).immediate();
  }
}

/** Normalises an instant to the one string form the store compares: ISO-8601 UTC with milliseconds. */
export function isoInstant(t: Instant): string {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) throw new Error(`not a valid point in time: ${String(t)}`);
  return d.toISOString();
}

const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const ZONE_RE = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * Event times are compared as text (latest version wins, idempotency keys), so equal instants
 * must be equal strings: "…T10:00Z", "…T10:00:00.000Z" and "…T12:00+02:00" become one form.
 * Dates without a time and unparseable text are kept as sent.
 */
export function normTime(v: string | null | undefined): string | null {
  if (v == null || v === '') return null;
  if (!DATETIME_RE.test(v)) return v;
  // The mapping engine emits UTC; a time without a zone is read as UTC, never as local time.
  const ms = Date.parse(ZONE_RE.test(v) ? v : `${v}Z`);
  return Number.isNaN(ms) ? v : new Date(ms).toISOString();
}

export const bool = (v: unknown): boolean => v === 1 || v === true;

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text == null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
