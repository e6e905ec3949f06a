// Which notifications went out, one key per (event, channel). A sweep that finds the same event
// again builds the same key (see outbound/notify/rules.ts dedupKey) and finds it here.

import { isoInstant, type Sql } from './sql.js';
import type { Instant } from './types.js';

export interface NotificationSentRow {
  key: string;
  channel: string;
  eventType: string;
  subject: string;
  eventAt: string;
  state: 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  updatedAt: string;
}

export interface Db {
  key: string;
  channel: string;
  event_type: string;
  subject: string;
  event_at: string;
  state: 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  updated_at: string;
}

export function getNotificationSent(sql: Sql, key: string): NotificationSentRow | undefined {
  const r = sql.q('SELECT * FROM notifications_sent WHERE "key" = ?').get(key) as Db | undefined;
  return (
    r && {
      key: r.key,
      channel: r.channel,
      eventType: r.event_type,
      subject: r.subject,
      eventAt: r.event_at,
      state: r.state,
      attempts: r.attempts,
      lastError: r.last_error,
      updatedAt: r.updated_at,
    }
  );
}

/** Records one send attempt. A key once `sent` stays sent. Returns the attempts so far. */
export function recordNotification(
  sql: Sql,
  n: { key: string; channel: string; eventType: string; subject: string; eventAt: string; ok: boolean; error?: string | null },
  at: Instant,
): number {
  const r = sql
    .q(
      `INSERT INTO notifications_sent ("key", channel, event_type, subject, event_at, state, attempts, last_error, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT ("key") DO UPDATE SET state = excluded.state, attempts = attempts + 1, last_error = excluded.last_error, updated_at = excluded.updated_at
       WHERE notifications_sent.state != 'sent'
       RETURNING attempts`,
    )
    .get(n.key, n.channel, n.eventType, n.subject, n.eventAt, n.ok ? 'sent' : 'failed', n.ok ? null : n.error ?? null, isoInstant(at)) as { attempts: number } | undefined;
  return r?.attempts ?? 0;
}

export function countNotificationsSent(sql: Sql): { sent: number; failed: number } {
  const out = { sent: 0, failed: 0 };
  for (const r of sql.q('SELECT state, count(*) AS n FROM notifications_sent GROUP BY state').all() as { state: 'sent' | 'failed'; n: number }[]) out[r.state] = r.n;
  return out;
}
