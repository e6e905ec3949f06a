// Reads for the web board's extra columns: the newest outbox message per lot and topic, with its
// delivery state per connector ("did the result reach the ERP and QMS").

import { listDeliveriesOf } from './deliveries.js';
import type { Sql } from './sql.js';

export interface LotPush {
  key: string;
  topic: string;
  messageId: string;
  state: string;
  createdAt: string;
  connectors: { connector: string; state: string; sentAt: string | null; lastError: string | null }[];
}

/** The newest message of each topic for each outbox key (lot keys are `<material>/<lot number>`). */
export function latestPushes(sql: Sql, keys: string[]): Map<string, LotPush[]> {
  const out = new Map<string, LotPush[]>();
  if (!keys.length) return out;
  const rows = sql
    .q(
      `SELECT o.id, o.topic, o."key" AS key, o.state, o.created_at FROM outbox o
        WHERE o."key" IN (SELECT value FROM json_each(?))
          AND o.created_at = (SELECT MAX(o2.created_at) FROM outbox o2 WHERE o2.topic = o.topic AND o2."key" = o."key")
        ORDER BY o."key", o.topic`,
    )
    .all(JSON.stringify(keys)) as { id: string; topic: string; key: string; state: string; created_at: string }[];
  const deliveries = listDeliveriesOf(sql, rows.map((r) => r.id));
  for (const r of rows) {
    const list = out.get(r.key) ?? [];
    // Two messages of one topic with the same instant: keep the first.
    if (list.some((x) => x.topic === r.topic)) continue;
    list.push({
      key: r.key,
      topic: r.topic,
      messageId: r.id,
      state: r.state,
      createdAt: r.created_at,
      connectors: (deliveries.get(r.id) ?? []).map((d) => ({ connector: d.connector, state: d.state, sentAt: d.sentAt, lastError: d.lastError })),
    });
    out.set(r.key, list);
  }
  return out;
}
