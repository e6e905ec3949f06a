// Durable "readiness is stale" markers (migration 11). A file's transaction marks the lots it
// touched; the recompute that follows (right after the commit, or the reconciler / sweep after a
// crash) recomputes them in bounded transactions and clears each marker in the same transaction
// that writes the lot's readiness, audit and outbox — so every change is recorded exactly once.

import type { Sql } from './sql.js';

export interface DirtyLot {
  lotId: number;
  submissionId: number | null;
  partner: string | null;
}

/** Marks lots stale; a lot already marked takes the newer cause. */
export function markLotsDirty(sql: Sql, lotIds: Iterable<number>, cause: { submissionId?: number | null; partner?: string | null }): number {
  const stmt = sql.q(
    `INSERT INTO dirty_lots (lot_id, submission_id, partner, marked_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (lot_id) DO UPDATE SET submission_id = excluded.submission_id, partner = excluded.partner, marked_at = excluded.marked_at`,
  );
  const at = sql.now();
  let n = 0;
  for (const lotId of lotIds) {
    stmt.run(lotId, cause.submissionId ?? null, cause.partner ?? null, at);
    n++;
  }
  return n;
}

type DirtyDbRow = [number, number | null, string | null];
const toDirty = ([lotId, submissionId, partner]: DirtyDbRow): DirtyLot => ({ lotId, submissionId, partner });

/**
 * Up to `limit` marked lots, oldest lot id first, after `afterLotId`; with `markedBefore`, only
 * markers older than that instant (a recovery leaves fresh markers to the process recomputing them).
 */
export function dirtyLots(sql: Sql, limit: number, afterLotId = 0, markedBefore?: string): DirtyLot[] {
  const rows =
    markedBefore === undefined
      ? sql.raw('SELECT lot_id, submission_id, partner FROM dirty_lots WHERE lot_id > ? ORDER BY lot_id LIMIT ?').all(afterLotId, limit)
      : sql.raw('SELECT lot_id, submission_id, partner FROM dirty_lots WHERE lot_id > ? AND marked_at < ? ORDER BY lot_id LIMIT ?').all(afterLotId, markedBefore, limit);
  return (rows as DirtyDbRow[]).map(toDirty);
}

/** Which of these lots are still marked (another process may have recomputed some meanwhile). */
export function stillDirty(sql: Sql, lotIds: readonly number[]): DirtyLot[] {
  if (lotIds.length === 0) return [];
  const rows = sql.raw('SELECT lot_id, submission_id, partner FROM dirty_lots WHERE lot_id IN (SELECT value FROM json_each(?)) ORDER BY lot_id').all(JSON.stringify(lotIds));
  return (rows as DirtyDbRow[]).map(toDirty);
}

/** Which of these lots are marked (one statement): the lot list's "recomputing" flag. */
export function dirtyAmong(sql: Sql, lotIds: readonly number[]): Set<number> {
  if (lotIds.length === 0) return new Set();
  return new Set(sql.q('SELECT lot_id FROM dirty_lots WHERE lot_id IN (SELECT value FROM json_each(?))').pluck().all(JSON.stringify(lotIds)) as number[]);
}

export function clearDirty(sql: Sql, lotIds: Iterable<number>): void {
  const stmt = sql.q('DELETE FROM dirty_lots WHERE lot_id = ?');
  for (const id of lotIds) stmt.run(id);
}

export function isLotDirty(sql: Sql, lotId: number): boolean {
  return sql.q('SELECT 1 FROM dirty_lots WHERE lot_id = ?').get(lotId) !== undefined;
}

export function countDirtyLots(sql: Sql): number {
  return sql.q('SELECT count(*) AS n FROM dirty_lots').pluck().get() as number;
}
