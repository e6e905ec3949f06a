// `lotgate store copy --to postgres://…`: the SQLite store of this data directory into an empty
// PostgreSQL database (pipeline/store/copy/copy-store.ts), with progress on stderr.
// `lotgate store check [--url …]`: which database a lotgate would use, at which schema version,
// how much it holds, and whether its audit chain verifies (exit 1 when it does not).

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { auditArea } from '../store/areas/audit.js';
import type { RootDb } from '../store/db/db.js';
import { PG_LATEST_VERSION, pgSchemaVersion } from '../store/dialect/postgres/migrate.js';
import { LATEST_VERSION } from '../store/migrations.js';
import { databaseKind, openDb, sqlitePath } from '../store/open-db.js';
import { copyStore, CopyError, type CopyProgress } from '../store/copy/copy-store.js';
import type { AuditVerification } from '../store/types.js';
import { configFrom, printJson, UserError } from './context.js';

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('The database behind lotgate: check it, move a SQLite store to PostgreSQL.');
  store
    .command('copy')
    .description('Copy the SQLite store of the data directory into an empty PostgreSQL database: every table, the audit chain verified on both sides, the ledger totals compared. Stop lotgate first (the copy is a snapshot).')
    .requiredOption('--to <url>', 'the PostgreSQL database, postgres://user@host:5432/dbname (or LOTGATE_DATABASE_URL)', process.env.LOTGATE_DATABASE_URL)
    .option('--from <file>', 'the SQLite file (default <dataDir>/lotgate.db)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { to: string; from?: string; json?: boolean }, cmd: Command) => {
      if (databaseKind(opts.to) !== 'postgres') throw new UserError(`--to must be a postgres:// URL (got ${JSON.stringify(opts.to)})`, 2);
      const from = opts.from ?? path.join(configFrom(cmd).dataDir, 'lotgate.db');
      // Progress for the tables that take a while; the summary lists them all.
      const progress = (p: CopyProgress) => {
        if (p.total >= 50_000) process.stderr.write(`  ${p.table}: ${p.copied.toLocaleString('en')} / ${p.total.toLocaleString('en')} rows\n`);
      };
      const report = await copyStore(from, opts.to, progress).catch((e: unknown) => {
        throw e instanceof CopyError ? new UserError(e.message) : e;
      });
      if (opts.json) return printJson(report);
      const out = (s: string) => process.stdout.write(s + '\n');
      out(`copied ${report.rows.toLocaleString('en')} rows in ${report.tables.length} tables from ${report.from} to ${report.to}`);
      for (const t of report.tables) if (t.rows) out(`  ${t.table.padEnd(22)} ${t.rows.toLocaleString('en').padStart(12)}`);
      const files = report.ledger.reduce((n, l) => n + l.files, 0);
      out(`ledger: ${files} files, totals by state identical on both sides`);
      out(`audit chain verified on both sides: ${report.audit.events} events, head ${report.audit.head.seq}:${report.audit.head.hash}`);
    });

  store
    .command('check')
    .description('Open the database (migrating it), print its dialect, location, schema version and row counts, and verify the audit chain. Exits 1 if the chain does not verify.')
    .option('--url <url>', 'postgres://user@host:5432/dbname or a SQLite file (default LOTGATE_DATABASE_URL, else <dataDir>/lotgate.db)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { url?: string; json?: boolean }, cmd: Command) => {
      const url = opts.url ?? process.env.LOTGATE_DATABASE_URL ?? path.join(configFrom(cmd).dataDir, 'lotgate.db');
      const report = await checkStore(url);
      if (opts.json) printJson(report);
      else printCheck(report);
      const a = report.audit;
      if (!a.ok) throw new UserError(`E_STORE_CHECK_AUDIT_BROKEN: the audit chain of ${report.location} is broken at event ${a.brokenAt} (${a.reason}); run \`lotgate audit verify\` for the anchors and treat it as an incident`);
    });
}

export interface StoreCheckReport {
  dialect: 'sqlite' | 'postgres';
  /** The SQLite file, or the PostgreSQL URL without its password. */
  location: string;
  schemaVersion: number;
  /** The newest schema this lotgate knows (equal to schemaVersion once migrated). */
  latestSchemaVersion: number;
  submissions: { total: number; byState: Record<string, number> };
  lots: number;
  auditEvents: number;
  audit: AuditVerification;
}

/** Opens (and migrates) the database the URL names and reads the report. */
async function checkStore(url: string): Promise<StoreCheckReport> {
  // A check must not create a database where there was none (a typo in a path would).
  if (databaseKind(url) === 'sqlite' && !existsSync(sqlitePath(url))) {
    throw new UserError(`E_STORE_CHECK_NOT_FOUND: there is no SQLite store at ${sqlitePath(url)}; pass --url, set LOTGATE_DATABASE_URL or --data-dir`);
  }
  const db = await openDb(url).catch((e: Error) => {
    throw /^cannot reach PostgreSQL/.test(e.message) ? new UserError(`E_DATABASE_UNREACHABLE: ${e.message}`) : e;
  });
  try {
    return await readReport(db);
  } finally {
    await db.close();
  }
}

async function readReport(db: RootDb): Promise<StoreCheckReport> {
  const pg = db.dialect === 'postgres';
  const states = await db.all<{ state: string; n: number }>('SELECT state, count(*) AS n FROM submissions GROUP BY state ORDER BY state');
  const count = async (table: string) => (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))?.n ?? 0;
  return {
    dialect: db.dialect,
    location: db.location,
    schemaVersion: pg ? await pgSchemaVersion(db) : ((await db.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0),
    latestSchemaVersion: pg ? PG_LATEST_VERSION : LATEST_VERSION,
    submissions: { total: states.reduce((n, r) => n + r.n, 0), byState: Object.fromEntries(states.map((r) => [r.state, r.n])) },
    lots: await count('lots'),
    auditEvents: await count('audit_events'),
    audit: await auditArea(db).verifyAudit(),
  };
}

function printCheck(r: StoreCheckReport): void {
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`${r.dialect} at ${r.location}, schema version ${r.schemaVersion}${r.schemaVersion === r.latestSchemaVersion ? ' (current)' : ` (this lotgate knows ${r.latestSchemaVersion})`}`);
  out(`submissions: ${r.submissions.total.toLocaleString('en')}`);
  for (const [state, n] of Object.entries(r.submissions.byState)) out(`  ${state.padEnd(20)} ${n.toLocaleString('en').padStart(12)}`);
  out(`lots: ${r.lots.toLocaleString('en')}`);
  out(`audit events: ${r.auditEvents.toLocaleString('en')}`);
  const a = r.audit;
  out(a.ok ? `audit chain verified: ${a.count.toLocaleString('en')} events` : `AUDIT CHAIN BROKEN at event ${a.brokenAt}: ${a.reason} (${a.count} events checked)`);
}
