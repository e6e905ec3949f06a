// Reads the scheduled jobs need that no other part does: audit events after a cursor, the
// current version of a deviation with every lot it names, the board for the daily digest, and
// the latest submission per partner. Plus one write for review approval (clearing the preview's
// rejected rows before the real apply records them).

import type { DeviationRow, Readiness, ReadinessState } from '../model/types.js';
import { expandReadiness } from '../readiness/render.js';
import { toAuditRow, type AuditDbRow } from './audit.js';
import { toDeviation, type DeviationDbRow } from './rows.js';
import { bool, isoInstant, parseJson, type Sql } from './sql.js';
import type { AuditRow, Instant } from './types.js';

/** Audit events with seq > afterSeq, oldest first, optionally only these actions. */
export function listAuditAfter(sql: Sql, afterSeq: number, opts: { actions?: string[]; limit?: number } = {}): AuditRow[] {
  const rows = sql
    .q(
      `SELECT * FROM audit_events WHERE seq > ? AND (? IS NULL OR "action" IN (SELECT value FROM json_each(?))) ORDER BY seq LIMIT ?`,
    )
    .all(afterSeq, opts.actions ? 1 : null, JSON.stringify(opts.actions ?? []), opts.limit ?? 1000) as AuditDbRow[];
  return rows.map(toAuditRow);
}

/** The latest version of a deviation and every lot any of its versions names, or undefined. */
export function getDeviationWithLots(sql: Sql, issuer: string, partnerRef: string): { deviation: DeviationRow; lots: { materialId: string; lotNumber: string }[] } | undefined {
  const r = sql
    .q('SELECT * FROM deviations WHERE issuer = ? AND partner_ref = ? ORDER BY updated_at DESC LIMIT 1')
    .get(issuer, partnerRef) as DeviationDbRow | undefined;
  if (!r) return undefined;
  const lots = sql
    .q(
      `SELECT DISTINCT l.material_id AS materialId, l.lot_number AS lotNumber
       FROM deviation_lots dl JOIN deviations d ON d.id = dl.deviation_id JOIN lots l ON l.id = dl.lot_id
       WHERE d.issuer = ? AND d.partner_ref = ? ORDER BY l.material_id, l.lot_number`,
    )
    .all(issuer, partnerRef) as { materialId: string; lotNumber: string }[];
  return { deviation: toDeviation(r), lots };
}

export interface BoardLot {
  lotId: number;
  materialId: string;
  lotNumber: string;
  vendor: string | null;
  site: string | null;
  description: string | null;
  productFamily: string | null;
  state: ReadinessState;
  late: boolean;
  readiness: Readiness;
  computedAt: string;
}

/** Every lot with a computed readiness and no final disposition (released/rejected). */
export function listOpenBoard(sql: Sql): BoardLot[] {
  const rows = sql
    .q(
      `SELECT l.id, l.material_id, l.lot_number, l.vendor, l.site, m.description, m.product_family, r.state, r.late, r.readiness, r.computed_at
       FROM lots l
       JOIN lot_readiness r ON r.lot_id = l.id
       LEFT JOIN materials m ON m.material_id = l.material_id
       WHERE coalesce((SELECT d.decision FROM dispositions d WHERE d.lot_id = l.id ORDER BY d.decided_at DESC LIMIT 1), '') NOT IN ('released', 'rejected')
       ORDER BY l.material_id, l.lot_number`,
    )
    .all() as {
    id: number;
    material_id: string;
    lot_number: string;
    vendor: string | null;
    site: string | null;
    description: string | null;
    product_family: string | null;
    state: ReadinessState;
    late: number;
    readiness: string;
    computed_at: string;
  }[];
  return rows.map((r) => ({
    lotId: r.id,
    materialId: r.material_id,
    lotNumber: r.lot_number,
    vendor: r.vendor,
    site: r.site,
    description: r.description,
    productFamily: r.product_family,
    state: r.state,
    late: bool(r.late),
    readiness: expandReadiness(parseJson<Readiness>(r.readiness, { state: r.state, late: bool(r.late), reasons: [] }), { lotNumber: r.lot_number, materialId: r.material_id }),
    computedAt: r.computed_at,
  }));
}

/** When each partner's newest file arrived (any state), by partner id. */
export function lastReceivedByPartner(sql: Sql): Map<string, string> {
  const rows = sql.q('SELECT partner, max(received_at) AS at FROM submissions GROUP BY partner').all() as { partner: string; at: string }[];
  return new Map(rows.map((r) => [r.partner, r.at]));
}

/** Removes the rejected rows of a submission (a review preview's, before the approved apply records them for real). */
export function clearRejectedRows(sql: Sql, submissionId: number): number {
  return sql.q('DELETE FROM rejected_rows WHERE submission_id = ?').run(submissionId).changes;
}

export function auditSeqAt(sql: Sql, at: Instant): number {
  const r = sql.q('SELECT coalesce(max(seq), 0) AS s FROM audit_events WHERE at <= ?').get(isoInstant(at)) as { s: number };
  return r.s;
}

/** Outbox ids starting with a prefix (operators type the short id `lotgate outbox list` shows). */
export function findOutboxIdsByPrefix(sql: Sql, prefix: string, limit = 5): string[] {
  if (!/^[0-9a-f]+$/i.test(prefix)) return [];
  return (sql.q(`SELECT id FROM outbox WHERE id >= ? AND id < ? ORDER BY id LIMIT ?`).all(prefix.toLowerCase(), `${prefix.toLowerCase()}g`, limit) as { id: string }[]).map((r) => r.id);
}
