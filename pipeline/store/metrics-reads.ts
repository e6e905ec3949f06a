// Aggregates for /metrics and /readyz. Installation-wide by design: /metrics is for the
// operator's monitoring (restricted by network/config, not by a principal's scope).

import type { Sql } from './sql.js';

export interface MetricsSnapshot {
  filesByPartnerState: { partner: string; state: string; n: number }[];
  rowsByPartner: { partner: string; rows: number; applied: number; rejected: number }[];
  readiness: { state: string; n: number }[];
  outboxOldestUndelivered: { connector: string; createdAt: string | null }[];
  auditLastVerifiedAt: string | null;
  loginsFailed: number;
  staleLeases: { name: string; holder: string; expiresAt: string }[];
}

export function metricsSnapshot(sql: Sql, staleBeforeMs: number): MetricsSnapshot {
  return {
    filesByPartnerState: sql.q('SELECT partner, state, count(*) AS n FROM submissions GROUP BY partner, state ORDER BY partner, state').all() as MetricsSnapshot['filesByPartnerState'],
    rowsByPartner: sql
      .q('SELECT partner, coalesce(sum("rows"), 0) AS rows, coalesce(sum(applied), 0) AS applied, coalesce(sum(rejected), 0) AS rejected FROM submissions GROUP BY partner ORDER BY partner')
      .all() as MetricsSnapshot['rowsByPartner'],
    readiness: sql.q(`SELECT coalesce(r.state, 'UNASSESSED') AS state, count(*) AS n FROM lots l LEFT JOIN lot_readiness r ON r.lot_id = l.id GROUP BY 1 ORDER BY 1`).all() as MetricsSnapshot['readiness'],
    outboxOldestUndelivered: sql
      .q(`SELECT d.connector AS connector, min(o.created_at) AS createdAt FROM outbox_deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.state = 'pending' GROUP BY d.connector ORDER BY d.connector`)
      .all() as MetricsSnapshot['outboxOldestUndelivered'],
    auditLastVerifiedAt: (sql.q(`SELECT max(at) AS at FROM audit_events WHERE "action" = 'audit.verified'`).get() as { at: string | null }).at,
    loginsFailed: (sql.q(`SELECT count(*) AS n FROM audit_events WHERE "action" = 'auth.login.failed'`).get() as { n: number }).n,
    staleLeases: (sql.q('SELECT name, holder, expires_at FROM job_leases WHERE expires_at < ? ORDER BY name').all(staleBeforeMs) as { name: string; holder: string; expires_at: number }[]).map(
      (r) => ({ name: r.name, holder: r.holder, expiresAt: new Date(r.expires_at).toISOString() }),
    ),
  };
}

/** Proves the store takes writes: an IMMEDIATE transaction that writes nothing. */
export function probeWritable(sql: Sql): void {
  sql.db.transaction(() => {}).immediate();
}
