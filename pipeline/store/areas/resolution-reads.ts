// What lot resolution reads (masterdata.ts resolveIn): where a partner identifier points, the lots
// with a number, a lot's key, a lot's vendor. Two implementations:
// - dbReads: every lookup one query, as resolution of a single record does;
// - BatchReads: for a run of records resolved together (apply-batch.ts). The identifiers and lot
//   numbers the whole run names are read up front in a few IN-list queries; every answer is kept
//   for the run, and an identifier the run learns is added to what is kept, so a later record of
//   the run sees it exactly as it would see the row written by the row-by-row path. Lookups it did
//   not prefetch fall through to the database once and are kept too.
// A BatchReads lives for one run inside one transaction, during which nothing but the run itself
// writes lots, identifiers or PO lines on this connection; another connection's concurrent
// commit is seen at the run's next prefetch, as a row-by-row file sees it at its next statement.

import type { IdRef } from '../../model/types.js';
import type { Db } from '../db/db.js';
import { chunks, marks } from '../db/db.js';
import type { LotKeyDbRow, PurchaseOrderDbRow } from '../rows.js';

const LOT_KEY_COLUMNS = 'id, material_id, lot_number, vendor, po_number, po_item';

export interface ResolutionReads {
  /** Lots an identifier of this issuer points at. Ascending ids. */
  lotIdsByIdentifier(ref: IdRef, issuer: string): Promise<number[]>;
  /** Lots with this number (of this material when given), sorted by material. */
  lotKeysByNumber(lotNumber: string, materialId?: string): Promise<LotKeyDbRow[]>;
  getLotKey(lotId: number): Promise<LotKeyDbRow | undefined>;
  /** The vendor of a lot: its own, else that of the PO line it fulfils. */
  effectiveVendor(lot: LotKeyDbRow): Promise<string | null>;
}

const byMaterial = (a: { material_id: string }, b: { material_id: string }) => (a.material_id < b.material_id ? -1 : a.material_id > b.material_id ? 1 : 0);

/** Lots by number (of one material when given) with these columns, sorted by material. */
export async function lotsWithNumber<T extends { material_id: string }>(db: Db, columns: string, lotNumber: string, materialId?: string): Promise<T[]> {
  // Two statements rather than "(? IS NULL OR …)": each is a plain index search. Sorted here,
  // not by ORDER BY: the index is on lot_number alone and the result is tiny (at most one per
  // material, so the sort is complete on both dialects).
  if (materialId !== undefined) {
    const lot = await db.get<T>(`SELECT ${columns} FROM lots WHERE material_id = ? AND lot_number = ?`, [materialId, lotNumber]);
    return lot ? [lot] : [];
  }
  const lots = await db.all<T>(`SELECT ${columns} FROM lots WHERE lot_number = ?`, [lotNumber]);
  return lots.length > 1 ? lots.sort(byMaterial) : lots;
}

export async function getPurchaseOrder(db: Db, poNumber: string, poItem: string): Promise<PurchaseOrderDbRow | undefined> {
  return db.get<PurchaseOrderDbRow>('SELECT * FROM purchase_orders WHERE po_number = ? AND po_item = ?', [poNumber, poItem]);
}

export async function plannedReceiptOf(db: Db, lot: LotKeyDbRow): Promise<PurchaseOrderDbRow | undefined> {
  if (lot.po_number && lot.po_item) {
    const linked = await getPurchaseOrder(db, lot.po_number, lot.po_item);
    if (linked) return linked;
  }
  // CASE rather than a boolean expression: SQLite sorts 0/1, PostgreSQL false/true; this reads
  // the same on both (open lines first).
  return db.get<PurchaseOrderDbRow>(
    `SELECT * FROM purchase_orders WHERE material_id = ? AND lot_number = ?
     ORDER BY CASE WHEN coalesce(status, 'open') = 'open' THEN 0 ELSE 1 END, po_number, po_item LIMIT 1`,
    [lot.material_id, lot.lot_number],
  );
}

/** One query per lookup. */
export function dbReads(db: Db): ResolutionReads {
  return {
    lotIdsByIdentifier: async (ref, issuer) =>
      (await db.all<{ lot_id: number }>('SELECT lot_id FROM lot_identifiers WHERE scheme = ? AND value = ? AND issuer = ? ORDER BY lot_id', [ref.scheme, ref.value, issuer])).map((r) =>
        Number(r.lot_id),
      ),
    lotKeysByNumber: (lotNumber, materialId) => lotsWithNumber<LotKeyDbRow>(db, LOT_KEY_COLUMNS, lotNumber, materialId),
    getLotKey: (lotId) => db.get<LotKeyDbRow>(`SELECT ${LOT_KEY_COLUMNS} FROM lots WHERE id = ?`, [lotId]),
    effectiveVendor: async (lot) => lot.vendor ?? (await plannedReceiptOf(db, lot))?.vendor ?? null,
  };
}


const idKey = (scheme: string, value: string, issuer: string): string => JSON.stringify([scheme, value, issuer]);

/** The lookups of one run of records, prefetched and kept (see the header). */
export class BatchReads implements ResolutionReads {
  private readonly db: Db;
  private readonly plain: ResolutionReads;
  private readonly idLots = new Map<string, number[]>();
  /** All lots with a number, key columns, sorted by material. */
  private readonly numbered = new Map<string, LotKeyDbRow[]>();
  private readonly keys = new Map<number, LotKeyDbRow | undefined>();
  private readonly vendors = new Map<number, string | null>();

  constructor(db: Db) {
    this.db = db;
    this.plain = dbReads(db);
  }

  /** Reads at once what resolving these references will look up: identifiers of `issuer`, lot numbers, their lots. */
  async prefetch(issuer: string, ids: readonly IdRef[], lotNumbers: readonly string[]): Promise<void> {
    const byScheme = new Map<string, Set<string>>();
    for (const id of ids) {
      if (this.idLots.has(idKey(id.scheme, id.value, issuer))) continue;
      const values = byScheme.get(id.scheme) ?? new Set<string>();
      values.add(id.value);
      byScheme.set(id.scheme, values);
    }
    for (const [scheme, values] of byScheme) {
      const list = [...values];
      for (const v of list) this.idLots.set(idKey(scheme, v, issuer), []);
      for (const part of chunks(list)) {
        const rows = await this.db.all<{ value: string; lot_id: number }>(
          `SELECT value, lot_id FROM lot_identifiers WHERE scheme = ? AND issuer = ? AND value IN (${marks(part)}) ORDER BY lot_id`,
          [scheme, issuer, ...part],
        );
        for (const r of rows) this.idLots.get(idKey(scheme, r.value, issuer))?.push(Number(r.lot_id));
      }
    }
    const numbers = [...new Set(lotNumbers)].filter((n) => !this.numbered.has(n));
    for (const n of numbers) this.numbered.set(n, []);
    for (const part of chunks(numbers)) this.keep(await this.db.all<LotKeyDbRow>(`SELECT ${LOT_KEY_COLUMNS} FROM lots WHERE lot_number IN (${marks(part)})`, part), true);
    for (const list of this.numbered.values()) if (list.length > 1) list.sort(byMaterial);
    // The lots the identifiers point at, for the checks resolution makes on them.
    const unknown = [...new Set([...this.idLots.values()].flat())].filter((id) => !this.keys.has(id));
    for (const part of chunks(unknown)) this.keep(await this.db.all<LotKeyDbRow>(`SELECT ${LOT_KEY_COLUMNS} FROM lots WHERE id IN (${marks(part)})`, part), false);
  }

  private keep(rows: LotKeyDbRow[], byNumber: boolean): void {
    for (const r of rows) {
      const lot = { ...r, id: Number(r.id) };
      this.keys.set(lot.id, lot);
      if (byNumber) this.numbered.get(lot.lot_number)?.push(lot);
    }
  }

  /** An identifier the run learned now points at this lot too (written by the run after its facts). */
  learned(lotId: number, ids: readonly IdRef[], issuer: string): void {
    for (const id of ids) {
      const k = idKey(id.scheme, id.value, issuer);
      const lots = this.idLots.get(k);
      // Resolution looked every identifier it learns up first, so it is kept.
      if (!lots) throw new Error(`BatchReads: learned ${id.scheme} ${id.value} without looking it up`);
      if (!lots.includes(lotId)) this.idLots.set(k, [...lots, lotId].sort((a, b) => a - b));
    }
  }

  async lotIdsByIdentifier(ref: IdRef, issuer: string): Promise<number[]> {
    const k = idKey(ref.scheme, ref.value, issuer);
    let lots = this.idLots.get(k);
    if (!lots) this.idLots.set(k, (lots = await this.plain.lotIdsByIdentifier(ref, issuer)));
    return [...lots];
  }

  async lotKeysByNumber(lotNumber: string, materialId?: string): Promise<LotKeyDbRow[]> {
    let lots = this.numbered.get(lotNumber);
    if (!lots) {
      lots = await this.plain.lotKeysByNumber(lotNumber);
      this.numbered.set(lotNumber, lots);
      for (const l of lots) this.keys.set(Number(l.id), l);
    }
    return materialId === undefined ? [...lots] : lots.filter((l) => l.material_id === materialId);
  }

  async getLotKey(lotId: number): Promise<LotKeyDbRow | undefined> {
    if (!this.keys.has(lotId)) this.keys.set(lotId, await this.plain.getLotKey(lotId));
    return this.keys.get(lotId);
  }

  async effectiveVendor(lot: LotKeyDbRow): Promise<string | null> {
    if (lot.vendor) return lot.vendor;
    const id = Number(lot.id);
    if (!this.vendors.has(id)) this.vendors.set(id, await this.plain.effectiveVendor(lot));
    return this.vendors.get(id)!;
  }
}
