// The submission ledger: one row per file that arrived, its fate, and its rejected rows.

import type { RowError, SubmissionState } from '../model/types.js';
import { isoInstant, type Sql } from './sql.js';
import type { Instant, NewSubmission, RejectedRowRow, SubmissionRow } from './types.js';
import type { ProblemCode } from '../codes.js';

// camelCase field → column. Also the whitelist of what updateSubmission may change.
export const COLUMNS: Record<Exclude<keyof SubmissionRow, 'id'>, string> = {
  partner: 'partner',
  feed: 'feed',
  originalName: 'original_name',
  size: 'size',
  sha256: 'sha256',
  receivedAt: 'received_at',
  source: 'source',
  archivePath: 'archive_path',
  state: 'state',
  mappingName: 'mapping_name',
  mappingHash: 'mapping_hash',
  rows: '"rows"',
  applied: 'applied',
  rejected: 'rejected',
  filtered: 'filtered',
  superseded: 'superseded',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  attempts: 'attempts',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  replayOf: 'replay_of',
  duplicateOf: 'duplicate_of',
  resendOf: 'resend_of',
  ackPath: 'ack_path',
  ackPending: 'ack_pending',
  ackWrittenAt: 'ack_written_at',
};

export interface SubmissionDbRow {
  id: number;
  partner: string;
  feed: string | null;
  original_name: string;
  size: number;
  sha256: string;
  received_at: string;
  source: SubmissionRow['source'];
  archive_path: string;
  state: SubmissionState;
  mapping_name: string | null;
  mapping_hash: string | null;
  rows: number;
  applied: number;
  rejected: number;
  filtered: number;
  superseded: number;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  replay_of: number | null;
  duplicate_of: number | null;
  resend_of: number | null;
  ack_path: string | null;
  ack_pending: number;
  ack_written_at: string | null;
}

export function toSubmission(r: SubmissionDbRow): SubmissionRow {
  return {
    id: r.id,
    partner: r.partner,
    feed: r.feed,
    originalName: r.original_name,
    size: r.size,
    sha256: r.sha256,
    receivedAt: r.received_at,
    source: r.source,
    archivePath: r.archive_path,
    state: r.state,
    mappingName: r.mapping_name,
    mappingHash: r.mapping_hash,
    rows: r.rows,
    applied: r.applied,
    rejected: r.rejected,
    filtered: r.filtered,
    superseded: r.superseded,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    attempts: r.attempts,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    replayOf: r.replay_of,
    duplicateOf: r.duplicate_of,
    resendOf: r.resend_of,
    ackPath: r.ack_path,
    ackPending: r.ack_pending === 1,
    ackWrittenAt: r.ack_written_at,
  };
}

/** The stored row of a new submission: the defaults of every column, then what the caller gives. */
export function newSubmissionRow(s: NewSubmission, receivedAt: string): Omit<SubmissionRow, 'id'> {
  return {
    feed: null,
    receivedAt,
    state: 'received',
    mappingName: null,
    mappingHash: null,
    rows: 0,
    applied: 0,
    rejected: 0,
    filtered: 0,
    superseded: 0,
    errorCode: null,
    errorMessage: null,
    attempts: 0,
    startedAt: null,
    finishedAt: null,
    replayOf: null,
    duplicateOf: null,
    resendOf: null,
    ackPath: null,
    ackPending: false,
    ackWrittenAt: null,
    ...stripUndefined(s),
    partner: s.partner,
    originalName: s.originalName,
    size: s.size,
    sha256: s.sha256,
    source: s.source,
    archivePath: s.archivePath,
  };
}

export function insertSubmission(sql: Sql, s: NewSubmission): number {
  const row = newSubmissionRow(s, sql.now());
  const keys = Object.keys(COLUMNS) as (keyof typeof COLUMNS)[];
  const text = `INSERT INTO submissions (${keys.map((k) => COLUMNS[k]).join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`;
  const info = sql.q(text).run(...keys.map((k) => toDb(row[k])));
  return Number(info.lastInsertRowid);
}

export function getSubmission(sql: Sql, id: number): SubmissionRow | undefined {
  const r = sql.q('SELECT * FROM submissions WHERE id = ?').get(id) as SubmissionDbRow | undefined;
  return r && toSubmission(r);
}

/**
 * States whose content counts as received for good: applied (with or without row errors), or
 * held for review. Only these make a later submission of the same bytes a `duplicate`; a file
 * that was rejected or quarantined is processed again when it is resent.
 */
export const COUNTING_STATES = ['applied', 'applied_with_errors', 'pending_review'] as const;

/**
 * The earliest submission of these bytes from this partner that counts as the original
 * (COUNTING_STATES): duplicates point at it. `excludeId` leaves out the submission being checked.
 */
export function findAppliedBySha(sql: Sql, partner: string, sha256: string, excludeId?: number): SubmissionRow | undefined {
  const r = sql
    .q(
      `SELECT * FROM submissions WHERE partner = ? AND sha256 = ? AND state IN ('applied', 'applied_with_errors', 'pending_review') AND id != ?
       ORDER BY id LIMIT 1`,
    )
    .get(partner, sha256, excludeId ?? -1) as SubmissionDbRow | undefined;
  return r && toSubmission(r);
}

/**
 * The submission a new one resends: the latest earlier submission of the same bytes from this
 * partner that was rejected or quarantined (under any name).
 */
export function findResendOrigin(sql: Sql, partner: string, sha256: string, beforeId: number): SubmissionRow | undefined {
  const r = sql
    .q(
      `SELECT * FROM submissions WHERE partner = ? AND sha256 = ? AND state IN ('rejected', 'quarantined') AND id < ?
       ORDER BY id DESC LIMIT 1`,
    )
    .get(partner, sha256, beforeId) as SubmissionDbRow | undefined;
  return r && toSubmission(r);
}

/** Later submissions that name this one as what they resend, oldest first. */
export function listResendsOf(sql: Sql, id: number): SubmissionRow[] {
  return (sql.q('SELECT * FROM submissions WHERE resend_of = ? ORDER BY id').all(id) as SubmissionDbRow[]).map(toSubmission);
}

/**
 * True when a submission newer than `id` with the same partner and file name already has an
 * acknowledgment: then `id`'s acknowledgment must not replace the stable "latest" copy.
 */
export function hasNewerAnsweredByName(sql: Sql, partner: string, originalName: string, id: number): boolean {
  return (
    sql.q('SELECT 1 AS x FROM submissions WHERE partner = ? AND original_name = ? AND id > ? AND ack_path IS NOT NULL LIMIT 1').get(partner, originalName, id) !==
    undefined
  );
}

export function findSubmissionByName(sql: Sql, partner: string, originalName: string, sha256: string): SubmissionRow | undefined {
  const r = sql
    .q('SELECT * FROM submissions WHERE partner = ? AND original_name = ? AND sha256 = ? ORDER BY id DESC LIMIT 1')
    .get(partner, originalName, sha256) as SubmissionDbRow | undefined;
  return r && toSubmission(r);
}

export function findSubmissionByArchive(sql: Sql, archivePath: string): SubmissionRow[] {
  const rows = sql.q('SELECT * FROM submissions WHERE archive_path = ? ORDER BY id').all(archivePath) as SubmissionDbRow[];
  return rows.map(toSubmission);
}

export function updateSubmission(sql: Sql, id: number, patch: Partial<SubmissionRow>): void {
  const keys = (Object.keys(patch) as (keyof SubmissionRow)[]).filter((k) => k !== 'id' && patch[k] !== undefined);
  for (const k of keys) {
    if (!(k in COLUMNS)) throw new Error(`updateSubmission: unknown field "${String(k)}"`);
  }
  if (keys.length === 0) return;
  keys.sort();
  const text = `UPDATE submissions SET ${keys.map((k) => `${COLUMNS[k as keyof typeof COLUMNS]} = ?`).join(', ')} WHERE id = ?`;
  const info = sql.q(text).run(...keys.map((k) => toDb(patch[k])), id);
  if (info.changes === 0) throw new Error(`updateSubmission: no submission ${id}`);
}

/** Newest first. `since` compares with receivedAt. */
export function listSubmissions(
  sql: Sql,
  opts: { partner?: string; state?: SubmissionState | SubmissionState[]; limit?: number; since?: Instant } = {},
): SubmissionRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.partner !== undefined) {
    where.push('partner = ?');
    args.push(opts.partner);
  }
  if (opts.state !== undefined) {
    const states = Array.isArray(opts.state) ? opts.state : [opts.state];
    // json_each keeps one cached statement whatever the number of states.
    where.push('state IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(states));
  }
  if (opts.since !== undefined) {
    where.push('received_at >= ?');
    args.push(isoInstant(opts.since));
  }
  const text = `SELECT * FROM submissions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at DESC, id DESC LIMIT ?`;
  return (sql.q(text).all(...args, opts.limit ?? 100) as SubmissionDbRow[]).map(toSubmission);
}

/** Decided submissions whose acknowledgment is still owed (a failed write, a crash). Oldest first. */
export function listAckPending(sql: Sql, limit = 1000): SubmissionRow[] {
  return (sql.q('SELECT * FROM submissions WHERE ack_pending = 1 ORDER BY id LIMIT ?').all(limit) as SubmissionDbRow[]).map(toSubmission);
}

/** Submissions the reconciler must (re)queue: in the ledger but never finished. Oldest first. */
export function listUnfinishedSubmissions(sql: Sql): SubmissionRow[] {
  return (sql.q(`SELECT * FROM submissions WHERE state IN ('received', 'processing') ORDER BY id`).all() as SubmissionDbRow[]).map(toSubmission);
}

export function insertRejectedRow(sql: Sql, submissionId: number, err: RowError): void {
  sql
    .q('INSERT INTO rejected_rows (submission_id, line, "column", field, code, message, value) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(submissionId, err.line ?? null, err.column ?? null, err.field ?? null, err.code, err.message, err.value === undefined ? null : String(err.value));
}

interface RejectedDbRow {
  id: number;
  submission_id: number;
  line: number | null;
  column: number | null;
  field: string | null;
  code: string;
  message: string;
  value: string | null;
}

/** In file order; errors about the whole file (no line) first. */
export function listRejectedRows(sql: Sql, submissionId: number, limit = 1000): RejectedRowRow[] {
  const rows = sql
    .q('SELECT * FROM rejected_rows WHERE submission_id = ? ORDER BY line IS NOT NULL, line, id LIMIT ?')
    .all(submissionId, limit) as RejectedDbRow[];
  return rows.map((r) => {
    const out: RejectedRowRow = { id: r.id, submissionId: r.submission_id, code: r.code as ProblemCode, message: r.message };
    if (r.line !== null) out.line = r.line;
    if (r.column !== null) out.column = r.column;
    if (r.field !== null) out.field = r.field;
    if (r.value !== null) out.value = r.value;
    return out;
  });
}

export function countRejectedRows(sql: Sql, submissionId: number): number {
  return (sql.q('SELECT count(*) AS n FROM rejected_rows WHERE submission_id = ?').get(submissionId) as { n: number }).n;
}

/** SQLite has no booleans. */
function toDb(v: unknown): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null);
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
