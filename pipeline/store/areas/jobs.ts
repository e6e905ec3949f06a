// The jobs area of the async store: leases (one runner per scheduled job across processes and
// machines), the job run log, and cursors (where a job left off), one implementation for both
// dialects (db/db.ts).
//
// Why the lease needs no lock of its own: tryAcquireLease is ONE statement, an upsert whose
// DO UPDATE carries the "free, expired or ours" condition.
// - SQLite: a write statement holds the database's single write lock from start to end, so two
//   connections' upserts run one after the other and the second sees the first's lease.
// - PostgreSQL: INSERT … ON CONFLICT … DO UPDATE … WHERE is atomic even under READ COMMITTED. A
//   racing insert of the same new name waits for the first one's row and then takes the conflict
//   path; the conflict path locks the existing row (FOR UPDATE) and evaluates the WHERE against
//   its newest committed version, never a stale snapshot. So of N concurrent callers exactly one
//   finds the lease free/expired and updates (or inserts) it; the others see it held and change
//   nothing (rowCount 0). No serialization failure is possible either: ON CONFLICT never raises
//   one at READ COMMITTED.
// startJobRun/finishJobRun are single statements as well (an INSERT, an UPDATE by id) and read
// nothing first, so they need no advisory lock; a check-then-insert step would.

import { parseJson, isoInstant } from '../values.js';
import type { Db } from '../db/db.js';
import type { Instant, JobRunInput, JobRunRow, JobRunStatus } from '../types.js';

/** What a run row says until the run finishes: a process that died mid-run leaves exactly this. */
export const UNFINISHED_RUN_ERROR = 'did not finish: the process stopped or crashed during the run';

export interface Lease {
  name: string;
  holder: string;
  /** When the lease runs out unless renewed, ISO-8601 UTC. */
  expiresAt: string;
}

export interface JobsArea {
  /** Takes the lease when it is free, expired, or already ours (then renews it); true when we hold it now. */
  tryAcquireLease(name: string, holder: string, ttlMs: number, now: Instant): Promise<boolean>;
  /** Gives the lease up; only its holder can. True when it was ours. */
  releaseLease(name: string, holder: string): Promise<boolean>;
  getLease(name: string): Promise<Lease | undefined>;
  /** Records a whole run after the fact; returns its id. */
  recordJobRun(run: JobRunInput): Promise<number>;
  /** Newest first. */
  listJobRuns(opts?: { name?: string; limit?: number }): Promise<JobRunRow[]>;
  /** Inserts the run at its start (status `error` with UNFINISHED_RUN_ERROR until finishJobRun). */
  startJobRun(name: string, holder: string, startedAt: Instant, details?: unknown): Promise<number>;
  /** Completes a started run; throws when there is no such run. */
  finishJobRun(id: number, r: { finishedAt: Instant; status: JobRunStatus; details?: unknown; error?: string | null }): Promise<void>;
  getJobCursor(name: string): Promise<string | undefined>;
  setJobCursor(name: string, value: string): Promise<void>;
}

interface JobRunDbRow {
  id: number;
  name: string;
  holder: string | null;
  started_at: string;
  finished_at: string | null;
  status: JobRunStatus;
  details: string | null;
  error: string | null;
}

function toJobRun(r: JobRunDbRow): JobRunRow {
  return {
    id: r.id,
    name: r.name,
    holder: r.holder,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status,
    details: parseJson<unknown>(r.details, null),
    error: r.error,
  };
}

const ms = (t: Instant): number => Date.parse(isoInstant(t));
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

const INSERT_RUN = 'INSERT INTO job_runs (name, holder, started_at, finished_at, status, details, error) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id';

export function jobsArea(db: Db): JobsArea {
  const insertRun = async (params: unknown[]): Promise<number> => Number((await db.run(INSERT_RUN, params)).rows[0]!.id);

  return {
    async tryAcquireLease(name, holder, ttlMs, now) {
      const t = ms(now);
      // One statement: see the header for why that is atomic on both dialects.
      const r = await db.run(
        `INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE job_leases.expires_at <= ? OR job_leases.holder = excluded.holder`,
        [name, holder, t + ttlMs, t],
      );
      return r.changes === 1;
    },

    async releaseLease(name, holder) {
      return (await db.run('DELETE FROM job_leases WHERE name = ? AND holder = ?', [name, holder])).changes === 1;
    },

    async getLease(name) {
      const r = await db.get<{ name: string; holder: string; expires_at: number }>('SELECT name, holder, expires_at FROM job_leases WHERE name = ?', [name]);
      return r && { name: r.name, holder: r.holder, expiresAt: new Date(Number(r.expires_at)).toISOString() };
    },

    recordJobRun: (run) =>
      insertRun([
        run.name,
        run.holder ?? null,
        isoInstant(run.startedAt),
        run.finishedAt ? isoInstant(run.finishedAt) : null,
        run.status,
        json(run.details),
        run.error ?? null,
      ]),

    async listJobRuns(opts = {}) {
      // The WHERE is built here: PostgreSQL cannot type `? IS NULL OR name = ?`.
      const where = opts.name === undefined ? '' : 'WHERE name = ?';
      const params = opts.name === undefined ? [] : [opts.name];
      const rows = await db.all<JobRunDbRow>(`SELECT * FROM job_runs ${where} ORDER BY started_at DESC, id DESC LIMIT ?`, [...params, opts.limit ?? 50]);
      return rows.map(toJobRun);
    },

    startJobRun: (name, holder, startedAt, details) => insertRun([name, holder, isoInstant(startedAt), null, 'error', json(details), UNFINISHED_RUN_ERROR]),

    async finishJobRun(id, r) {
      const res = await db.run('UPDATE job_runs SET finished_at = ?, status = ?, details = ?, error = ? WHERE id = ?', [
        isoInstant(r.finishedAt),
        r.status,
        json(r.details),
        r.error ?? null,
        id,
      ]);
      if (res.changes !== 1) throw new Error(`finishJobRun: no job run ${id}`);
    },

    async getJobCursor(name) {
      return (await db.get<{ value: string }>('SELECT value FROM job_cursors WHERE name = ?', [name]))?.value;
    },

    async setJobCursor(name, value) {
      await db.run(
        'INSERT INTO job_cursors (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        [name, value, db.now()],
      );
    },
  };
}
