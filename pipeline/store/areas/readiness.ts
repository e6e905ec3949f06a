// The readiness area of the async store, one implementation for both dialects (db/db.ts): what
// the rules see of a lot (loadLotFacts / loadLotFactsBatch, readiness-facts.ts), the readiness
// stored for it (its compact text, digest and clock, below), the durable dirty markers
// (readiness-dirty.ts) and the lot selections of the sweep.

import { hash as digestOf } from 'node:crypto';
import type { LotFacts, Readiness } from '../../model/types.js';
import { compactReadiness, expandReadiness, expandReason } from '../../readiness/render.js';
import type { Db } from '../db/db.js';
import { marks } from '../db/db.js';
import { bool, isoInstant, parseJson } from '../values.js';
import type { Instant, StoredReadiness } from '../types.js';
import { dirtyMarkers, type DirtyLot } from './readiness-dirty.js';
import { chunks, loadLotFactsBatch } from './readiness-facts.js';

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
    saveReadiness: (lotId, r, at, clock, stamp) => saveReadiness(db, lotId, r, at, clock, stamp),
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

async function getReadiness(db: Db, lotId: number): Promise<StoredReadiness | null> {
  const r = await db.get<ReadinessDbRow>(
    'SELECT r.state, r.late, r.readiness, r.computed_at, l.lot_number, l.material_id FROM lot_readiness r JOIN lots l ON l.id = r.lot_id WHERE r.lot_id = ?',
    [lotId],
  );
  if (!r) return null;
  const stored = parseJson<Readiness | null>(r.readiness, null);
  if (!stored) return { state: r.state as Readiness['state'], late: bool(r.late), reasons: [], computedAt: r.computed_at };
  return { ...expandReadiness(stored, { lotNumber: r.lot_number, materialId: r.material_id }), computedAt: r.computed_at };
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

/**
 * An identical readiness (same digest) is not written again (a sweep over 100k unchanged lots
 * writes nothing), only its
 * clock when that moved; otherwise the row is upserted in one transaction (the caller's, else its
 * own) with `changed` decided against the stored readiness as readers see it.
 */
async function saveReadiness(
  db: Db,
  lotId: number,
  r: Readiness,
  at: string,
  clock?: ReadinessClock,
  stamp?: ReadinessStamp | null,
): Promise<{ changed: boolean; previous: Readiness | null }> {
  const { text, hash } = readinessText(r);
  const stored = stamp !== undefined ? stamp : (await readinessStamps(db, [lotId])).get(lotId) ?? null;
  const sameClock = (s: ReadinessStamp) => !clock || (s.dueAt === clock.dueAt && s.rulesHash === clock.rulesHash);
  if (stored && stored.hash === hash) {
    if (!sameClock(stored)) await db.run('UPDATE lot_readiness SET clock_due_at = ?, rules_hash = ? WHERE lot_id = ?', [clock!.dueAt, clock!.rulesHash, lotId]);
    return { changed: false, previous: r };
  }
  const write = (tx: Db) => writeReadiness(tx, lotId, r, at, { text, hash }, stored, clock);
  return db.inTransaction ? write(db) : db.transaction(write);
}

async function writeReadiness(
  tx: Db,
  lotId: number,
  r: Readiness,
  at: string,
  { text, hash }: { text: string; hash: string },
  stored: ReadinessStamp | null,
  clock?: ReadinessClock,
): Promise<{ changed: boolean; previous: Readiness | null }> {
  // No digest yet (a row stored before the digest existed): the same document only gets its digest.
  if (stored && stored.hash === null) {
    const doc = await tx.get<{ readiness: string }>('SELECT readiness FROM lot_readiness WHERE lot_id = ?', [lotId]);
    if (doc?.readiness === text) {
      await tx.run('UPDATE lot_readiness SET readiness_hash = ?, clock_due_at = ?, rules_hash = ? WHERE lot_id = ?', [hash, clock?.dueAt ?? stored.dueAt, clock?.rulesHash ?? stored.rulesHash, lotId]);
      return { changed: false, previous: r };
    }
  }
  const prevStored = stored ? await getReadiness(tx, lotId) : null;
  let previous: Readiness | null = null;
  if (prevStored) {
    const { computedAt: _computedAt, ...rest } = prevStored;
    previous = rest;
  }
  const changed = !previous || previous.state !== r.state || previous.late !== r.late || reasonKey(previous) !== reasonKey(r);
  // Only the stored form differs (rendered messages of an old row): readers see the same
  // readiness, so it keeps the time it was computed at.
  const sameAsRead = !changed && previous !== null && JSON.stringify(previous) === JSON.stringify(asRead(r));
  await tx.run(
    `INSERT INTO lot_readiness (lot_id, state, late, readiness, computed_at, clock_due_at, rules_hash, readiness_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (lot_id) DO UPDATE SET state = excluded.state, late = excluded.late, readiness = excluded.readiness,
       computed_at = CASE WHEN ? = 1 THEN lot_readiness.computed_at ELSE excluded.computed_at END,
       clock_due_at = excluded.clock_due_at, rules_hash = excluded.rules_hash, readiness_hash = excluded.readiness_hash`,
    [lotId, r.state, r.late ? 1 : 0, text, at, clock?.dueAt ?? null, clock?.rulesHash ?? null, hash, sameAsRead ? 1 : 0],
  );
  return { changed, previous };
}
