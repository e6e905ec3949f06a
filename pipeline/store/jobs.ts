// Leases (one runner per scheduled job across processes) and the job run log.

import { isoInstant, parseJson, type Sql } from './sql.js';
import type { Instant, JobRunInput, JobRunRow } from './types.js';

const ms = (t: Instant): number => Date.parse(isoInstant(t));

/**
 * Takes the lease when it is free, expired, or already ours (then renews it). One statement,
 * so two processes racing for it cannot both win.
 */
export function tryAcquireLease(sql: Sql, name: string, holder: string, ttlMs: number, now: Instant): boolean {
  const t = ms(now);
  const info = sql
    .q(
      `INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE job_leases.expires_at <= ? OR job_leases.holder = excluded.holder`,
    )
    .run(name, holder, t + ttlMs, t);
  return info.changes === 1;
}

export function releaseLease(sql: Sql, name: string, holder: string): boolean {
  return sql.q('DELETE FROM job_leases WHERE name = ? AND holder = ?').run(name, holder).changes === 1;
}

export function getLease(sql: Sql, name: string): { name: string; holder: string; expiresAt: string } | undefined {
  const r = sql.q('SELECT * FROM job_leases WHERE name = ?').get(name) as { name: string; holder: string; expires_at: number } | undefined;
  return r && { name: r.name, holder: r.holder, expiresAt: new Date(r.expires_at).toISOString() };
}

export function recordJobRun(sql: Sql, run: JobRunInput): number {
  const info = sql
    .q('INSERT INTO job_runs (name, holder, started_at, finished_at, status, details, error) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(
      run.name,
      run.holder ?? null,
      isoInstant(run.startedAt),
      run.finishedAt ? isoInstant(run.finishedAt) : null,
      run.status,
      run.details === undefined ? null : JSON.stringify(run.details),
      run.error ?? null,
    );
  return Number(info.lastInsertRowid);
}

/** Newest first. */
export function listJobRuns(sql: Sql, opts: { name?: string; limit?: number } = {}): JobRunRow[] {
  const rows = sql
    .q('SELECT * FROM job_runs WHERE (? IS NULL OR name = ?) ORDER BY started_at DESC, id DESC LIMIT ?')
    .all(opts.name ?? null, opts.name ?? null, opts.limit ?? 50) as {
    id: number;
    name: string;
    holder: string | null;
    started_at: string;
    finished_at: string | null;
    status: JobRunRow['status'];
    details: string | null;
    error: string | null;
  }[];
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    holder: r.holder,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status,
    details: parseJson<unknown>(r.details, null),
    error: r.error,
  }));
}
