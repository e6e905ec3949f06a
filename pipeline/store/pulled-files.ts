// Files fetched from partners' own SFTP servers. A remote file is identified by its path, size
// and modification time: the same triple is fetched once; a partner rewriting the file (new size
// or mtime) makes a new one. `fetching` is written before the download starts, so a crash
// half-way is seen by the next run, which fetches again and — via ledger_mark — finds a ledger
// row the crashed run may already have written instead of registering the file twice.

import { isoInstant, type Sql } from './sql.js';
import type { Instant, SubmissionRow } from './types.js';

export type PulledState = 'seen' | 'fetching' | 'fetched';

export interface RemoteFileKey {
  partner: string;
  remotePath: string;
  size: number;
  /** Modification time as the server reports it, epoch ms. */
  mtime: number;
}

export interface PulledFileRow extends RemoteFileKey {
  state: PulledState;
  firstSeenAt: string;
  fetchStartedAt: string | null;
  /** The highest submission id when the fetch started: a pull row above it may be this file's. */
  ledgerMark: number | null;
  sha256: string | null;
  submissionId: number | null;
  fetchedAt: string | null;
  /** The configured `after:` action (move/delete) was carried out. */
  afterDone: boolean;
  updatedAt: string;
}

export interface Db {
  partner: string;
  remote_path: string;
  size: number;
  mtime: number;
  state: PulledState;
  first_seen_at: string;
  fetch_started_at: string | null;
  ledger_mark: number | null;
  sha256: string | null;
  submission_id: number | null;
  fetched_at: string | null;
  after_done: number;
  updated_at: string;
}

export function toRow(r: Db): PulledFileRow {
  return {
    partner: r.partner,
    remotePath: r.remote_path,
    size: r.size,
    mtime: r.mtime,
    state: r.state,
    firstSeenAt: r.first_seen_at,
    fetchStartedAt: r.fetch_started_at,
    ledgerMark: r.ledger_mark,
    sha256: r.sha256,
    submissionId: r.submission_id,
    fetchedAt: r.fetched_at,
    afterDone: r.after_done === 1,
    updatedAt: r.updated_at,
  };
}

const KEY = 'partner = ? AND remote_path = ? AND size = ? AND mtime = ?';
const keyArgs = (k: RemoteFileKey) => [k.partner, k.remotePath, k.size, Math.trunc(k.mtime)];

export function getPulledFile(sql: Sql, k: RemoteFileKey): PulledFileRow | undefined {
  const r = sql.q(`SELECT * FROM pulled_files WHERE ${KEY}`).get(...keyArgs(k)) as Db | undefined;
  return r && toRow(r);
}

/**
 * Notes a remote file in a listing (for the stable-size rule). Earlier `seen` rows of the same
 * path with another size or mtime are dropped: the file was still growing then.
 */
export function notePulledSeen(sql: Sql, k: RemoteFileKey, at: Instant): PulledFileRow {
  return sql.atomic(() => {
    const t = isoInstant(at);
    sql
      .q(`DELETE FROM pulled_files WHERE partner = ? AND remote_path = ? AND state = 'seen' AND NOT (size = ? AND mtime = ?)`)
      .run(k.partner, k.remotePath, k.size, Math.trunc(k.mtime));
    sql
      .q(
        `INSERT INTO pulled_files (partner, remote_path, size, mtime, state, first_seen_at, updated_at) VALUES (?, ?, ?, ?, 'seen', ?, ?)
         ON CONFLICT (partner, remote_path, size, mtime) DO NOTHING`,
      )
      .run(...keyArgs(k), t, t);
    return getPulledFile(sql, k)!;
  });
}

/** The download is about to start. Keeps the first ledger mark across interrupted attempts. */
export function startPullFetch(sql: Sql, k: RemoteFileKey, at: Instant): PulledFileRow {
  return sql.atomic(() => {
    const t = isoInstant(at);
    const mark = (sql.q('SELECT coalesce(max(id), 0) AS m FROM submissions').get() as { m: number }).m;
    sql
      .q(
        `INSERT INTO pulled_files (partner, remote_path, size, mtime, state, first_seen_at, fetch_started_at, ledger_mark, updated_at)
         VALUES (?, ?, ?, ?, 'fetching', ?, ?, ?, ?)
         ON CONFLICT (partner, remote_path, size, mtime) DO UPDATE SET
           state = 'fetching', fetch_started_at = excluded.fetch_started_at,
           ledger_mark = coalesce(pulled_files.ledger_mark, excluded.ledger_mark), updated_at = excluded.updated_at
         WHERE pulled_files.state != 'fetched'`,
      )
      .run(...keyArgs(k), t, t, mark, t);
    return getPulledFile(sql, k)!;
  });
}

export function finishPullFetch(sql: Sql, k: RemoteFileKey, r: { sha256: string; submissionId: number }, at: Instant): void {
  const t = isoInstant(at);
  sql
    .q(`UPDATE pulled_files SET state = 'fetched', sha256 = ?, submission_id = ?, fetched_at = ?, updated_at = ? WHERE ${KEY}`)
    .run(r.sha256, r.submissionId, t, t, ...keyArgs(k));
}

export function markPullAfterDone(sql: Sql, k: RemoteFileKey, at: Instant): void {
  sql.q(`UPDATE pulled_files SET after_done = 1, updated_at = ? WHERE ${KEY}`).run(isoInstant(at), ...keyArgs(k));
}

export function listPulledFiles(sql: Sql, opts: { partner?: string; state?: PulledState; limit?: number } = {}): PulledFileRow[] {
  return (
    sql
      .q('SELECT * FROM pulled_files WHERE (? IS NULL OR partner = ?) AND (? IS NULL OR state = ?) ORDER BY updated_at DESC LIMIT ?')
      .all(opts.partner ?? null, opts.partner ?? null, opts.state ?? null, opts.state ?? null, opts.limit ?? 100) as Db[]
  ).map(toRow);
}

/** A ledger row an interrupted fetch of this file may have written already (same partner, name, bytes, source pull). */
export function findPulledSubmission(sql: Sql, partner: string, originalName: string, sha256: string, afterId: number): SubmissionRow['id'] | undefined {
  const r = sql
    .q(`SELECT id FROM submissions WHERE partner = ? AND original_name = ? AND sha256 = ? AND source = 'pull' AND id > ? ORDER BY id LIMIT 1`)
    .get(partner, originalName, sha256, afterId) as { id: number } | undefined;
  return r?.id;
}
