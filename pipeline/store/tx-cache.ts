// Lookups the ingest path repeats row after row (the same lot number, the same batch id),
// remembered for the life of ONE write transaction opened with Store.begin(). Under BEGIN
// IMMEDIATE no other connection can write, so the only writes that can make an entry stale are
// our own: every store function that writes lots, lot_identifiers, materials or audit_events
// updates or drops the entries it affects. A rollback (of the transaction, or of a record's
// savepoint) may undo writes the cache already saw, so the Store drops everything then.
// Outside such a transaction nothing is cached: another process may write between statements.
//
// Bounded (least recently used entries go first), so a file of any length keeps memory flat.

import type { IdRef, IdScheme } from '../model/types.js';
import type { MaterialDbRow } from './rows.js';

/** The columns of a lot that resolution and scope checks read. */
export interface LotKeyDbRow {
  id: number;
  material_id: string;
  lot_number: string;
  vendor: string | null;
  po_number: string | null;
  po_item: string | null;
}

/** A Map that forgets its least recently used entry beyond `capacity`. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {}

  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }

  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }

  delete(k: K): void {
    this.map.delete(k);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

export const TX_CACHE_CAPACITY = 32_768;

export function identifierKey(ref: IdRef | { scheme: IdScheme; value: string }, issuer: string): string {
  return `${ref.scheme}\u0000${ref.value}\u0000${issuer}`;
}

export function lotNumberKey(lotNumber: string, materialId: string | undefined): string {
  return materialId === undefined ? `\u0001${lotNumber}` : `${materialId}\u0000${lotNumber}`;
}

export class TxCache {
  /** True between Store.begin() and its commit/rollback: only then are entries kept. */
  active = false;
  /** lotNumberKey → lots with that number (of that material), as lotsByNumber returns them. */
  readonly lotsByNumber: Lru<string, LotKeyDbRow[]>;
  /** lot id → its key columns. */
  readonly lotsById: Lru<number, LotKeyDbRow>;
  /** identifierKey → ids of the lots it names, ascending. */
  readonly lotIdsByIdentifier: Lru<string, number[]>;
  /** material id → its row, or null when there is none. */
  readonly materials: Lru<string, MaterialDbRow | null>;
  /** The newest audit event, once read or written in this transaction. */
  auditHead: { seq: number; hash: string } | undefined;

  constructor(capacity = TX_CACHE_CAPACITY) {
    this.lotsByNumber = new Lru(capacity);
    this.lotsById = new Lru(capacity);
    this.lotIdsByIdentifier = new Lru(capacity);
    this.materials = new Lru(Math.min(capacity, 4096));
  }

  start(): void {
    this.clear();
    this.active = true;
  }

  end(): void {
    this.clear();
    this.active = false;
  }

  /** Forgets everything (a write this cache cannot follow, or a rollback). */
  clear(): void {
    this.lotsByNumber.clear();
    this.lotsById.clear();
    this.lotIdsByIdentifier.clear();
    this.materials.clear();
    this.auditHead = undefined;
  }

  /** A lot row changed or appeared: lookups by number may now be wrong. */
  lotsChanged(): void {
    if (this.lotsByNumber.size > 0) this.lotsByNumber.clear();
    if (this.lotsById.size > 0) this.lotsById.clear();
  }

  /** scheme:value (issuer) now also names lotId. */
  identifierAdded(key: string, lotId: number): void {
    const ids = this.lotIdsByIdentifier.get(key);
    if (ids === undefined || ids.includes(lotId)) return;
    const next = [...ids, lotId].sort((a, b) => a - b);
    this.lotIdsByIdentifier.set(key, next);
  }
}
