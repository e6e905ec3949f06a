// The readiness area of the async store, one implementation for both dialects (db/db.ts): what
// the rules see of a lot (loadLotFacts / loadLotFactsBatch, readiness-facts.ts), the readiness
// stored for it (its compact text, digest and clock, below), the durable dirty markers
// (readiness-dirty.ts) and the lot selections of the sweep.

import { hash as digestOf } from 'node:crypto';
import type { LotFacts, Readiness } from '../../model/types.js';
import { compactReadiness, expandReadiness, expandReason } from '../../readiness/render.js';
import type { Db } from '../db/db.js';
import { chunks, marks, rowMarks } from '../db/db.js';
import { bool, isoInstant, parseJson } from '../values.js';
import type { Instant, StoredReadiness } from '../types.js';
import { dirtyMarkers, type DirtyLot } from './readiness-dirty.js';
import { loadLotFactsBatch } from './readiness-facts.js';

interface ReadinessDbRow {
  state: string;
  late: number;
  readiness: string;
  computed_at: string;
  lot_number: string;
  material_id: string;
}

/**
 * When the clock alone would next change this readiness (readiness/clock.ts; null: never) and
 * the hash of the rules it was computed with: what the scheduled sweep selects lots by.
 */
export interface ReadinessClock {
  dueAt: string | null;
  rulesHash: string;
}

/** What a recompute compares with before writing: the stored readiness's digest and clock. */
export interface ReadinessStamp {
  hash: string | null;
  dueAt: string | null;
  rulesHash: string | null;
}

/**
 * Digest of a readiness document as stored (its JSON text: the compact form, codes + params +
 * evidence, readiness/render.ts). Rows stored before that (rendered messages) have another
 * digest: their first recompute rewrites them compactly without counting a change.
 */
export function readinessHash(text: string): string {
  return digestOf('sha1', text, 'base64url');
}

/** The stored text of a readiness (its compact form) and its digest. */
export function readinessText(r: Readiness): { text: string; hash: string } {
  const text = JSON.stringify(compactReadiness(r));
  return { text, hash: readinessHash(text) };
}

/** The readiness as getReadiness gives it back (messages, no params), for comparing. */
function asRead(r: Readiness): Readiness {
  const out: Readiness = { state: r.state, reasons: r.reasons.map((x) => expandReason({ ...x, params: undefined }, { lotNumber: '', materialId: '' })), late: r.late };
  if (r.lateStages !== undefined) out.lateStages = r.lateStages;
  return out;
}

/** The set of reason codes, as one string: a change of it is a change of the readiness. */
function reasonKey(r: Readiness): string {
  return r.reasons
    .map((x) => x.code)
    .sort()
    .join('\u0000');
}

export interface ReadinessArea {
  loadLotFacts(lotId: number): Promise<LotFacts>;
  /** loadLotFacts of several lots, each fact table read once per chunk of lots. */
  loadLotFactsBatch(lotIds: readonly number[]): Promise<LotFacts[]>;
  /** The lot's stored readiness with its reasons' messages rendered. */
  getReadiness(lotId: number): Promise<StoredReadiness | null>;
  /** Stores the readiness unless identical; `changed` when state, late or the reason codes differ. */
  saveReadiness(lotId: number, r: Readiness, at: string, clock?: ReadinessClock, stamp?: ReadinessStamp | null): Promise<{ changed: boolean; previous: Readiness | null }>;
  /** saveReadiness of several lots (each once) in a few statements; results in the same order. */
  saveReadinessMany(items: readonly ReadinessSave[]): Promise<{ changed: boolean; previous: Readiness | null }[]>;
  /** The stored stamps of a batch of lots; a lot without readiness is absent. */
  readinessStamps(lotIds: readonly number[]): Promise<Map<number, ReadinessStamp>>;

  markLotsDirty(lotIds: Iterable<number>, cause: { submissionId?: number | null; partner?: string | null }): Promise<number>;
  dirtyLots(limit: number, afterLotId?: number, markedBefore?: string): Promise<DirtyLot[]>;
  stillDirty(lotIds: readonly number[]): Promise<DirtyLot[]>;
  dirtyAmong(lotIds: readonly number[]): Promise<Set<number>>;
  /** Clears markers; one this transaction read is kept if it was marked again since (readiness-dirty.ts). */
  clearDirty(lotIds: Iterable<number>): Promise<void>;
  isLotDirty(lotId: number): Promise<boolean>;
  countDirtyLots(): Promise<number>;

  /** Lots whose latest disposition is not released/rejected, by id. */
  listOpenLotIds(): Promise<number[]>;
  /** Open lots whose clock is due by `now`, computed with other rules, or never computed. */
  listClockDueLotIds(now: Instant, rulesHash: string): Promise<number[]>;
  listAllLotIds(): Promise<number[]>;
}

/** A lot is open until its latest disposition releases or rejects it. */
const OPEN_LOT = `coalesce((SELECT d.decision FROM dispositions d WHERE d.lot_id = l.id ORDER BY d.decided_at DESC LIMIT 1), '') NOT IN ('released', 'rejected')`;

export function readinessArea(db: Db): ReadinessArea {
  const ids = async (sql: string, args: unknown[] = []) => (await db.all<{ id: number }>(sql, args)).map((r) => r.id);
  return {
    loadLotFacts: async (lotId) => (await loadLotFactsBatch(db, [lotId]))[0],
    loadLotFactsBatch: (lotIds) => loadLotFactsBatch(db, lotIds),
    getReadiness: (lotId) => getReadiness(db, lotId),
    saveReadiness: async (lotId, r, at, clock, stamp) => (await saveReadinessMany(db, [{ lotId, readiness: r, at, clock, stamp }]))[0],
    saveReadinessMany: (items) => saveReadinessMany(db, items),
    readinessStamps: (lotIds) => readinessStamps(db, lotIds),
    ...dirtyMarkers(db),
    listOpenLotIds: () => ids(`SELECT l.id FROM lots l WHERE ${OPEN_LOT} ORDER BY l.id`),
    // `IS DISTINCT FROM`: SQLite's `IS NOT ?` is not PostgreSQL; both take this (SQLite ≥ 3.39).
    listClockDueLotIds: (now, rulesHash) =>
      ids(
        `SELECT l.id FROM lots l LEFT JOIN lot_readiness r ON r.lot_id = l.id
         WHERE (r.lot_id IS NULL OR r.clock_due_at <= ? OR r.rules_hash IS DISTINCT FROM ?) AND ${OPEN_LOT}
         ORDER BY l.id`,
        [isoInstant(now), rulesHash],
      ),
    listAllLotIds: () => ids('SELECT id FROM lots ORDER BY id'),
  };
}

/** One lot's readiness to save: saveReadiness's arguments. */
export interface ReadinessSave {
  lotId: number;
  readiness: Readiness;
  at: string;
  clock?: ReadinessClock;
  /** The stored stamp as read before computing (null: none stored); undefined: read it here. */
  stamp?: ReadinessStamp | null;
}

type Saved = { changed: boolean; previous: Readiness | null };

/** What readers get back from a stored row. */
function storedOf(r: ReadinessDbRow): StoredReadiness {
  const stored = parseJson<Readiness | null>(r.readiness, null);
  if (!stored) return { state: r.state as Readiness['state'], late: bool(r.late), reasons: [], computedAt: r.computed_at };
  return { ...expandReadiness(stored, { lotNumber: r.lot_number, materialId: r.material_id }), computedAt: r.computed_at };
}

const STORED_SQL = 'SELECT r.lot_id, r.state, r.late, r.readiness, r.computed_at, l.lot_number, l.material_id FROM lot_readiness r JOIN lots l ON l.id = r.lot_id';

async function getReadiness(db: Db, lotId: number): Promise<StoredReadiness | null> {
  const r = await db.get<ReadinessDbRow>(`${STORED_SQL} WHERE r.lot_id = ?`, [lotId]);
  return r ? storedOf(r) : null;
}

async function storedReadiness(db: Db, lotIds: readonly number[]): Promise<Map<number, { row: ReadinessDbRow; read: StoredReadiness }>> {
  const out = new Map<number, { row: ReadinessDbRow; read: StoredReadiness }>();
  for (const part of chunks(lotIds)) {
    for (const row of await db.all<ReadinessDbRow & { lot_id: number }>(`${STORED_SQL} WHERE r.lot_id IN (${marks(part)})`, part)) out.set(Number(row.lot_id), { row, read: storedOf(row) });
  }
  return out;
}

async function readinessStamps(db: Db, lotIds: readonly number[]): Promise<Map<number, ReadinessStamp>> {
  const out = new Map<number, ReadinessStamp>();
  for (const part of chunks(lotIds)) {
    const rows = await db.all<{ lot_id: number; readiness_hash: string | null; clock_due_at: string | null; rules_hash: string | null }>(
      `SELECT lot_id, readiness_hash, clock_due_at, rules_hash FROM lot_readiness WHERE lot_id IN (${marks(part)})`,
      part,
    );
    for (const r of rows) out.set(r.lot_id, { hash: r.readiness_hash, dueAt: r.clock_due_at, rulesHash: r.rules_hash });
  }
  return out;
}

/** Rows per upsert (8 parameters each). */
const UPSERT_CHUNK = 200;

/**
 * An identical readiness (same digest) is not written again (a sweep over 100k unchanged lots
 * writes nothing), only its clock when that moved; otherwise the rows are upserted in one
 * transaction (the caller's, else its own) with `changed` decided against the stored readiness
 * as readers see it. Reads and writes go by IN lists and multi-row statements, so a batch of lots
 * costs a few statements, not a few per lot.
 */
async function saveReadinessMany(db: Db, items: readonly ReadinessSave[]): Promise<Saved[]> {
  if (!items.length) return [];
  const run = async (tx: Db): Promise<Saved[]> => {
    const unknown = items.filter((i) => i.stamp === undefined).map((i) => i.lotId);
    const read = unknown.length ? await readinessStamps(tx, unknown) : new Map<number, ReadinessStamp>();
    const texts = items.map((i) => readinessText(i.readiness));
    const stampOf = (i: ReadinessSave): ReadinessStamp | null => (i.stamp !== undefined ? i.stamp : read.get(i.lotId) ?? null);
    const out: (Saved | undefined)[] = items.map(() => undefined);
    const sameClock = (s: ReadinessStamp, clock?: ReadinessClock) => !clock || (s.dueAt === clock.dueAt && s.rulesHash === clock.rulesHash);
    // 1. The same document: at most its clock moves.
    for (const [k, i] of items.entries()) {
      const stored = stampOf(i);
      if (!stored || stored.hash !== texts[k].hash) continue;
      out[k] = { changed: false, previous: i.readiness };
      if (!sameClock(stored, i.clock)) await tx.run('UPDATE lot_readiness SET clock_due_at = ?, rules_hash = ? WHERE lot_id = ?', [i.clock!.dueAt, i.clock!.rulesHash, i.lotId]);
    }
    // 2. Otherwise compared with what readers see now, then upserted.
    const writing = items.map((i, k) => k).filter((k) => !out[k]);
    const prior = await storedReadiness(
      tx,
      writing.filter((k) => stampOf(items[k]) !== null).map((k) => items[k].lotId),
    );
    const rows: unknown[][] = [];
    for (const k of writing) {
      const i = items[k];
      const { text, hash } = texts[k];
      const stored = stampOf(i);
      const before = prior.get(i.lotId);
      // No digest yet (a row stored before the digest existed): the same document only gets its digest.
      if (stored && stored.hash === null && before?.row.readiness === text) {
        await tx.run('UPDATE lot_readiness SET readiness_hash = ?, clock_due_at = ?, rules_hash = ? WHERE lot_id = ?', [hash, i.clock?.dueAt ?? stored.dueAt, i.clock?.rulesHash ?? stored.rulesHash, i.lotId]);
        out[k] = { changed: false, previous: i.readiness };
        continue;
      }
      let previous: Readiness | null = null;
      if (before) {
        const { computedAt: _computedAt, ...rest } = before.read;
        previous = rest;
      }
      const r = i.readiness;
      const changed = !previous || previous.state !== r.state || previous.late !== r.late || reasonKey(previous) !== reasonKey(r);
      // Only the stored form differs (rendered messages of an old row): readers see the same
      // readiness, so it keeps the time it was computed at.
      const sameAsRead = !changed && previous !== null && JSON.stringify(previous) === JSON.stringify(asRead(r));
      rows.push([i.lotId, r.state, r.late ? 1 : 0, text, i.at, i.clock?.dueAt ?? null, i.clock?.rulesHash ?? null, hash, sameAsRead]);
      out[k] = { changed, previous };
    }
    // Rows whose readers see the same readiness keep their computed_at: a statement of their own.
    for (const keep of [false, true]) {
      const these = rows.filter((r) => r[8] === keep).map((r) => r.slice(0, 8));
      for (const part of chunks(these, UPSERT_CHUNK)) {
        await tx.run(
          `INSERT INTO lot_readiness (lot_id, state, late, readiness, computed_at, clock_due_at, rules_hash, readiness_hash)
           VALUES ${rowMarks(part.length, 8)}
           ON CONFLICT (lot_id) DO UPDATE SET state = excluded.state, late = excluded.late, readiness = excluded.readiness,${keep ? '' : ' computed_at = excluded.computed_at,'}
             clock_due_at = excluded.clock_due_at, rules_hash = excluded.rules_hash, readiness_hash = excluded.readiness_hash`,
          part.flat(),
        );
      }
    }
    return out as Saved[];
  };
  return db.inTransaction ? run(db) : db.transaction(run);
}
