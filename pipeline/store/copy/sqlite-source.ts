// The SQLite side of `lotgate store copy`: one read transaction over the file (a consistent
// snapshot even if a lotgate still writes), its tables in foreign-key order, their columns, and
// rows streamed in rowid order.

import type Database from 'better-sqlite3';
import { auditArea, type AuditHead } from '../areas/audit.js';
import { SqliteDb } from '../dialect/sqlite/driver.js';
import { LATEST_VERSION, schemaVersion } from '../migrations.js';
import type { AuditVerification } from '../types.js';

export interface SourceTable {
  name: string;
  columns: string[];
}

export class SqliteSource {
  private readonly db: Database.Database;

  private constructor(private readonly file: SqliteDb) {
    this.db = file.raw;
  }

  static open(path: string): SqliteSource {
    const file = SqliteDb.openReadOnly(path);
    const db = file.raw;
    const v = schemaVersion(db);
    if (v !== LATEST_VERSION) {
      db.close();
      throw new Error(`E_STORE_COPY_SOURCE_VERSION: ${path} is at schema version ${v}, this lotgate copies version ${LATEST_VERSION}; open it once with this lotgate (any command that writes) to migrate it, then copy`);
    }
    db.exec('BEGIN'); // the snapshot starts at the first read below
    return new SqliteSource(file);
  }

  /** Every table, parents before the tables that reference them. */
  tables(): SourceTable[] {
    const names = (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    const deps = new Map(names.map((n) => [n, (this.db.pragma(`foreign_key_list("${n}")`) as { table: string }[]).map((f) => f.table).filter((t) => t !== n)]));
    const ordered: string[] = [];
    const visit = (n: string, path: string[]) => {
      if (ordered.includes(n)) return;
      if (path.includes(n)) throw new Error(`foreign keys form a cycle: ${[...path, n].join(' → ')}`);
      for (const d of deps.get(n) ?? []) visit(d, [...path, n]);
      ordered.push(n);
    };
    for (const n of names) visit(n, []);
    return ordered.map((name) => ({ name, columns: (this.db.pragma(`table_info("${name}")`) as { name: string }[]).map((c) => c.name) }));
  }

  count(table: string): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
  }

  rows(t: SourceTable): IterableIterator<unknown[]> {
    const cols = t.columns.map((c) => `"${c}"`).join(', ');
    // WITHOUT ROWID tables have no rowid: their primary key orders them.
    const hasRowid = !/WITHOUT ROWID/i.test((this.db.prepare("SELECT sql FROM sqlite_master WHERE name = ?").get(t.name) as { sql: string }).sql);
    return this.db.prepare(`SELECT ${cols} FROM "${t.name}"${hasRowid ? ' ORDER BY rowid' : ''}`).raw(true).iterate() as IterableIterator<unknown[]>;
  }

  /** The ledger's totals, by state: what the copy must reproduce. */
  ledgerTotals(): LedgerTotal[] {
    return this.db.prepare(LEDGER_TOTALS).all() as LedgerTotal[];
  }

  /** The audit chain of the snapshot, checked as the audit area checks any chain. */
  verifyAudit(): Promise<AuditVerification> {
    return auditArea(this.file).verifyAudit();
  }

  auditHead(): Promise<AuditHead> {
    return auditArea(this.file).auditHead();
  }

  close(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
    this.db.close();
  }
}

export interface LedgerTotal {
  state: string;
  files: number;
  rows: number;
  applied: number;
  rejected: number;
  filtered: number;
}

/** The same statement on both sides (portable SQL). */
export const LEDGER_TOTALS = `SELECT state, count(*) AS files, coalesce(sum("rows"), 0) AS "rows", coalesce(sum(applied), 0) AS applied,
  coalesce(sum(rejected), 0) AS rejected, coalesce(sum(filtered), 0) AS filtered FROM submissions GROUP BY state ORDER BY state`;
