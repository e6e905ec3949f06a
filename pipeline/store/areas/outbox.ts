// The outbox area of the async store: one implementation for both dialects (db/db.ts).
// The transactional outbox: messages written in the same transaction as the facts they report,
// delivered at least once by the push job. The message id is the idempotency key end to end:
// enqueueing the same id twice stores it once, and receivers dedupe on it. The per-connector
// deliveries say which receivers already have a message, so one routed to an ERP and a QMS is not
// sent to the ERP again while the QMS is down. Plus the id-prefix lookup of the CLI.
//
// Across machines: claimOutbox is the one place two pushers compete. The claim is the lease of
// the SQLite store (next_attempt_at moved `visibilityMs` ahead, an attempt counted); how two
// claimers are kept apart differs per dialect (claimLocked / claimChecked below).

import { expandPayload } from '../../readiness/render.js';
import type { Db } from '../db/db.js';
import { chunks, marks, rowMarks } from '../db/db.js';
import { isoInstant } from '../values.js';
import type { DeliveryRow, DeliveryState, Instant, OutboxHold, OutboxMessage, OutboxRow, OutboxState } from '../types.js';

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

export interface DeliveryDbRow {
  outbox_id: string;
  connector: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  sent_at: string | null;
  updated_at: string;
}

export function toDelivery(r: DeliveryDbRow): DeliveryRow {
  return {
    outboxId: r.outbox_id,
    connector: r.connector,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    sentAt: r.sent_at,
    updatedAt: r.updated_at,
  };
}

export interface ListOutboxOptions {
  state?: OutboxState;
  topic?: string;
  submissionId?: number;
  onHold?: boolean;
  limit?: number;
}

export interface OutboxArea {
  /** Stores the message once per id (the idempotency key). True when newly stored. */
  enqueueOutbox(msg: OutboxMessage): Promise<boolean>;
  /** enqueueOutbox of several messages, in a few multi-row statements; per message, whether it is new. */
  enqueueOutboxMany(msgs: readonly OutboxMessage[]): Promise<boolean[]>;
  getOutbox(id: string): Promise<OutboxRow | undefined>;
  /** Oldest first. */
  listOutbox(opts?: ListOutboxOptions): Promise<OutboxRow[]>;
  countOutbox(): Promise<Record<OutboxState, number>>;
  /** Messages an operator holds (whatever their state). */
  countOutboxOnHold(): Promise<number>;
  /** Takes up to `limit` due messages, hidden from other claimers for `visibilityMs` (default 5 min). */
  claimOutbox(limit: number, now: Instant, visibilityMs?: number): Promise<OutboxRow[]>;
  markOutboxSent(id: string, at: Instant): Promise<boolean>;
  /** nextAttemptAt null → dead letter. */
  markOutboxFailed(id: string, error: string, nextAttemptAt: Instant | null): Promise<boolean>;
  /** A dead message back in the queue with a fresh attempt count. */
  retryOutbox(id: string): Promise<boolean>;
  /** Operator retry of a dead message: the message and its dead deliveries start over, in one transaction. */
  retryDeadOutbox(id: string, at: Instant): Promise<{ retried: boolean; deliveries: number }>;
  /** Releases the messages held back for a submission. Returns how many. */
  releaseHeldOutbox(submissionId: number): Promise<number>;
  /** An operator's hold on a message not yet sent (false: sent, or already held). */
  holdOutbox(id: string, hold: OutboxHold): Promise<boolean>;
  /** Lifts an operator's hold (false: it was not held); a pending message is due at once. */
  releaseOutboxHold(id: string): Promise<boolean>;
  /** Per-connector delivery state of one outbox message, by connector name. */
  listDeliveries(outboxId: string): Promise<DeliveryRow[]>;
  /** The deliveries of several messages, grouped by message id. */
  listDeliveriesOf(outboxIds: string[]): Promise<Map<string, DeliveryRow[]>>;
  markDeliverySent(outboxId: string, connector: string, at: Instant): Promise<void>;
  /** nextAttemptAt null → dead for this connector. Returns the connector's attempts so far. */
  recordDeliveryFailure(outboxId: string, connector: string, error: string, nextAttemptAt: Instant | null, at: Instant): Promise<number>;
  /** An older message of the same topic and key the connector still has to get (ordering per key). */
  olderUndelivered(msg: { id: string; topic: string; key: string }, connector: string): Promise<{ id: string; nextAttemptAt: string | null } | undefined>;
  /** Outbox ids starting with this (hex) prefix, at most `limit`. */
  findOutboxIdsByPrefix(prefix: string, limit?: number): Promise<string[]>;
}

/** IN lists are cut at this many values (bind parameter limits of both dialects). */
const CHUNK = 500;

export function outboxArea(db: Db): OutboxArea {
  return {
    enqueueOutbox: async (msg) => (await enqueueOutboxMany(db, [msg]))[0],
    enqueueOutboxMany: (msgs) => enqueueOutboxMany(db, msgs),
    getOutbox: (id) => getOutbox(db, id),
    listOutbox: (opts) => listOutbox(db, opts),
    countOutbox: () => countOutbox(db),
    countOutboxOnHold: () => countOutboxOnHold(db),
    claimOutbox: (limit, now, visibilityMs) => claimOutbox(db, limit, now, visibilityMs),
    markOutboxSent: (id, at) => markOutboxSent(db, id, at),
    markOutboxFailed: (id, error, next) => markOutboxFailed(db, id, error, next),
    retryOutbox: (id) => retryOutbox(db, id),
    retryDeadOutbox: (id, at) =>
      db.transaction(async (tx) => {
        const retried = await retryOutbox(tx, id);
        return { retried, deliveries: retried ? await retryDeadDeliveries(tx, id, at) : 0 };
      }),
    releaseHeldOutbox: (submissionId) => releaseHeldOutbox(db, submissionId),
    holdOutbox: (id, hold) => holdOutbox(db, id, hold),
    releaseOutboxHold: (id) => releaseOutboxHold(db, id),
    listDeliveries: (outboxId) => listDeliveries(db, outboxId),
    listDeliveriesOf: (ids) => listDeliveriesOf(db, ids),
    markDeliverySent: (outboxId, connector, at) => markDeliverySent(db, outboxId, connector, at),
    recordDeliveryFailure: (outboxId, connector, error, next, at) => recordDeliveryFailure(db, outboxId, connector, error, next, at),
    olderUndelivered: (msg, connector) => olderUndelivered(db, msg, connector),
    findOutboxIdsByPrefix: (prefix, limit) => findOutboxIdsByPrefix(db, prefix, limit),
  };
}

// ------------------------------------------------------------------ messages

/** Messages per INSERT: 10 parameters each, well under both dialects' limits. */
const ENQUEUE_CHUNK = 200;

async function enqueueOutboxMany(db: Db, msgs: readonly OutboxMessage[]): Promise<boolean[]> {
  const now = db.now();
  const added = new Set<string>();
  for (const part of chunks(msgs, ENQUEUE_CHUNK)) {
    const r = await db.run(
      `INSERT INTO outbox (id, topic, target, "key", payload, state, attempts, next_attempt_at, created_at, submission_id)
       VALUES ${rowMarks(part.length, 10)}
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      part.flatMap((msg) => {
        const state = msg.state ?? 'pending';
        return [msg.id, msg.topic, msg.target ?? null, msg.key, JSON.stringify(msg.payload ?? null), state, 0, state === 'pending' ? now : null, now, msg.submissionId ?? null];
      }),
    );
    for (const row of r.rows) added.add(String(row.id));
  }
  // The same id twice in one call: only the first is new.
  return msgs.map((m) => added.delete(m.id));
}

async function getOutbox(db: Db, id: string): Promise<OutboxRow | undefined> {
  const r = await db.get<OutboxDbRow>('SELECT * FROM outbox WHERE id = ?', [id]);
  return r && toOutbox(r);
}

async function listOutbox(db: Db, opts: ListOutboxOptions = {}): Promise<OutboxRow[]> {
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
  return (await db.all<OutboxDbRow>(text, [...args, opts.limit ?? 100])).map(toOutbox);
}

async function countOutbox(db: Db): Promise<Record<OutboxState, number>> {
  const out: Record<OutboxState, number> = { pending: 0, sent: 0, dead: 0, held: 0 };
  for (const r of await db.all<{ state: OutboxState; n: number }>('SELECT state, count(*) AS n FROM outbox GROUP BY state')) out[r.state] = r.n;
  return out;
}

async function countOutboxOnHold(db: Db): Promise<number> {
  return (await db.get<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE held_at IS NOT NULL'))!.n;
}

/**
 * Each claimed message counts an attempt and is hidden until now + visibilityMs: if the pusher
 * dies mid-delivery the message is due again then (at-least-once). Held messages are not claimed.
 */
async function claimOutbox(db: Db, limit: number, now: Instant, visibilityMs = 5 * 60_000): Promise<OutboxRow[]> {
  const nowIso = isoInstant(now);
  const hiddenUntil = new Date(Date.parse(nowIso) + visibilityMs).toISOString();
  const due = db.dialect === 'postgres' ? await claimLocked(db, limit, nowIso, hiddenUntil) : await claimChecked(db, limit, nowIso, hiddenUntil);
  return due.map((r) => toOutbox({ ...r, attempts: r.attempts + 1, next_attempt_at: hiddenUntil }));
}

const DUE = `SELECT * FROM outbox WHERE state = 'pending' AND held_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at, id LIMIT ?`;

/**
 * PostgreSQL: the due rows are locked FOR UPDATE SKIP LOCKED in the claiming transaction, so a
 * second pusher passes over the rows an open claim holds instead of waiting for them; a row
 * another claim has committed meanwhile is re-checked against the WHERE (no longer due).
 */
function claimLocked(db: Db, limit: number, nowIso: string, hiddenUntil: string): Promise<OutboxDbRow[]> {
  return db.transaction(async (tx) => {
    const due = await tx.all<OutboxDbRow>(`${DUE} FOR UPDATE SKIP LOCKED`, [nowIso, limit]);
    await markClaimed(tx, due.map((r) => r.id), hiddenUntil, '');
    return due;
  });
}

/**
 * SQLite: select, then one conditional UPDATE that takes only the rows still due (a statement is
 * atomic; writers of every process queue on the file lock). No transaction is held across an
 * await: a BEGIN IMMEDIATE of this process waiting on another connection's open transaction
 * would block the event loop that transaction needs to finish. Rows another claimer took
 * between the two statements are dropped; when that leaves nothing, look again, so an empty
 * answer still means "nothing due".
 */
async function claimChecked(db: Db, limit: number, nowIso: string, hiddenUntil: string): Promise<OutboxDbRow[]> {
  for (;;) {
    const due = await db.all<OutboxDbRow>(DUE, [nowIso, limit]);
    if (due.length === 0) return [];
    const won = await markClaimed(db, due.map((r) => r.id), hiddenUntil, ` AND state = 'pending' AND held_at IS NULL AND next_attempt_at <= ?`, [nowIso]);
    const claimed = due.filter((r) => won.has(r.id));
    if (claimed.length) return claimed;
  }
}

/** Counts the attempt and hides the rows; returns the ids the UPDATE took. */
async function markClaimed(db: Db, ids: string[], hiddenUntil: string, condition: string, condArgs: unknown[] = []): Promise<Set<string>> {
  const won = new Set<string>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const r = await db.run(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN (${marks(chunk)})${condition} RETURNING id`, [hiddenUntil, ...chunk, ...condArgs]);
    for (const row of r.rows) won.add(row.id as string);
  }
  return won;
}

async function markOutboxSent(db: Db, id: string, at: Instant): Promise<boolean> {
  const r = await db.run(`UPDATE outbox SET state = 'sent', sent_at = ?, next_attempt_at = NULL, last_error = NULL WHERE id = ? AND state = 'pending'`, [isoInstant(at), id]);
  return r.changes === 1;
}

async function markOutboxFailed(db: Db, id: string, error: string, nextAttemptAt: Instant | null): Promise<boolean> {
  const r =
    nextAttemptAt === null
      ? await db.run(`UPDATE outbox SET state = 'dead', next_attempt_at = NULL, last_error = ? WHERE id = ? AND state = 'pending'`, [error, id])
      : await db.run(`UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'`, [isoInstant(nextAttemptAt), error, id]);
  return r.changes === 1;
}

async function retryOutbox(db: Db, id: string): Promise<boolean> {
  const r = await db.run(`UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND state = 'dead'`, [db.now(), id]);
  return r.changes === 1;
}

async function releaseHeldOutbox(db: Db, submissionId: number): Promise<number> {
  return (await db.run(`UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE submission_id = ? AND state = 'held'`, [db.now(), submissionId])).changes;
}

async function holdOutbox(db: Db, id: string, hold: OutboxHold): Promise<boolean> {
  const r = await db.run(`UPDATE outbox SET hold_reason = ?, held_by = ?, held_at = ? WHERE id = ? AND state <> 'sent' AND held_at IS NULL`, [hold.reason, hold.by, hold.at, id]);
  return r.changes === 1;
}

async function releaseOutboxHold(db: Db, id: string): Promise<boolean> {
  const r = await db.run(
    `UPDATE outbox SET hold_reason = NULL, held_by = NULL, held_at = NULL,
       next_attempt_at = CASE WHEN state = 'pending' THEN ? ELSE next_attempt_at END
     WHERE id = ? AND held_at IS NOT NULL`,
    [db.now(), id],
  );
  return r.changes === 1;
}

async function findOutboxIdsByPrefix(db: Db, prefix: string, limit = 5): Promise<string[]> {
  if (!/^[0-9a-f]+$/i.test(prefix)) return [];
  // A range on the primary key (ids are lower-case hex; COLLATE "C" on PostgreSQL = SQLite's byte order).
  const p = prefix.toLowerCase();
  return (await db.all<{ id: string }>('SELECT id FROM outbox WHERE id >= ? AND id < ? ORDER BY id LIMIT ?', [p, `${p}g`, limit])).map((r) => r.id);
}

// ------------------------------------------------------------------ deliveries

async function listDeliveries(db: Db, outboxId: string): Promise<DeliveryRow[]> {
  return (await db.all<DeliveryDbRow>('SELECT * FROM outbox_deliveries WHERE outbox_id = ? ORDER BY connector', [outboxId])).map(toDelivery);
}

async function listDeliveriesOf(db: Db, outboxIds: string[]): Promise<Map<string, DeliveryRow[]>> {
  const out = new Map<string, DeliveryRow[]>();
  const ids = [...new Set(outboxIds)];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const rows = await db.all<DeliveryDbRow>(`SELECT * FROM outbox_deliveries WHERE outbox_id IN (${marks(chunk)}) ORDER BY outbox_id, connector`, chunk);
    for (const r of rows) {
      const list = out.get(r.outbox_id) ?? [];
      list.push(toDelivery(r));
      out.set(r.outbox_id, list);
    }
  }
  return out;
}

async function markDeliverySent(db: Db, outboxId: string, connector: string, at: Instant): Promise<void> {
  const t = isoInstant(at);
  await db.run(
    `INSERT INTO outbox_deliveries (outbox_id, connector, state, attempts, next_attempt_at, last_error, sent_at, updated_at)
     VALUES (?, ?, 'sent', 1, NULL, NULL, ?, ?)
     ON CONFLICT (outbox_id, connector) DO UPDATE SET
       state = 'sent', attempts = outbox_deliveries.attempts + 1, next_attempt_at = NULL, last_error = NULL,
       sent_at = excluded.sent_at, updated_at = excluded.updated_at`,
    [outboxId, connector, t, t],
  );
}

async function recordDeliveryFailure(db: Db, outboxId: string, connector: string, error: string, nextAttemptAt: Instant | null, at: Instant): Promise<number> {
  const state: DeliveryState = nextAttemptAt === null ? 'dead' : 'pending';
  const next = nextAttemptAt === null ? null : isoInstant(nextAttemptAt);
  const r = await db.run(
    `INSERT INTO outbox_deliveries (outbox_id, connector, state, attempts, next_attempt_at, last_error, sent_at, updated_at)
     VALUES (?, ?, ?, 1, ?, ?, NULL, ?)
     ON CONFLICT (outbox_id, connector) DO UPDATE SET
       state = excluded.state, attempts = outbox_deliveries.attempts + 1, next_attempt_at = excluded.next_attempt_at,
       last_error = excluded.last_error, updated_at = excluded.updated_at
     WHERE outbox_deliveries.state != 'sent'
     RETURNING attempts`,
    [outboxId, connector, state, next, error, isoInstant(at)],
  );
  return (r.rows[0]?.attempts as number | undefined) ?? 0;
}

/** Operator retry: dead deliveries of the message start over (sent ones stay sent). Returns how many. */
async function retryDeadDeliveries(db: Db, outboxId: string, at: Instant): Promise<number> {
  return (await db.run(`UPDATE outbox_deliveries SET state = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = ? WHERE outbox_id = ? AND state = 'dead'`, [isoInstant(at), outboxId]))
    .changes;
}

/**
 * The oldest message of the same topic and key, stored before this one, that the connector has
 * not received yet and that is still on its way. "Stored before" is insert order: SQLite's rowid,
 * PostgreSQL's `seq` identity column (schema/outbox.ts) — created_at cannot tell apart two
 * messages of one millisecond, and the ids are hashes.
 */
async function olderUndelivered(db: Db, msg: { id: string; topic: string; key: string }, connector: string): Promise<{ id: string; nextAttemptAt: string | null } | undefined> {
  const order = db.dialect === 'postgres' ? 'seq' : 'rowid';
  const r = await db.get<{ id: string; next_attempt_at: string | null }>(
    `SELECT o.id, coalesce(d.next_attempt_at, o.next_attempt_at) AS next_attempt_at
     FROM outbox o
     LEFT JOIN outbox_deliveries d ON d.outbox_id = o.id AND d.connector = ?
     WHERE o.topic = ? AND o."key" = ? AND o.state = 'pending'
       AND o.${order} < (SELECT ${order} FROM outbox WHERE id = ?)
       AND coalesce(d.state, 'pending') = 'pending'
     ORDER BY o.${order} LIMIT 1`,
    [connector, msg.topic, msg.key, msg.id],
  );
  return r && { id: r.id, nextAttemptAt: r.next_attempt_at };
}
