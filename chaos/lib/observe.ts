// Reading what lotgate recorded, from outside and without changing anything: the SQLite store
// opened read-only (the ledger, fact tables by provenance, the audit trail) and the
// acknowledgment files in every partner's outbound/ folder.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TERMINAL_STATES, type AckSeen, type Leftover, type Snapshot, type SubmissionSeen } from '../report.js';

/** Fact tables compared between runs; those missing from the store's schema are skipped. */
export const FACT_TABLES = ['test_results', 'stage_events', 'lot_identifiers', 'documents', 'deviations', 'dispositions'];

export function storePath(dataDir: string): string {
  return path.join(dataDir, 'lotgate.db');
}

function withStore<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(storePath(dataDir), { readonly: true, fileMustExist: true, timeout: 5_000 });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function columns(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((r) => r.name));
}

export interface LedgerRow extends SubmissionSeen {
  startedAt: string | null;
  finishedAt: string | null;
}

/** The ledger, without the rows of `exceptSources` (the master data seeded with `lotgate ingest`). */
export function readLedger(dataDir: string, exceptSources: string[] = ['cli']): LedgerRow[] {
  return withStore(dataDir, (db) =>
    (
      db
        .prepare(
          `SELECT id, partner, original_name AS name, state, "rows" AS rows, applied, rejected, started_at AS startedAt, finished_at AS finishedAt, source
           FROM submissions ORDER BY id`,
        )
        .all() as (LedgerRow & { source: string })[]
    )
      .filter((r) => !exceptSources.includes(r.source))
      .map(({ source: _s, ...r }) => r),
  );
}

/** Every *.ack.json under <dropDir>/<partner>/outbound (any naming scheme), parsed. */
export function readAcks(dropDir: string): AckSeen[] {
  const out: AckSeen[] = [];
  let partners: string[] = [];
  try {
    partners = readdirSync(dropDir);
  } catch {
    return out;
  }
  const walk = (partner: string, dir: string, depth: number) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      if (n.endsWith('.ack.json') && !n.startsWith('.')) {
        try {
          const a = JSON.parse(readFileSync(p, 'utf8')) as { submissionId?: number; state?: string; file?: string };
          out.push({ partner, submissionId: typeof a.submissionId === 'number' ? a.submissionId : null, state: String(a.state ?? ''), file: String(a.file ?? n) });
        } catch {
          out.push({ partner, submissionId: null, state: 'unreadable', file: n });
        }
      } else if (depth < 3) {
        try {
          if (statSync(p).isDirectory()) walk(partner, p, depth + 1);
        } catch {
          /* gone meanwhile */
        }
      }
    }
  };
  for (const p of partners) walk(p, path.join(dropDir, p, 'outbound'), 0);
  return out;
}

/** Files left in the partners' inbound/, .intake/ and .quarantine/ folders. */
export function readLeftovers(dropDir: string): Leftover[] {
  const out: Leftover[] = [];
  let partners: string[] = [];
  try {
    partners = readdirSync(dropDir);
  } catch {
    return out;
  }
  for (const partner of partners) {
    for (const where of ['inbound', '.intake', '.quarantine'] as const) {
      let names: string[] = [];
      try {
        names = readdirSync(path.join(dropDir, partner, where));
      } catch {
        continue;
      }
      for (const name of names) {
        try {
          if (statSync(path.join(dropDir, partner, where, name)).isFile()) out.push({ partner, where, name });
        } catch {
          /* taken meanwhile */
        }
      }
    }
  }
  return out;
}

/** Everything the comparison needs, read in one go once the run has settled. */
export function snapshot(dataDir: string, dropDir: string): Snapshot {
  const submissions = readLedger(dataDir).map(({ startedAt: _a, finishedAt: _b, ...s }) => s);
  const { factTotals, factsBySubmission, terminalHistory } = withStore(dataDir, (db) => {
    const factTotals: Record<string, number> = {};
    const factsBySubmission: Record<number, Record<string, number>> = {};
    for (const t of FACT_TABLES) {
      const cols = columns(db, t);
      if (cols.size === 0) continue;
      factTotals[t] = (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      if (!cols.has('submission_id')) continue;
      for (const r of db.prepare(`SELECT submission_id AS id, count(*) AS n FROM ${t} WHERE submission_id IS NOT NULL GROUP BY submission_id`).all() as { id: number; n: number }[]) {
        (factsBySubmission[r.id] ??= {})[t] = r.n;
      }
    }
    const terminalHistory: Record<number, string[]> = {};
    const actions = TERMINAL_STATES.map((s) => `submission.${s}`);
    const rows = db
      .prepare(`SELECT subject, "action" AS action FROM audit_events WHERE subject LIKE 'submission:%' AND "action" IN (${actions.map(() => '?').join(',')}) ORDER BY seq`)
      .all(...actions) as { subject: string; action: string }[];
    for (const r of rows) (terminalHistory[Number(r.subject.slice('submission:'.length))] ??= []).push(r.action.slice('submission.'.length));
    return { factTotals, factsBySubmission, terminalHistory };
  });
  return { submissions, acks: readAcks(dropDir), factTotals, factsBySubmission, terminalHistory, leftovers: readLeftovers(dropDir) };
}
