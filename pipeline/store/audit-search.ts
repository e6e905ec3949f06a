// Searching the audit trail (GET /api/v1/audit): filters on subject, actor, action prefix and
// time, newest first, paged by sequence number. A scoped caller sees only the events about lots
// (`lot:<material>/<lot>`) and submissions (`submission:<id>`) within its scope, by the same SQL
// predicates every other read uses (scope.ts); events about anything else (principals, outbox,
// partners, jobs) need an unscoped binding.

import { toAuditRow, type AuditDbRow } from './audit.js';
import { scopeWhere, submissionScopeWhere, type Access } from './scope.js';
import type { Sql } from './sql.js';
import type { AuditRow } from './types.js';

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

export function searchAudit(sql: Sql, access: Access, q: AuditSearch): { items: AuditRow[]; nextBeforeSeq: number | null } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (cond: string, ...v: unknown[]) => {
    where.push(cond);
    args.push(...v);
  };
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
  const rows = sql.q(`SELECT a.* FROM audit_events a ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.seq DESC LIMIT ?`).all(...args, q.limit + 1) as AuditDbRow[];
  const items = rows.slice(0, q.limit).map(toAuditRow);
  return { items, nextBeforeSeq: rows.length > q.limit ? items[items.length - 1].seq : null };
}
