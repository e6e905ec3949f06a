// Durable "readiness is stale" markers (the dirty_lots table) on the async store, for both dialects.
//
// The protocol: a file's transaction marks the lots it touched; a recompute transaction reads
// which lots are still marked, recomputes them and clears their markers. It must never clear a
// marker set again after it read it (that lot's newest facts would never be recomputed). On
// SQLite the recompute's BEGIN IMMEDIATE keeps every other writer out until it commits, so no
// re-mark can land in between. On PostgreSQL (READ COMMITTED) another machine can re-mark a lot
// and commit while the recompute runs; so a transaction remembers each marker it read (its
// marked_at and cause) and clears that lot only when the row is still the one it read.
//
// A marker whose row another transaction holds right now (a file's transaction re-marking it,
// not yet committed) is left alone on PostgreSQL (FOR UPDATE SKIP LOCKED): that transaction is
// about to commit a newer marker, which must survive anyway. Waiting for it instead would
// deadlock: a file's transaction marks its lots and then appends to the audit chain, while a
// recompute appends to the chain (holding the chain's lock to its COMMIT) before it clears
// markers. The reads take no row locks for the same reason.

import type { Db } from '../db/db.js';
import { chunks, marks, rowMarks } from '../db/db.js';

/** A lot marked for recompute, with the submission and partner that marked it last. */
export interface DirtyLot {
  lotId: number;
  submissionId: number | null;
  partner: string | null;
}

export interface DirtyMarkerRow {
  lot_id: number;
  submission_id: number | null;
  partner: string | null;
  marked_at: string;
}

/** Rows per multi-row INSERT / guarded DELETE (4 parameters each). */
const ROWS_PER_STATEMENT = 100;

const toDirty = (r: DirtyMarkerRow): DirtyLot => ({ lotId: r.lot_id, submissionId: r.submission_id, partner: r.partner });

/** The dirty-marker functions bound to one Db; `seen` holds the markers read in this transaction. */
export function dirtyMarkers(db: Db) {
  const seen = new Map<number, DirtyMarkerRow>();
  const remember = (rows: DirtyMarkerRow[]): DirtyLot[] => {
    // Outside a transaction nothing read can be relied on at the next statement: nothing is kept.
    if (db.inTransaction) for (const r of rows) seen.set(r.lot_id, r);
    return rows.map(toDirty);
  };
  const columns = 'lot_id, submission_id, partner, marked_at';
  // SQLite: the write lock already keeps every other writer out. PostgreSQL: skip the markers
  // another transaction is writing (see the header).
  const deleteWhere = (cond: string) =>
    db.dialect === 'postgres' ? `DELETE FROM dirty_lots WHERE lot_id IN (SELECT lot_id FROM dirty_lots WHERE ${cond} FOR UPDATE SKIP LOCKED)` : `DELETE FROM dirty_lots WHERE ${cond}`;

  return {
    /** Marks lots stale; a lot already marked takes the newer cause. Returns how many ids were given. */
    async markLotsDirty(lotIds: Iterable<number>, cause: { submissionId?: number | null; partner?: string | null }): Promise<number> {
      const given = [...lotIds];
      // One row per lot per statement (PostgreSQL refuses to upsert a row twice in one), in id
      // order so that two machines marking overlapping sets lock rows in the same order.
      const ids = [...new Set(given)].sort((a, b) => a - b);
      const at = db.now();
      for (const part of chunks(ids, ROWS_PER_STATEMENT)) {
        await db.run(
          `INSERT INTO dirty_lots (lot_id, submission_id, partner, marked_at) VALUES ${rowMarks(part.length, 4)}
           ON CONFLICT (lot_id) DO UPDATE SET submission_id = excluded.submission_id, partner = excluded.partner, marked_at = excluded.marked_at`,
          part.flatMap((id) => [id, cause.submissionId ?? null, cause.partner ?? null, at]),
        );
      }
      return given.length;
    },

    /**
     * Up to `limit` marked lots, oldest lot id first, after `afterLotId`; with `markedBefore`, only
     * markers older than that instant (a recovery leaves fresh markers to the process recomputing them).
     */
    async dirtyLots(limit: number, afterLotId = 0, markedBefore?: string): Promise<DirtyLot[]> {
      const rows =
        markedBefore === undefined
          ? await db.all<DirtyMarkerRow>(`SELECT ${columns} FROM dirty_lots WHERE lot_id > ? ORDER BY lot_id LIMIT ?`, [afterLotId, limit])
          : await db.all<DirtyMarkerRow>(`SELECT ${columns} FROM dirty_lots WHERE lot_id > ? AND marked_at < ? ORDER BY lot_id LIMIT ?`, [afterLotId, markedBefore, limit]);
      return remember(rows);
    },

    /** Which of these lots are still marked (another process may have recomputed some meanwhile). */
    async stillDirty(lotIds: readonly number[]): Promise<DirtyLot[]> {
      const rows: DirtyMarkerRow[] = [];
      for (const part of chunks([...new Set(lotIds)])) rows.push(...(await db.all<DirtyMarkerRow>(`SELECT ${columns} FROM dirty_lots WHERE lot_id IN (${marks(part)}) ORDER BY lot_id`, part)));
      return remember(rows.sort((a, b) => a.lot_id - b.lot_id));
    },

    /** Which of these lots are marked: the lot list's "recomputing" flag. */
    async dirtyAmong(lotIds: readonly number[]): Promise<Set<number>> {
      const out = new Set<number>();
      for (const part of chunks(lotIds)) for (const r of await db.all<{ lot_id: number }>(`SELECT lot_id FROM dirty_lots WHERE lot_id IN (${marks(part)})`, part)) out.add(r.lot_id);
      return out;
    },

    /**
     * Clears the markers of these lots. A lot whose marker this transaction read is cleared only
     * if nobody marked it again since (see the header); any other lot is cleared outright. On
     * PostgreSQL a marker another transaction is writing at this moment is left to it.
     */
    async clearDirty(lotIds: Iterable<number>): Promise<void> {
      const ids = [...new Set(lotIds)].sort((a, b) => a - b);
      const read = ids.flatMap((id) => (seen.has(id) ? [seen.get(id)!] : []));
      const unread = ids.filter((id) => !seen.has(id));
      for (const part of chunks(read, ROWS_PER_STATEMENT)) {
        const one = '(lot_id = ? AND marked_at = ? AND submission_id IS NOT DISTINCT FROM ? AND partner IS NOT DISTINCT FROM ?)';
        await db.run(deleteWhere(part.map(() => one).join(' OR ')), part.flatMap((r) => [r.lot_id, r.marked_at, r.submission_id, r.partner]));
      }
      for (const part of chunks(unread)) await db.run(deleteWhere(`lot_id IN (${marks(part)})`), part);
      for (const id of ids) seen.delete(id);
    },

    async isLotDirty(lotId: number): Promise<boolean> {
      return (await db.get('SELECT 1 AS x FROM dirty_lots WHERE lot_id = ?', [lotId])) !== undefined;
    },

    async countDirtyLots(): Promise<number> {
      return (await db.get<{ n: number }>('SELECT count(*) AS n FROM dirty_lots'))?.n ?? 0;
    },
  };
}
