// Documents the sponsor asked a partner for (POST /api/v1/lots/:lotId/requests): stored per lot,
// open until a document of that type from that partner is recorded for the lot at or after the
// request (then `fulfilled`, with the time). The notification goes out from the audit event the
// request writes.

import type { Sql } from './sql.js';

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

export interface DbRow {
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

export const toRow = (r: DbRow): DocumentRequestRow => ({
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

export const SELECT = `SELECT r.*, (SELECT min(d.recorded_at) FROM documents d
                              WHERE d.lot_id = r.lot_id AND d.type = r.document_type AND d.partner = r.partner AND d.recorded_at >= r.requested_at) AS fulfilled_at
                FROM document_requests r`;

/** Stamped with the store's clock, the one documents' `recorded_at` uses (fulfilment compares them). */
export function insertDocumentRequest(sql: Sql, r: { lotId: number; partner: string; documentType: string; message: string; requestedBy: string }): DocumentRequestRow {
  const info = sql
    .q('INSERT INTO document_requests (lot_id, partner, document_type, message, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(r.lotId, r.partner, r.documentType, r.message, r.requestedBy, sql.now());
  return toRow(sql.q(`${SELECT} WHERE r.id = ?`).get(Number(info.lastInsertRowid)) as DbRow);
}

/** A lot's requests, oldest first; only the open (unfulfilled) ones unless `all`. */
export function listDocumentRequests(sql: Sql, lotId: number, all = false): DocumentRequestRow[] {
  const rows = (sql.q(`${SELECT} WHERE r.lot_id = ? ORDER BY r.id`).all(lotId) as DbRow[]).map(toRow);
  return all ? rows : rows.filter((r) => r.state === 'open');
}

/** The partners that told lotgate something about the lot (any fact table), plus its vendor / creating partner. */
export function partnersOfLot(sql: Sql, lotId: number): string[] {
  const rows = sql
    .q(
      `SELECT partner AS p FROM lots WHERE id = ? AND partner IS NOT NULL
       UNION SELECT vendor FROM lots WHERE id = ? AND vendor IS NOT NULL
       UNION SELECT partner FROM stage_events WHERE lot_id = ?
       UNION SELECT partner FROM test_results WHERE lot_id = ?
       UNION SELECT partner FROM documents WHERE lot_id = ?
       UNION SELECT partner FROM dispositions WHERE lot_id = ?
       UNION SELECT partner FROM lot_identifiers WHERE lot_id = ?`,
    )
    .all(lotId, lotId, lotId, lotId, lotId, lotId, lotId) as { p: string | null }[];
  return [...new Set(rows.map((r) => r.p).filter((p): p is string => !!p))].sort();
}
