// The notifications area of the async store: one implementation for both dialects (db/db.ts).
// Which notifications went out, one key per (event, channel): a sweep that finds the same event
// again builds the same key (outbound/notify/rules.ts dedupKey) and finds it here. And the
// documents the sponsor asked a partner for (POST /api/v1/lots/:lotId/requests): stored per lot,
// open until a document of that type from that partner is recorded for the lot at or after the
// request (then `fulfilled`, with the time).
//
// Across machines: two sweeps finding the same event build the same key; recordNotification is
// one upsert, so the attempts add up and a key once `sent` stays sent whoever writes last.

import type { Db } from '../db/db.js';
import { isoInstant } from '../values.js';
import type { Instant } from '../types.js';

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

interface SentDbRow {
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

export interface DocumentRequestRow {
  id: number;
  lotId: number;
  partner: string;
  documentType: string;
  message: string;
  requestedBy: string;
  requestedAt: string;
  state: 'open' | 'fulfilled' | 'closed';
  closedAt: string | null;
  /** When the first matching document arrived. */
  fulfilledAt: string | null;
}

interface RequestDbRow {
  id: number;
  lot_id: number;
  partner: string;
  document_type: string;
  message: string;
  requested_by: string;
  requested_at: string;
  state: 'open' | 'closed';
  closed_at: string | null;
  fulfilled_at: string | null;
}

const toRequest = (r: RequestDbRow): DocumentRequestRow => ({
  id: r.id,
  lotId: r.lot_id,
  partner: r.partner,
  documentType: r.document_type,
  message: r.message,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  state: r.state === 'open' && r.fulfilled_at !== null ? 'fulfilled' : r.state,
  closedAt: r.closed_at,
  fulfilledAt: r.fulfilled_at,
});

/** A request with the time the first matching document arrived (fulfilled_at). */
const REQUEST_SELECT = `SELECT r.*, (SELECT min(d.recorded_at) FROM documents d
                              WHERE d.lot_id = r.lot_id AND d.type = r.document_type AND d.partner = r.partner AND d.recorded_at >= r.requested_at) AS fulfilled_at
                FROM document_requests r`;

export interface NotificationAttempt {
  key: string;
  channel: string;
  eventType: string;
  subject: string;
  eventAt: string;
  ok: boolean;
  error?: string | null;
}

export interface NewDocumentRequest {
  lotId: number;
  partner: string;
  documentType: string;
  message: string;
  requestedBy: string;
}

export interface NotificationsArea {
  getNotificationSent(key: string): Promise<NotificationSentRow | undefined>;
  /** Records one send attempt. A key once `sent` stays sent. Returns the attempts so far (0: it was sent already). */
  recordNotification(n: NotificationAttempt, at: Instant): Promise<number>;
  countNotificationsSent(): Promise<{ sent: number; failed: number }>;
  /** Stamped with the store's clock, the one documents' `recorded_at` uses (fulfilment compares them). */
  insertDocumentRequest(r: NewDocumentRequest): Promise<DocumentRequestRow>;
  /** A lot's requests, oldest first; only the open (unfulfilled) ones unless `all`. */
  listDocumentRequests(lotId: number, all?: boolean): Promise<DocumentRequestRow[]>;
  /** The partners that told lotgate something about the lot, plus its vendor / creating partner; sorted. */
  partnersOfLot(lotId: number): Promise<string[]>;
}

export function notificationsArea(db: Db): NotificationsArea {
  return {
    getNotificationSent: (key) => getNotificationSent(db, key),
    recordNotification: (n, at) => recordNotification(db, n, at),
    countNotificationsSent: () => countNotificationsSent(db),
    insertDocumentRequest: (r) => insertDocumentRequest(db, r),
    listDocumentRequests: (lotId, all) => listDocumentRequests(db, lotId, all),
    partnersOfLot: (lotId) => partnersOfLot(db, lotId),
  };
}

// ------------------------------------------------------------------ notifications sent

function toSent(r: SentDbRow): NotificationSentRow {
  return {
    key: r.key,
    channel: r.channel,
    eventType: r.event_type,
    subject: r.subject,
    eventAt: r.event_at,
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
    updatedAt: r.updated_at,
  };
}

async function getNotificationSent(db: Db, key: string): Promise<NotificationSentRow | undefined> {
  const r = await db.get<SentDbRow>('SELECT * FROM notifications_sent WHERE "key" = ?', [key]);
  return r && toSent(r);
}

async function recordNotification(db: Db, n: NotificationAttempt, at: Instant): Promise<number> {
  const r = await db.run(
    `INSERT INTO notifications_sent ("key", channel, event_type, subject, event_at, state, attempts, last_error, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
     ON CONFLICT ("key") DO UPDATE SET
       state = excluded.state, attempts = notifications_sent.attempts + 1, last_error = excluded.last_error, updated_at = excluded.updated_at
     WHERE notifications_sent.state != 'sent'
     RETURNING attempts`,
    [n.key, n.channel, n.eventType, n.subject, n.eventAt, n.ok ? 'sent' : 'failed', n.ok ? null : (n.error ?? null), isoInstant(at)],
  );
  return (r.rows[0]?.attempts as number | undefined) ?? 0;
}

async function countNotificationsSent(db: Db): Promise<{ sent: number; failed: number }> {
  const out = { sent: 0, failed: 0 };
  for (const r of await db.all<{ state: 'sent' | 'failed'; n: number }>('SELECT state, count(*) AS n FROM notifications_sent GROUP BY state')) out[r.state] = r.n;
  return out;
}

// ------------------------------------------------------------------ document requests

async function insertDocumentRequest(db: Db, r: NewDocumentRequest): Promise<DocumentRequestRow> {
  // RETURNING id: PostgreSQL has no last-insert rowid. Then read it back, fulfilment included.
  const ins = await db.run(
    'INSERT INTO document_requests (lot_id, partner, document_type, message, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    [r.lotId, r.partner, r.documentType, r.message, r.requestedBy, db.now()],
  );
  return toRequest((await db.get<RequestDbRow>(`${REQUEST_SELECT} WHERE r.id = ?`, [ins.rows[0].id]))!);
}

async function listDocumentRequests(db: Db, lotId: number, all = false): Promise<DocumentRequestRow[]> {
  const rows = (await db.all<RequestDbRow>(`${REQUEST_SELECT} WHERE r.lot_id = ? ORDER BY r.id`, [lotId])).map(toRequest);
  return all ? rows : rows.filter((r) => r.state === 'open');
}

async function partnersOfLot(db: Db, lotId: number): Promise<string[]> {
  const rows = await db.all<{ p: string | null }>(
    `SELECT partner AS p FROM lots WHERE id = ? AND partner IS NOT NULL
     UNION SELECT vendor FROM lots WHERE id = ? AND vendor IS NOT NULL
     UNION SELECT partner FROM stage_events WHERE lot_id = ?
     UNION SELECT partner FROM test_results WHERE lot_id = ?
     UNION SELECT partner FROM documents WHERE lot_id = ?
     UNION SELECT partner FROM dispositions WHERE lot_id = ?
     UNION SELECT partner FROM lot_identifiers WHERE lot_id = ?`,
    [lotId, lotId, lotId, lotId, lotId, lotId, lotId],
  );
  // Sorted in JS: the same code-unit order on both dialects, whatever the database's collation.
  return [...new Set(rows.map((r) => r.p).filter((p): p is string => !!p))].sort();
}
