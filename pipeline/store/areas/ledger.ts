// The ledger area of the async store: one row per file that arrived (submissions), its fate, and
// its rejected rows, one implementation for both dialects (db/db.ts).
//
// The exactly-once decisions of the intake read from here: findAppliedBySha (is this a duplicate
// of bytes already counted?), findResendOrigin (which rejected file does it resend?),
// listUnfinishedSubmissions (what the reconciler must requeue) and listAckPending (which answers
// are still owed). They are plain reads, so a decision made from them must be serialised:
// lockDecision does that on PostgreSQL; see there.

import type { ProblemCode } from '../../codes.js';
import type { RowError, SubmissionState } from '../../model/types.js';
import { marks, type Db } from '../db/db.js';
import { toSubmission, type SubmissionDbRow } from '../rows.js';
import { isoInstant } from '../values.js';
import type { Instant, NewSubmission, RejectedRowRow, SubmissionRow } from '../types.js';

// camelCase field → column. Also the whitelist of what updateSubmission may change.
const COLUMNS: Record<Exclude<keyof SubmissionRow, 'id'>, string> = {
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

/** The stored row of a new submission: the defaults of every column, then what the caller gives. */
function newSubmissionRow(s: NewSubmission, receivedAt: string): Omit<SubmissionRow, 'id'> {
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

/**
 * States whose content counts as received for good: applied (with or without row errors), or
 * held for review. Only these make a later submission of the same bytes a `duplicate`; a file
 * that was rejected or quarantined is processed again when it is resent.
 */
const COUNTING_STATES = ['applied', 'applied_with_errors', 'pending_review'] as const;

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

export interface ListSubmissionsOptions {
  partner?: string;
  state?: SubmissionState | SubmissionState[];
  limit?: number;
  since?: Instant;
}

export interface LedgerArea {
  /**
   * Serialises the decision about a file's bytes: call it first in the transaction that re-reads a
   * submission's state and findAppliedBySha, then writes the outcome. Until that transaction ends,
   * no other transaction deciding bytes with this partner and sha256 (the same submission or a
   * copy of it) gets past its own lockDecision. Throws outside a transaction.
   */
  lockDecision(partner: string, sha256: string): Promise<void>;
  /** Records a file that arrived; returns its id. Unset fields take the ledger's defaults. */
  insertSubmission(s: NewSubmission): Promise<number>;
  getSubmission(id: number): Promise<SubmissionRow | undefined>;
  /** The earliest counted (COUNTING_STATES) submission of these bytes from this partner, other than excludeId. */
  findAppliedBySha(partner: string, sha256: string, excludeId?: number): Promise<SubmissionRow | undefined>;
  /** The latest rejected or quarantined submission of these bytes from this partner before beforeId. */
  findResendOrigin(partner: string, sha256: string, beforeId: number): Promise<SubmissionRow | undefined>;
  /** Later submissions that resend this one, oldest first. */
  listResendsOf(id: number): Promise<SubmissionRow[]>;
  /** True when a newer submission of the same partner and name already has an acknowledgment. */
  hasNewerAnsweredByName(partner: string, originalName: string, id: number): Promise<boolean>;
  findSubmissionByName(partner: string, originalName: string, sha256: string): Promise<SubmissionRow | undefined>;
  findSubmissionByArchive(archivePath: string): Promise<SubmissionRow[]>;
  /** Changes the given fields; throws on an unknown field or a missing submission. */
  updateSubmission(id: number, patch: Partial<SubmissionRow>): Promise<void>;
  /** Newest first (receivedAt, then id). `since` compares with receivedAt. */
  listSubmissions(opts?: ListSubmissionsOptions): Promise<SubmissionRow[]>;
  /** Submissions the reconciler must (re)queue: received or processing. Oldest first. */
  listUnfinishedSubmissions(): Promise<SubmissionRow[]>;
  /** Decided submissions whose acknowledgment is still owed. Oldest first. */
  listAckPending(limit?: number): Promise<SubmissionRow[]>;
  insertRejectedRow(submissionId: number, err: RowError): Promise<void>;
  /** Many rejected rows at once, all or none (multi-row INSERTs); returns how many were written. */
  insertRejectedRows(submissionId: number, errors: readonly RowError[]): Promise<number>;
  /** In file order; errors about the whole file (no line) first. */
  listRejectedRows(submissionId: number, limit?: number): Promise<RejectedRowRow[]>;
  countRejectedRows(submissionId: number): Promise<number>;
  /** Removes a submission's rejected rows (a review preview's); returns how many. */
  clearRejectedRows(submissionId: number): Promise<number>;
  /** When each partner's newest file arrived (any state), by partner id. */
  lastReceivedByPartner(): Promise<Map<string, string>>;
}

/** Everything a new submission has unless the caller says otherwise. */


type ColumnKey = keyof typeof COLUMNS;
const INSERT_KEYS = Object.keys(COLUMNS) as ColumnKey[];
const INSERT_SUBMISSION = `INSERT INTO submissions (${INSERT_KEYS.map((k) => COLUMNS[k]).join(', ')})
  VALUES (${marks(INSERT_KEYS)}) RETURNING id`;

const UNFINISHED_STATES: readonly SubmissionState[] = ['received', 'processing'];
const RESENDABLE_STATES: readonly SubmissionState[] = ['rejected', 'quarantined'];

// --- rejected rows ---------------------------------------------------------------------------

const REJECTED_COLUMNS = 'submission_id, line, "column", field, code, message, value';
const REJECTED_WIDTH = 7;
/**
 * Rows per multi-row INSERT: 256 × 7 = 1 792 parameters, far below both dialects' limits. The
 * remainder goes in power-of-two pieces, so at most nine statement texts ever exist (both drivers
 * cache prepared/numbered statements by text).
 */
const REJECTED_CHUNK = 256;

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

function toRejectedRow(r: RejectedDbRow): RejectedRowRow {
  const out: RejectedRowRow = { id: r.id, submissionId: r.submission_id, code: r.code as ProblemCode, message: r.message };
  if (r.line !== null) out.line = r.line;
  if (r.column !== null) out.column = r.column;
  if (r.field !== null) out.field = r.field;
  if (r.value !== null) out.value = r.value;
  return out;
}

function rejectedParams(submissionId: number, err: RowError): unknown[] {
  return [submissionId, err.line ?? null, err.column ?? null, err.field ?? null, err.code, err.message, err.value === undefined ? null : String(err.value)];
}

function insertRejectedSql(rows: number): string {
  const one = `(${Array.from({ length: REJECTED_WIDTH }, () => '?').join(', ')})`;
  return `INSERT INTO rejected_rows (${REJECTED_COLUMNS}) VALUES ${Array.from({ length: rows }, () => one).join(', ')}`;
}

/** Piece sizes for n rows: full chunks, then the binary digits of the rest (largest first). */
export function rejectedChunks(n: number): number[] {
  const out: number[] = [];
  for (let left = n; left > 0; ) {
    const size = left >= REJECTED_CHUNK ? REJECTED_CHUNK : 2 ** Math.floor(Math.log2(left));
    out.push(size);
    left -= size;
  }
  return out;
}

// --- the decision lock -----------------------------------------------------------------------

/**
 * The first key of the ledger's advisory locks (the two-int form keeps them apart from other
 * areas' keys): "LGLD" in ASCII.
 */
const DECISION_LOCK_CLASS = 0x4c474c44;

/**
 * SQLite: a transaction is BEGIN IMMEDIATE, which takes the database's one write lock before its
 * first statement, so every deciding transaction is already serial; nothing to add.
 * PostgreSQL: READ COMMITTED transactions run side by side, so two workers could both find no
 * counted original and both apply the same bytes (or the same submission twice). A transaction-
 * level advisory lock on (partner, sha256) makes the second wait until the first commits, and its
 * reads then see the first's outcome. PostgreSQL frees it at COMMIT/ROLLBACK, also when the
 * process dies. A hash collision between two keys only makes unrelated files wait, never wrong.
 * The sha256 is fixed-length hex, so `partner:sha256` cannot name two different pairs.
 */
async function lockDecision(db: Db, partner: string, sha256: string): Promise<void> {
  if (!db.inTransaction) throw new Error('lockDecision: call it inside the deciding transaction (db.transaction(async (tx) => …))');
  if (db.dialect !== 'postgres') return;
  await db.get('SELECT pg_advisory_xact_lock(?, hashtext(?)) AS locked', [DECISION_LOCK_CLASS, `${partner}:${sha256}`]);
}

// --- the area --------------------------------------------------------------------------------

export function ledgerArea(db: Db): LedgerArea {
  const one = async (text: string, params: readonly unknown[]): Promise<SubmissionRow | undefined> => {
    const r = await db.get<SubmissionDbRow>(text, params);
    return r && toSubmission(r);
  };
  const many = async (text: string, params: readonly unknown[] = []): Promise<SubmissionRow[]> =>
    (await db.all<SubmissionDbRow>(text, params)).map(toSubmission);

  return {
    lockDecision: (partner, sha256) => lockDecision(db, partner, sha256),

    async insertSubmission(s) {
      const row = newSubmissionRow(s, db.now());
      const r = await db.run(INSERT_SUBMISSION, INSERT_KEYS.map((k) => row[k]));
      return Number(r.rows[0]!.id);
    },

    getSubmission: (id) => one('SELECT * FROM submissions WHERE id = ?', [id]),

    findAppliedBySha: (partner, sha256, excludeId) =>
      one(
        `SELECT * FROM submissions WHERE partner = ? AND sha256 = ? AND state IN (${marks(COUNTING_STATES)}) AND id <> ?
         ORDER BY id LIMIT 1`,
        [partner, sha256, ...COUNTING_STATES, excludeId ?? -1],
      ),

    findResendOrigin: (partner, sha256, beforeId) =>
      one(
        `SELECT * FROM submissions WHERE partner = ? AND sha256 = ? AND state IN (${marks(RESENDABLE_STATES)}) AND id < ?
         ORDER BY id DESC LIMIT 1`,
        [partner, sha256, ...RESENDABLE_STATES, beforeId],
      ),

    listResendsOf: (id) => many('SELECT * FROM submissions WHERE resend_of = ? ORDER BY id', [id]),

    async hasNewerAnsweredByName(partner, originalName, id) {
      const r = await db.get('SELECT 1 AS x FROM submissions WHERE partner = ? AND original_name = ? AND id > ? AND ack_path IS NOT NULL LIMIT 1', [
        partner,
        originalName,
        id,
      ]);
      return r !== undefined;
    },

    findSubmissionByName: (partner, originalName, sha256) =>
      one('SELECT * FROM submissions WHERE partner = ? AND original_name = ? AND sha256 = ? ORDER BY id DESC LIMIT 1', [partner, originalName, sha256]),

    findSubmissionByArchive: (archivePath) => many('SELECT * FROM submissions WHERE archive_path = ? ORDER BY id', [archivePath]),

    async updateSubmission(id, patch) {
      const keys = (Object.keys(patch) as (keyof SubmissionRow)[]).filter((k) => k !== 'id' && patch[k] !== undefined);
      for (const k of keys) {
        if (!(k in COLUMNS)) throw new Error(`updateSubmission: unknown field "${String(k)}"`);
      }
      if (keys.length === 0) return;
      // Sorted, so one patch shape is one statement text (both drivers cache by text).
      keys.sort();
      const text = `UPDATE submissions SET ${keys.map((k) => `${COLUMNS[k as ColumnKey]} = ?`).join(', ')} WHERE id = ?`;
      const r = await db.run(text, [...keys.map((k) => patch[k]), id]);
      if (r.changes === 0) throw new Error(`updateSubmission: no submission ${id}`);
    },

    listSubmissions(opts = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (opts.partner !== undefined) {
        where.push('partner = ?');
        args.push(opts.partner);
      }
      if (opts.state !== undefined) {
        // A plain IN list (PostgreSQL has no json_each); at most the 8 states.
        const states = Array.isArray(opts.state) ? opts.state : [opts.state];
        where.push(`state IN (${marks(states)})`);
        args.push(...states);
      }
      if (opts.since !== undefined) {
        where.push('received_at >= ?');
        args.push(isoInstant(opts.since));
      }
      const text = `SELECT * FROM submissions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at DESC, id DESC LIMIT ?`;
      return many(text, [...args, opts.limit ?? 100]);
    },

    listUnfinishedSubmissions: () => many(`SELECT * FROM submissions WHERE state IN (${marks(UNFINISHED_STATES)}) ORDER BY id`, UNFINISHED_STATES),

    listAckPending: (limit = 1000) => many('SELECT * FROM submissions WHERE ack_pending = 1 ORDER BY id LIMIT ?', [limit]),

    async insertRejectedRow(submissionId, err) {
      await db.run(insertRejectedSql(1), rejectedParams(submissionId, err));
    },

    async insertRejectedRows(submissionId, errors) {
      if (errors.length === 0) return 0;
      // One transaction (a savepoint inside the caller's): a failure half-way leaves none of them.
      return db.transaction(async (tx) => {
        let at = 0;
        for (const size of rejectedChunks(errors.length)) {
          const params = errors.slice(at, at + size).flatMap((e) => rejectedParams(submissionId, e));
          await tx.run(insertRejectedSql(size), params);
          at += size;
        }
        return at;
      });
    },

    async listRejectedRows(submissionId, limit = 1000) {
      // `line IS NOT NULL` sorts false before true in both dialects: whole-file errors first.
      const rows = await db.all<RejectedDbRow>('SELECT * FROM rejected_rows WHERE submission_id = ? ORDER BY line IS NOT NULL, line, id LIMIT ?', [
        submissionId,
        limit,
      ]);
      return rows.map(toRejectedRow);
    },

    async countRejectedRows(submissionId) {
      const r = await db.get<{ n: number }>('SELECT count(*) AS n FROM rejected_rows WHERE submission_id = ?', [submissionId]);
      return Number(r?.n ?? 0);
    },

    async clearRejectedRows(submissionId) {
      return (await db.run('DELETE FROM rejected_rows WHERE submission_id = ?', [submissionId])).changes;
    },

    async lastReceivedByPartner() {
      const rows = await db.all<{ partner: string; at: string }>('SELECT partner, max(received_at) AS at FROM submissions GROUP BY partner ORDER BY partner');
      return new Map(rows.map((r) => [r.partner, r.at]));
    },
  };
}
