// The job runner's own bookkeeping beyond leases (jobs.ts): a run row written when the run starts
// and completed when it ends — a run whose process died stays visible as unfinished — and
// cursors, where a job left off.

import { isoInstant, type Sql } from './sql.js';
import type { Instant, JobRunStatus } from './types.js';

/** What a run row says until the run finishes: a process that died mid-run leaves exactly this. */
export const UNFINISHED_RUN_ERROR = 'did not finish: the process stopped or crashed during the run';

/** Inserts the run at its start (status `error` with UNFINISHED_RUN_ERROR until finishJobRun). */
export function startJobRun(sql: Sql, name: string, holder: string, startedAt: Instant, details?: unknown): number {
  const info = sql
    .q(`INSERT INTO job_runs (name, holder, started_at, finished_at, status, details, error) VALUES (?, ?, ?, NULL, 'error', ?, ?)`)
    .run(name, holder, isoInstant(startedAt), details === undefined ? null : JSON.stringify(details), UNFINISHED_RUN_ERROR);
  return Number(info.lastInsertRowid);
}

export function finishJobRun(sql: Sql, id: number, r: { finishedAt: Instant; status: JobRunStatus; details?: unknown; error?: string | null }): void {
  const info = sql
    .q('UPDATE job_runs SET finished_at = ?, status = ?, details = ?, error = ? WHERE id = ?')
    .run(isoInstant(r.finishedAt), r.status, r.details === undefined ? null : JSON.stringify(r.details), r.error ?? null, id);
  if (info.changes !== 1) throw new Error(`finishJobRun: no job run ${id}`);
}

export function getJobCursor(sql: Sql, name: string): string | undefined {
  const r = sql.q('SELECT value FROM job_cursors WHERE name = ?').get(name) as { value: string } | undefined;
  return r?.value;
}

export function setJobCursor(sql: Sql, name: string, value: string): void {
  sql
    .q('INSERT INTO job_cursors (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
    .run(name, value, sql.now());
}
