// Per-connector delivery of outbox messages. The outbox row says whether a message still has to
// go out; these rows say which receivers already have it, so a message routed to an ERP and a
// QMS is not sent to the ERP again while the QMS is down (each receiver sees it once, apart from
// the at-least-once repeats its idempotency key absorbs).

import { isoInstant, type Sql } from './sql.js';
import type { Instant } from './types.js';

export type DeliveryState = 'pending' | 'sent' | 'dead';

export interface DeliveryRow {
  outboxId: string;
  connector: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  sentAt: string | null;
  updatedAt: string;
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

/** The deliveries of one message, by connector name. */
export function listDeliveries(sql: Sql, outboxId: string): DeliveryRow[] {
  return (sql.q('SELECT * FROM outbox_deliveries WHERE outbox_id = ? ORDER BY connector').all(outboxId) as DeliveryDbRow[]).map(toDelivery);
}

/** The deliveries of several messages (for listings), grouped by message id. */
export function listDeliveriesOf(sql: Sql, outboxIds: string[]): Map<string, DeliveryRow[]> {
  const out = new Map<string, DeliveryRow[]>();
  if (outboxIds.length === 0) return out;
  const rows = sql
    .q('SELECT * FROM outbox_deliveries WHERE outbox_id IN (SELECT value FROM json_each(?)) ORDER BY outbox_id, connector')
    .all(JSON.stringify(outboxIds)) as DeliveryDbRow[];
  for (const r of rows) {
    const list = out.get(r.outbox_id) ?? [];
    list.push(toDelivery(r));
    out.set(r.outbox_id, list);
  }
  return out;
}

/** Records that the connector accepted the message. Counts the attempt. */
export function markDeliverySent(sql: Sql, outboxId: string, connector: string, at: Instant): void {
  const t = isoInstant(at);
  sql
    .q(
      `INSERT INTO outbox_deliveries (outbox_id, connector, state, attempts, next_attempt_at, last_error, sent_at, updated_at)
       VALUES (?, ?, 'sent', 1, NULL, NULL, ?, ?)
       ON CONFLICT (outbox_id, connector) DO UPDATE SET
         state = 'sent', attempts = attempts + 1, next_attempt_at = NULL, last_error = NULL, sent_at = excluded.sent_at, updated_at = excluded.updated_at`,
    )
    .run(outboxId, connector, t, t);
}

/** Records a failed attempt: due again at nextAttemptAt, or dead for this connector when null. Returns the attempts so far. */
export function recordDeliveryFailure(sql: Sql, outboxId: string, connector: string, error: string, nextAttemptAt: Instant | null, at: Instant): number {
  const state: DeliveryState = nextAttemptAt === null ? 'dead' : 'pending';
  const next = nextAttemptAt === null ? null : isoInstant(nextAttemptAt);
  const t = isoInstant(at);
  const r = sql
    .q(
      `INSERT INTO outbox_deliveries (outbox_id, connector, state, attempts, next_attempt_at, last_error, sent_at, updated_at)
       VALUES (?, ?, ?, 1, ?, ?, NULL, ?)
       ON CONFLICT (outbox_id, connector) DO UPDATE SET
         state = excluded.state, attempts = attempts + 1, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, updated_at = excluded.updated_at
       WHERE outbox_deliveries.state != 'sent'
       RETURNING attempts`,
    )
    .get(outboxId, connector, state, next, error, t) as { attempts: number } | undefined;
  return r?.attempts ?? 0;
}

/** Operator retry: dead deliveries of the message start over (sent ones stay sent). Returns how many. */
export function retryDeadDeliveries(sql: Sql, outboxId: string, at: Instant): number {
  return sql
    .q(`UPDATE outbox_deliveries SET state = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = ? WHERE outbox_id = ? AND state = 'dead'`)
    .run(isoInstant(at), outboxId).changes;
}

/**
 * The oldest message of the same topic and key, stored before this one (rowid: insert order,
 * which the single SQLite writer makes the order the facts changed in), that the connector has
 * not received yet and that is still on its way (pending, not dead, not held). While there is
 * one, the newer message waits: a receiver must never get an older state after a newer one.
 */
export function olderUndelivered(
  sql: Sql,
  msg: { id: string; topic: string; key: string },
  connector: string,
): { id: string; nextAttemptAt: string | null } | undefined {
  const r = sql
    .q(
      `SELECT o.id, coalesce(d.next_attempt_at, o.next_attempt_at) AS next_attempt_at
       FROM outbox o
       LEFT JOIN outbox_deliveries d ON d.outbox_id = o.id AND d.connector = ?
       WHERE o.topic = ? AND o."key" = ? AND o.state = 'pending'
         AND o.rowid < (SELECT rowid FROM outbox WHERE id = ?)
         AND coalesce(d.state, 'pending') = 'pending'
       ORDER BY o.rowid LIMIT 1`,
    )
    .get(connector, msg.topic, msg.key, msg.id) as { id: string; next_attempt_at: string | null } | undefined;
  return r && { id: r.id, nextAttemptAt: r.next_attempt_at };
}
