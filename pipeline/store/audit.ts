// The append-only, hash-chained audit trail. Each event's hash covers the previous hash and a
// canonical JSON of the event, so editing, inserting or removing a row breaks the chain from
// that row on; the triggers in the schema make the database itself refuse UPDATE and DELETE.

import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { isoInstant, type Sql } from './sql.js';
import type { AuditInput, AuditRow, AuditVerification } from './types.js';

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

export function appendAudit(sql: Sql, input: AuditInput): { seq: number; hash: string } {
  // Read-then-insert must not interleave with another writer: atomic() holds the write lock.
  return sql.atomic(() => {
    // In an ingest transaction nobody else appends, so the head this function last wrote is still the head.
    const last = (sql.tx.active && sql.tx.auditHead) || (sql.q('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined);
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    const at = input.at ? isoInstant(input.at) : sql.now();
    // Hash what will be read back, not the caller's object (which may hold Dates, undefined, …):
    // the canonical text is its own canonical form, so it goes into the hashed body as it is.
    const detailsText = canonicalJson(input.details ?? null);
    const subject = input.subject ?? null;
    const hash = auditHashOfText(prevHash, { seq, at, actor: input.actor, action: input.action, subject, detailsText });
    sql
      .q('INSERT INTO audit_events (seq, at, actor, "action", subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(seq, at, input.actor, input.action, subject, detailsText, prevHash, hash);
    if (sql.tx.active) sql.tx.auditHead = { seq, hash };
    return { seq, hash };
  });
}

/**
 * Walks the whole chain in order. Reports the first row whose sequence, link or hash is wrong.
 * Removing the newest rows cannot be seen from inside the chain; compare `auditHead()` with a
 * copy kept elsewhere for that.
 */
export function verifyAudit(sql: Sql): AuditVerification {
  let count = 0;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for (const row of sql.q('SELECT * FROM audit_events ORDER BY seq').iterate() as IterableIterator<AuditDbRow>) {
    count++;
    const broken = (reason: string): AuditVerification => ({ ok: false, count, brokenAt: row.seq, reason });
    if (row.seq !== expectedSeq) return broken(`sequence gap: expected seq ${expectedSeq}, found ${row.seq} (rows removed)`);
    if (row.prev_hash !== prevHash) return broken(`prev_hash does not match the hash of seq ${row.seq - 1}`);
    let details: unknown;
    try {
      details = JSON.parse(row.details);
    } catch {
      return broken('details is not valid JSON');
    }
    const hash = auditHash(prevHash, { seq: row.seq, at: row.at, actor: row.actor, action: row.action, subject: row.subject, details });
    if (hash !== row.hash) return broken('hash does not match the event (row altered)');
    prevHash = row.hash;
    expectedSeq++;
  }
  return { ok: true, count };
}

/** The hash of the event with this seq, if the chain has one. */
export function auditHashAt(sql: Sql, seq: number): string | undefined {
  const r = sql.q('SELECT hash FROM audit_events WHERE seq = ?').get(seq) as { hash: string } | undefined;
  return r?.hash;
}

export function auditHead(sql: Sql): { seq: number; hash: string } {
  const last = sql.q('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  return last ?? { seq: 0, hash: GENESIS_HASH };
}

/** Newest first. */
export function listAudit(sql: Sql, opts: { subject?: string; action?: string; limit?: number } = {}): AuditRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.subject !== undefined) {
    where.push('subject = ?');
    args.push(opts.subject);
  }
  if (opts.action !== undefined) {
    where.push('"action" = ?');
    args.push(opts.action);
  }
  const text = `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
  const rows = sql.q(text).all(...args, opts.limit ?? 100) as AuditDbRow[];
  return rows.map(toAuditRow);
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
