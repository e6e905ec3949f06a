// The audit area of the async store: the append-only, hash-chained audit trail and the reads
// production makes of it (search, seq by time, events after a seq), one implementation for both
// dialects (db/db.ts). Each event's hash covers the previous hash and a canonical JSON of the
// event, so editing, inserting or removing a row breaks the chain from that row on; the database
// itself refuses UPDATE, DELETE and TRUNCATE (the SQLite triggers, schema/audit.ts).
//
// Two machines must never fork the chain: an append reads the head and inserts head + 1 inside
// one transaction that holds the chain's lock — on SQLite the BEGIN IMMEDIATE write lock, on
// PostgreSQL a transaction-level advisory lock (released at COMMIT/ROLLBACK, so the next appender
// reads the committed head). `seq` is assigned here, not by a sequence: a rolled-back append
// leaves no gap.

import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import type { Db } from '../db/db.js';
import { chunks, marks, rowMarks } from '../db/db.js';
import { scopeWhere, submissionScopeWhere, type Access, type SqlPart } from '../scope.js';
import { isoInstant } from '../values.js';
import type { AuditInput, AuditRow, AuditVerification, Instant } from '../types.js';

/** The previous hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditDbRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

/** An event's hash: sha256 of the previous hash and the event's canonical JSON. */
export function auditHash(prevHash: string, e: { seq: number; at: string; actor: string; action: string; subject: string | null; details: unknown }): string {
  const body = canonicalJson({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, details: e.details });
  return createHash('sha256').update(prevHash + body).digest('hex');
}

/**
 * auditHash for details given as canonical JSON text, without parsing it back: the body is
 * spelled out with its keys in canonical (sorted) order. Same result as auditHash (tested).
 */
export function auditHashOfText(prevHash: string, e: { seq: number; at: string; actor: string; action: string; subject: string | null; detailsText: string }): string {
  const body = `{"action":${JSON.stringify(e.action)},"actor":${JSON.stringify(e.actor)},"at":${JSON.stringify(e.at)},"details":${e.detailsText},"seq":${canonicalJson(e.seq)},"subject":${e.subject === null ? 'null' : JSON.stringify(e.subject)}}`;
  return createHash('sha256').update(prevHash + body).digest('hex');
}

export function toAuditRow(r: AuditDbRow): AuditRow {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    details: JSON.parse(r.details) as unknown,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** A search of the audit trail (GET /api/v1/audit). */
export interface AuditSearch {
  subject?: string;
  actor?: string;
  /** Events whose action starts with this (`auth.` → every authentication event). */
  actionPrefix?: string;
  /** ISO instants, inclusive. */
  from?: string;
  to?: string;
  /** Only events with a smaller sequence number (the cursor of the previous page). */
  beforeSeq?: number;
  limit: number;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditArea {
  /** Appends one event to the chain (in the caller's transaction, else in one of its own). */
  appendAudit(input: AuditInput): Promise<AuditHead>;
  /** appendAudit of several events in this order, with one lock and a few multi-row inserts. */
  appendAuditMany(inputs: readonly AuditInput[]): Promise<AuditHead[]>;
  /** The newest event's seq and hash; seq 0 and the genesis hash for an empty chain. */
  auditHead(): Promise<AuditHead>;
  /** The hash of the event with this seq, if the chain has one. */
  auditHashAt(seq: number): Promise<string | undefined>;
  /** Newest first. */
  listAudit(opts?: { subject?: string; action?: string; limit?: number }): Promise<AuditRow[]>;
  /** Walks the whole chain in order; reports the first row whose sequence, link or hash is wrong. */
  verifyAudit(): Promise<AuditVerification>;
  /** GET /api/v1/audit: filters, scope, newest first, paged by seq. */
  searchAudit(access: Access, q: AuditSearch): Promise<{ items: AuditRow[]; nextBeforeSeq: number | null }>;
  /** The seq of the newest event at or before `at` (0: none). */
  auditSeqAt(at: Instant): Promise<number>;
  /** Events with seq > afterSeq, oldest first, optionally only these actions. */
  listAuditAfter(afterSeq: number, opts?: { actions?: string[]; limit?: number }): Promise<AuditRow[]>;
}

/** The PostgreSQL advisory lock key of the chain's head: "audit_" in ASCII, distinct from the migration lock. */
export const AUDIT_CHAIN_LOCK = 0x61756469745f;

/** Rows verifyAudit reads per statement: bounds memory on a chain of millions of events. */
const VERIFY_PAGE = 2_000;

const HEAD_SQL = 'SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1';

export function auditArea(db: Db): AuditArea {
  return {
    appendAudit: async (input) => (await appendAuditMany(db, [input]))[0],
    appendAuditMany: (inputs) => appendAuditMany(db, inputs),

    async auditHead() {
      return (await db.get<AuditHead>(HEAD_SQL)) ?? { seq: 0, hash: GENESIS_HASH };
    },

    async auditHashAt(seq) {
      return (await db.get<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = ?', [seq]))?.hash;
    },

    async listAudit(opts = {}) {
      const where: SqlPart[] = [];
      if (opts.subject !== undefined) where.push({ sql: 'subject = ?', args: [opts.subject] });
      if (opts.action !== undefined) where.push({ sql: '"action" = ?', args: [opts.action] });
      const rows = await db.all<AuditDbRow>(`SELECT * FROM audit_events ${whereOf(where)} ORDER BY seq DESC LIMIT ?`, [...argsOf(where), opts.limit ?? 100]);
      return rows.map(toAuditRow);
    },

    verifyAudit: () => verify(db),

    searchAudit: (access, q) => search(db, access, q),

    async auditSeqAt(at) {
      const r = await db.get<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM audit_events WHERE at <= ?', [isoInstant(at)]);
      return r?.s ?? 0;
    },

    async listAuditAfter(afterSeq, opts = {}) {
      // The old code filtered through json_each; an IN list does the same on both dialects
      // (an empty list matches nothing, as before). Action lists are a handful of names.
      const actions = opts.actions ? `AND "action" IN (${marks(opts.actions)})` : '';
      const rows = await db.all<AuditDbRow>(`SELECT * FROM audit_events WHERE seq > ? ${actions} ORDER BY seq LIMIT ?`, [afterSeq, ...(opts.actions ?? []), opts.limit ?? 1000]);
      return rows.map(toAuditRow);
    },
  };
}

/** Events per INSERT (8 parameters each). */
const APPEND_CHUNK = 200;

function appendAuditMany(db: Db, inputs: readonly AuditInput[]): Promise<AuditHead[]> {
  if (!inputs.length) return Promise.resolve([]);
  return db.inTransaction ? appendIn(db, inputs) : db.transaction((tx) => appendIn(tx, inputs));
}

/** appendAuditMany inside a transaction: lock the chain, read the head, insert head + 1 … head + n. */
async function appendIn(tx: Db, inputs: readonly AuditInput[]): Promise<AuditHead[]> {
  // SQLite: the transaction's BEGIN IMMEDIATE already holds the file's write lock. PostgreSQL:
  // READ COMMITTED lets two transactions read the same head, so they queue on this lock first.
  if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(?)', [AUDIT_CHAIN_LOCK]);
  const last = await tx.get<AuditHead>(HEAD_SQL);
  let seq = last?.seq ?? 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  const rows: unknown[][] = [];
  const heads: AuditHead[] = [];
  for (const input of inputs) {
    seq++;
    const at = input.at ? isoInstant(input.at) : tx.now();
    // Hash what will be read back (the canonical text), not the caller's object (which may hold Dates, undefined, …).
    const detailsText = canonicalJson(input.details ?? null);
    const subject = input.subject ?? null;
    const hash = auditHashOfText(prevHash, { seq, at, actor: input.actor, action: input.action, subject, detailsText });
    rows.push([seq, at, input.actor, input.action, subject, detailsText, prevHash, hash]);
    heads.push({ seq, hash });
    prevHash = hash;
  }
  for (const part of chunks(rows, APPEND_CHUNK)) {
    await tx.run(`INSERT INTO audit_events (seq, at, actor, "action", subject, details, prev_hash, hash) VALUES ${rowMarks(part.length, 8)}`, part.flat());
  }
  return heads;
}

/**
 * The whole chain in order, a page of rows at a time. Removing the newest rows cannot be seen from
 * inside the chain; compare auditHead() with a copy kept elsewhere for that (audit/anchors.ts).
 */
async function verify(db: Db): Promise<AuditVerification> {
  let count = 0;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let after = 0;
  for (;;) {
    const page = await db.all<AuditDbRow>('SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?', [after, VERIFY_PAGE]);
    for (const row of page) {
      count++;
      const problem = checkRow(row, expectedSeq, prevHash);
      if (problem) return { ok: false, count, brokenAt: row.seq, reason: problem };
      prevHash = row.hash;
      expectedSeq++;
    }
    if (page.length < VERIFY_PAGE) return { ok: true, count };
    after = page[page.length - 1].seq;
  }
}

/** Why this row breaks the chain, or null. */
function checkRow(row: AuditDbRow, expectedSeq: number, prevHash: string): string | null {
  if (row.seq !== expectedSeq) return `sequence gap: expected seq ${expectedSeq}, found ${row.seq} (rows removed)`;
  if (row.prev_hash !== prevHash) return `prev_hash does not match the hash of seq ${row.seq - 1}`;
  let details: unknown;
  try {
    details = JSON.parse(row.details);
  } catch {
    return 'details is not valid JSON';
  }
  const hash = auditHash(prevHash, { seq: row.seq, at: row.at, actor: row.actor, action: row.action, subject: row.subject, details });
  return hash === row.hash ? null : 'hash does not match the event (row altered)';
}

async function search(db: Db, access: Access, q: AuditSearch): Promise<{ items: AuditRow[]; nextBeforeSeq: number | null }> {
  const where: SqlPart[] = [];
  const add = (sql: string, ...args: unknown[]) => where.push({ sql, args });
  if (q.subject !== undefined) add('a.subject = ?', q.subject);
  if (q.actor !== undefined) add('a.actor = ?', q.actor);
  if (q.actionPrefix !== undefined) add('substr(a."action", 1, ?) = ?', q.actionPrefix.length, q.actionPrefix);
  if (q.from !== undefined) add('a.at >= ?', q.from);
  if (q.to !== undefined) add('a.at <= ?', q.to);
  if (q.beforeSeq !== undefined) add('a.seq < ?', q.beforeSeq);
  if (access !== 'all') {
    const lot = scopeWhere(access, 'l');
    const sub = submissionScopeWhere(access, 's');
    add(
      `(EXISTS (SELECT 1 FROM lots l WHERE a.subject = 'lot:' || l.material_id || '/' || l.lot_number AND ${lot.sql})
        OR EXISTS (SELECT 1 FROM submissions s WHERE a.subject = 'submission:' || s.id AND ${sub.sql}))`,
      ...lot.args,
      ...sub.args,
    );
  }
  const rows = await db.all<AuditDbRow>(`SELECT a.* FROM audit_events a ${whereOf(where)} ORDER BY a.seq DESC LIMIT ?`, [...argsOf(where), q.limit + 1]);
  const items = rows.slice(0, q.limit).map(toAuditRow);
  return { items, nextBeforeSeq: rows.length > q.limit ? items[items.length - 1].seq : null };
}

function whereOf(parts: readonly SqlPart[]): string {
  return parts.length ? `WHERE ${parts.map((p) => p.sql).join(' AND ')}` : '';
}

function argsOf(parts: readonly SqlPart[]): unknown[] {
  return parts.flatMap((p) => p.args);
}
