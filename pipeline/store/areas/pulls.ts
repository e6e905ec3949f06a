// The pulls area of the async store: one implementation for both dialects (db/db.ts).
// Files fetched from partners' own SFTP servers, and the SFTP drop zone's brute-force bans.
//
// A remote file is identified by its path, size and modification time: the same triple is fetched
// once; a partner rewriting the file (new size or mtime) makes a new one. `fetching` is written
// before the download starts, so a crash half-way is seen by the next run, which fetches again
// and — via ledger_mark — finds a ledger row the crashed run may already have written instead of
// registering the file twice.
//
// Bans (pipeline/sftp/defender.ts) are shared by every process of a data dir and kept across
// restarts: one row per banned IP or user name, the latest ban and how many strikes led to it
// (each further ban doubles). Times are epoch milliseconds.
//
// Across machines: the writes two processes may race on are single statements (an upsert is
// atomic on both dialects; PostgreSQL's ON CONFLICT waits for the other's row and then updates
// it), so no write lock is held across an await.

import type { Db } from '../db/db.js';
import { isoInstant } from '../values.js';
import type { Instant, SubmissionRow } from '../types.js';

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

interface PulledDbRow {
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

function toPulledFile(r: PulledDbRow): PulledFileRow {
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

export interface ListPulledOptions {
  partner?: string;
  state?: PulledState;
  limit?: number;
}

export interface PullsArea {
  getPulledFile(k: RemoteFileKey): Promise<PulledFileRow | undefined>;
  /** Notes a remote file in a listing (stable-size rule); drops `seen` rows of the path with another size or mtime. */
  notePulledSeen(k: RemoteFileKey, at: Instant): Promise<PulledFileRow>;
  /** The download is about to start. Keeps the first ledger mark across interrupted attempts; never undoes `fetched`. */
  startPullFetch(k: RemoteFileKey, at: Instant): Promise<PulledFileRow>;
  finishPullFetch(k: RemoteFileKey, r: { sha256: string; submissionId: number }, at: Instant): Promise<void>;
  markPullAfterDone(k: RemoteFileKey, at: Instant): Promise<void>;
  /** Newest first. */
  listPulledFiles(opts?: ListPulledOptions): Promise<PulledFileRow[]>;
  /** A ledger row an interrupted fetch of this file may have written already. */
  findPulledSubmission(partner: string, originalName: string, sha256: string, afterId: number): Promise<SubmissionRow['id'] | undefined>;
  getBan(kind: BanKind, key: string): Promise<BanRecord | undefined>;
  /** Keeps the later ban when two processes ban the same key at once; forgets bans ended 30 days before this one. */
  recordBan(b: BanRecord): Promise<void>;
  /** Bans in force at `at` (epoch ms), longest first. */
  listActiveBans(at: number): Promise<BanRecord[]>;
  /** Lifts a ban (strikes are kept). Returns whether one was in force. */
  liftBan(kind: BanKind, key: string, at: number): Promise<boolean>;
  /** Forgets rows whose ban ended before `before` (epoch ms). */
  pruneBans(before: number): Promise<number>;
}

export function pullsArea(db: Db): PullsArea {
  return {
    getPulledFile: (k) => getPulledFile(db, k),
    notePulledSeen: (k, at) => notePulledSeen(db, k, at),
    startPullFetch: (k, at) => startPullFetch(db, k, at),
    finishPullFetch: (k, r, at) => finishPullFetch(db, k, r, at),
    markPullAfterDone: (k, at) => markPullAfterDone(db, k, at),
    listPulledFiles: (opts) => listPulledFiles(db, opts),
    findPulledSubmission: (partner, name, sha, afterId) => findPulledSubmission(db, partner, name, sha, afterId),
    getBan: (kind, key) => getBan(db, kind, key),
    recordBan: (b) => recordBan(db, b),
    listActiveBans: (at) => listActiveBans(db, at),
    liftBan: (kind, key, at) => liftBan(db, kind, key, at),
    pruneBans: (before) => pruneBans(db, before),
  };
}

// ------------------------------------------------------------------ pulled files

const KEY = 'partner = ? AND remote_path = ? AND size = ? AND mtime = ?';
const keyArgs = (k: RemoteFileKey) => [k.partner, k.remotePath, k.size, Math.trunc(k.mtime)];

async function getPulledFile(db: Db, k: RemoteFileKey): Promise<PulledFileRow | undefined> {
  const r = await db.get<PulledDbRow>(`SELECT * FROM pulled_files WHERE ${KEY}`, keyArgs(k));
  return r && toPulledFile(r);
}

async function notePulledSeen(db: Db, k: RemoteFileKey, at: Instant): Promise<PulledFileRow> {
  const t = isoInstant(at);
  return db.transaction(async (tx) => {
    await tx.run(`DELETE FROM pulled_files WHERE partner = ? AND remote_path = ? AND state = 'seen' AND NOT (size = ? AND mtime = ?)`, [
      k.partner,
      k.remotePath,
      k.size,
      Math.trunc(k.mtime),
    ]);
    await tx.run(
      `INSERT INTO pulled_files (partner, remote_path, size, mtime, state, first_seen_at, updated_at) VALUES (?, ?, ?, ?, 'seen', ?, ?)
       ON CONFLICT (partner, remote_path, size, mtime) DO NOTHING`,
      [...keyArgs(k), t, t],
    );
    return (await getPulledFile(tx, k))!;
  });
}

/**
 * One statement: the ledger mark (the highest submission id now) is read by the upsert itself,
 * so two machines starting the same file at once leave one row, `fetching`, with the mark of the
 * first to write it. RETURNING is empty when the file is fetched already: read it then.
 */
async function startPullFetch(db: Db, k: RemoteFileKey, at: Instant): Promise<PulledFileRow> {
  const t = isoInstant(at);
  const r = await db.run(
    `INSERT INTO pulled_files (partner, remote_path, size, mtime, state, first_seen_at, fetch_started_at, ledger_mark, updated_at)
     VALUES (?, ?, ?, ?, 'fetching', ?, ?, (SELECT coalesce(max(id), 0) FROM submissions), ?)
     ON CONFLICT (partner, remote_path, size, mtime) DO UPDATE SET
       state = 'fetching', fetch_started_at = excluded.fetch_started_at,
       ledger_mark = coalesce(pulled_files.ledger_mark, excluded.ledger_mark), updated_at = excluded.updated_at
     WHERE pulled_files.state != 'fetched'
     RETURNING *`,
    [...keyArgs(k), t, t, t],
  );
  const row = r.rows[0] as unknown as PulledDbRow | undefined;
  return row ? toPulledFile(row) : (await getPulledFile(db, k))!;
}

async function finishPullFetch(db: Db, k: RemoteFileKey, r: { sha256: string; submissionId: number }, at: Instant): Promise<void> {
  const t = isoInstant(at);
  await db.run(`UPDATE pulled_files SET state = 'fetched', sha256 = ?, submission_id = ?, fetched_at = ?, updated_at = ? WHERE ${KEY}`, [r.sha256, r.submissionId, t, t, ...keyArgs(k)]);
}

async function markPullAfterDone(db: Db, k: RemoteFileKey, at: Instant): Promise<void> {
  await db.run(`UPDATE pulled_files SET after_done = 1, updated_at = ? WHERE ${KEY}`, [isoInstant(at), ...keyArgs(k)]);
}

async function listPulledFiles(db: Db, opts: ListPulledOptions = {}): Promise<PulledFileRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.partner !== undefined) {
    where.push('partner = ?');
    args.push(opts.partner);
  }
  if (opts.state !== undefined) {
    where.push('state = ?');
    args.push(opts.state);
  }
  // The key columns break ties: PostgreSQL has no stable order of its own.
  const text = `SELECT * FROM pulled_files ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                ORDER BY updated_at DESC, partner, remote_path, size, mtime LIMIT ?`;
  return (await db.all<PulledDbRow>(text, [...args, opts.limit ?? 100])).map(toPulledFile);
}

async function findPulledSubmission(db: Db, partner: string, originalName: string, sha256: string, afterId: number): Promise<number | undefined> {
  const r = await db.get<{ id: number }>(
    `SELECT id FROM submissions WHERE partner = ? AND original_name = ? AND sha256 = ? AND source = 'pull' AND id > ? ORDER BY id LIMIT 1`,
    [partner, originalName, sha256, afterId],
  );
  return r?.id;
}

// ------------------------------------------------------------------ SFTP bans

export type BanKind = 'ip' | 'user';

export interface BanRecord {
  kind: BanKind;
  key: string;
  /** When the ban ends (epoch ms). */
  until: number;
  /** 1 for the first ban of this key, 2 for the next one, ... */
  strike: number;
  /** When it was imposed (epoch ms). */
  bannedAt: number;
}

interface BanDbRow {
  kind: BanKind;
  key: string;
  until_ms: number;
  strikes: number;
  banned_at_ms: number;
}

const toBan = (r: BanDbRow): BanRecord => ({ kind: r.kind, key: r.key, until: r.until_ms, strike: r.strikes, bannedAt: r.banned_at_ms });

/** Bans ended this long before a new one are forgotten when it is recorded. */
const BAN_MEMORY_MS = 30 * 86_400_000;

async function getBan(db: Db, kind: BanKind, key: string): Promise<BanRecord | undefined> {
  const r = await db.get<BanDbRow>('SELECT * FROM sftp_bans WHERE kind = ? AND "key" = ?', [kind, key]);
  return r && toBan(r);
}

/**
 * The upsert keeps the larger of each value (SQLite's two-argument max() is PostgreSQL's
 * greatest()). The prune after it is a statement of its own: it can only delete rows that ended
 * a month before this ban, never this one, so a crash between the two loses nothing.
 */
async function recordBan(db: Db, b: BanRecord): Promise<void> {
  const max = db.dialect === 'postgres' ? 'greatest' : 'max';
  await db.run(
    `INSERT INTO sftp_bans (kind, "key", until_ms, strikes, banned_at_ms, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (kind, "key") DO UPDATE SET
       until_ms = ${max}(sftp_bans.until_ms, excluded.until_ms), strikes = ${max}(sftp_bans.strikes, excluded.strikes),
       banned_at_ms = ${max}(sftp_bans.banned_at_ms, excluded.banned_at_ms), updated_at = excluded.updated_at`,
    [b.kind, b.key, Math.round(b.until), b.strike, Math.round(b.bannedAt), db.now()],
  );
  await pruneBans(db, b.bannedAt - BAN_MEMORY_MS);
}

async function listActiveBans(db: Db, at: number): Promise<BanRecord[]> {
  return (await db.all<BanDbRow>('SELECT * FROM sftp_bans WHERE until_ms > ? ORDER BY until_ms DESC, kind, "key"', [Math.round(at)])).map(toBan);
}

async function liftBan(db: Db, kind: BanKind, key: string, at: number): Promise<boolean> {
  const r = await db.run('UPDATE sftp_bans SET until_ms = ?, updated_at = ? WHERE kind = ? AND "key" = ? AND until_ms > ?', [Math.round(at), db.now(), kind, key, Math.round(at)]);
  return r.changes > 0;
}

async function pruneBans(db: Db, before: number): Promise<number> {
  return (await db.run('DELETE FROM sftp_bans WHERE until_ms < ?', [Math.round(before)])).changes;
}
