// The transactional outbox: messages written in the same transaction as the facts they report,
// delivered at least once by the push job. The message id is the idempotency key end to end:
// enqueueing the same id twice stores it once, and receivers dedupe on it.

import { expandPayload } from '../readiness/render.js';
import { isoInstant, type Sql } from './sql.js';
import type { Instant, OutboxHold, OutboxMessage, OutboxRow, OutboxState } from './types.js';

export interface OutboxDbRow {
  id: string;
  topic: string;
  target: string | null;
  key: string;
  payload: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
  submission_id: number | null;
  hold_reason: string | null;
  held_by: string | null;
  held_at: string | null;
}

export function toOutbox(r: OutboxDbRow): OutboxRow {
  return {
    id: r.id,
    topic: r.topic,
    target: r.target,
    key: r.key,
    // Readiness reasons are stored as code + params; the message is rendered back here, so the
    // push job, the CLI and the API see (and send) the payload the message id was computed on.
    payload: expandPayload(JSON.parse(r.payload) as unknown),
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    submissionId: r.submission_id,
    hold: r.held_at === null ? null : { reason: r.hold_reason ?? '', by: r.held_by ?? '', at: r.held_at },
  };
}

/** Returns false when a message with this id already exists (nothing is changed then). */
export function enqueueOutbox(sql: Sql, msg: OutboxMessage): boolean {
  const now = sql.now();
  const state = msg.state ?? 'pending';
  const info = sql
    .q(
      `INSERT INTO outbox (id, topic, target, "key", payload, state, attempts, next_attempt_at, created_at, submission_id)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    )
    .run(msg.id, msg.topic, msg.target ?? null, msg.key, JSON.stringify(msg.payload ?? null), state, state === 'pending' ? now : null, now, msg.submissionId ?? null);
  return info.changes === 1;
}

export function getOutbox(sql: Sql, id: string): OutboxRow | undefined {
  const r = sql.q('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxDbRow | undefined;
  return r && toOutbox(r);
}

/** Oldest first. */
export function listOutbox(sql: Sql, opts: { state?: OutboxState; topic?: string; submissionId?: number; onHold?: boolean; limit?: number } = {}): OutboxRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.onHold !== undefined) where.push(opts.onHold ? 'held_at IS NOT NULL' : 'held_at IS NULL');
  if (opts.state !== undefined) {
    where.push('state = ?');
    args.push(opts.state);
  }
  if (opts.topic !== undefined) {
    where.push('topic = ?');
    args.push(opts.topic);
  }
  if (opts.submissionId !== undefined) {
    where.push('submission_id = ?');
    args.push(opts.submissionId);
  }
  const text = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT ?`;
  return (sql.q(text).all(...args, opts.limit ?? 100) as OutboxDbRow[]).map(toOutbox);
}

export function countOutbox(sql: Sql): Record<OutboxState, number> {
  const out: Record<OutboxState, number> = { pending: 0, sent: 0, dead: 0, held: 0 };
  for (const r of sql.q('SELECT state, count(*) AS n FROM outbox GROUP BY state').all() as { state: OutboxState; n: number }[]) out[r.state] = r.n;
  return out;
}

/**
 * Takes up to `limit` due messages for delivery. Each claimed message counts an attempt and is
 * hidden from other claimers for `visibilityMs`: if the pusher dies mid-delivery, the message
 * becomes due again then (at-least-once), instead of being stuck or sent twice concurrently.
 * Messages an operator holds are not claimed until released.
 */
export function claimOutbox(sql: Sql, limit: number, now: Instant, visibilityMs = 5 * 60_000): OutboxRow[] {
  const nowIso = isoInstant(now);
  const hiddenUntil = new Date(Date.parse(nowIso) + visibilityMs).toISOString();
  return sql.atomic(() => {
    const due = sql
      .q(`SELECT * FROM outbox WHERE state = 'pending' AND held_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at, id LIMIT ?`)
      .all(nowIso, limit) as OutboxDbRow[];
    const claim = sql.q('UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?');
    return due.map((r) => {
      claim.run(hiddenUntil, r.id);
      return toOutbox({ ...r, attempts: r.attempts + 1, next_attempt_at: hiddenUntil });
    });
  });
}

export function markOutboxSent(sql: Sql, id: string, at: Instant): boolean {
  const info = sql
    .q(`UPDATE outbox SET state = 'sent', sent_at = ?, next_attempt_at = NULL, last_error = NULL WHERE id = ? AND state = 'pending'`)
    .run(isoInstant(at), id);
  return info.changes === 1;
}

/** Records a failed delivery: due again at nextAttemptAt, or dead (given up) when null. */
export function markOutboxFailed(sql: Sql, id: string, error: string, nextAttemptAt: Instant | null): boolean {
  const info =
    nextAttemptAt === null
      ? sql.q(`UPDATE outbox SET state = 'dead', next_attempt_at = NULL, last_error = ? WHERE id = ? AND state = 'pending'`).run(error, id)
      : sql.q(`UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'`).run(isoInstant(nextAttemptAt), error, id);
  return info.changes === 1;
}

/** Puts a dead message back in the queue with a fresh attempt count (operator action). */
export function retryOutbox(sql: Sql, id: string): boolean {
  const info = sql.q(`UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND state = 'dead'`).run(sql.now(), id);
  return info.changes === 1;
}

/** Releases the messages held back for a submission (e.g. after review approval). Returns how many. */
export function releaseHeldOutbox(sql: Sql, submissionId: number): number {
  const info = sql.q(`UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE submission_id = ? AND state = 'held'`).run(sql.now(), submissionId);
  return info.changes;
}

/** Messages an operator holds (whatever their state). */
export function countOutboxOnHold(sql: Sql): number {
  return (sql.q('SELECT count(*) AS n FROM outbox WHERE held_at IS NOT NULL').get() as { n: number }).n;
}

/**
 * Puts an operator's hold on a message that is not sent yet: the push job leaves it alone until
 * released. Returns false when it is sent or already held (nothing changes then).
 */
export function holdOutbox(sql: Sql, id: string, hold: OutboxHold): boolean {
  const info = sql
    .q(`UPDATE outbox SET hold_reason = ?, held_by = ?, held_at = ? WHERE id = ? AND state <> 'sent' AND held_at IS NULL`)
    .run(hold.reason, hold.by, hold.at, id);
  return info.changes === 1;
}

/** Lifts an operator's hold; a pending message is due at once. Returns false when it was not held. */
export function releaseOutboxHold(sql: Sql, id: string): boolean {
  const info = sql
    .q(`UPDATE outbox SET hold_reason = NULL, held_by = NULL, held_at = NULL, next_attempt_at = CASE WHEN state = 'pending' THEN ? ELSE next_attempt_at END WHERE id = ? AND held_at IS NOT NULL`)
    .run(sql.now(), id);
  return info.changes === 1;
}
