// Scenario 1b — readiness settled. In the store a scenario-1 run leaves behind: when the file's
// acknowledgment was written and when the last outbox message its readiness step produced was
// stored (the touched lots' readiness is recomputed after the ack, issue 12), both counted from
// the start of the `lotgate ingest` command; and that no lot is left awaiting recomputation.

import path from 'node:path';
import Database from 'better-sqlite3';

export interface ReadinessSettled {
  /** Start of the command → acknowledgment written (s). */
  ackSeconds: number | null;
  /** Start of the command → last outbox message of the submission stored (s); null: none. */
  settledSeconds: number | null;
  /** Outbox messages the submission caused, and lots still awaiting recomputation (should be 0). */
  messages: number;
  dirtyLeft: number;
}

export function readinessSettled(dataDir: string, partner: string, startedAtMs: number): ReadinessSettled {
  const db = new Database(path.join(dataDir, 'lotgate.db'), { readonly: true });
  try {
    const sub = db.prepare('SELECT id, ack_written_at FROM submissions WHERE partner = ? ORDER BY id DESC LIMIT 1').get(partner) as { id: number; ack_written_at: string | null } | undefined;
    if (!sub) throw new Error(`no submission of ${partner} in ${dataDir}`);
    const out = db.prepare('SELECT count(*) AS n, max(created_at) AS last FROM outbox WHERE submission_id = ?').get(sub.id) as { n: number; last: string | null };
    const dirtyLeft = db.prepare('SELECT count(*) FROM dirty_lots').pluck().get() as number;
    const since = (iso: string | null) => (iso ? (Date.parse(iso) - startedAtMs) / 1000 : null);
    return { ackSeconds: since(sub.ack_written_at), settledSeconds: since(out.last), messages: out.n, dirtyLeft };
  } finally {
    db.close();
  }
}
