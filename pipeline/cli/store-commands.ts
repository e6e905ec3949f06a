// `lotgate store copy --to postgres://…`: the SQLite store of this data directory into an empty
// PostgreSQL database (pipeline/store/copy/copy-store.ts), with progress on stderr.

import path from 'node:path';
import type { Command } from 'commander';
import { databaseKind } from '../store/open-db.js';
import { copyStore, CopyError, type CopyProgress } from '../store/copy/copy-store.js';
import { configFrom, printJson, UserError } from './context.js';

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('The database behind lotgate: move a SQLite store to PostgreSQL.');
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
}
