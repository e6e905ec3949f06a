// Materials, PO lines (planned receipts), lots and lot identifiers.
// Master data carries no event time, so a later write wins for the values it sends and an
// absent value never erases a known one (a CMO's batch header with only an expiry date must
// not blank the quantity the ERP sent).

import type { IdRef } from '../model/types.js';
import { toLot, type LotDbRow, type PurchaseOrderDbRow } from './rows.js';
import type { Sql } from './sql.js';
import { identifierKey, lotNumberKey, type LotKeyDbRow } from './tx-cache.js';
import type { LotFields, MaterialFields, Prov, PurchaseOrderFields } from './types.js';

const provArgs = (p: Prov) => [p.submissionId, p.line ?? null, p.mappingHash ?? null, p.partner] as const;

export function upsertMaterial(sql: Sql, f: MaterialFields, prov: Prov): void {
  sql.tx.materials.delete(f.materialId);
  sql
    .q(
      `INSERT INTO materials (material_id, description, gtin, ndc, product_family, uom, updated_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (material_id) DO UPDATE SET
         description = coalesce(excluded.description, description),
         gtin = coalesce(excluded.gtin, gtin),
         ndc = coalesce(excluded.ndc, ndc),
         product_family = coalesce(excluded.product_family, product_family),
         uom = coalesce(excluded.uom, uom),
         updated_at = excluded.updated_at,
         submission_id = excluded.submission_id, line = excluded.line, mapping_hash = excluded.mapping_hash, partner = excluded.partner`,
    )
    .run(f.materialId, f.description ?? null, f.gtin ?? null, f.ndc ?? null, f.productFamily ?? null, f.uom ?? null, sql.now(), ...provArgs(prov));
}

export function upsertPurchaseOrder(sql: Sql, f: PurchaseOrderFields, prov: Prov): void {
  sql
    .q(
      `INSERT INTO purchase_orders (po_number, po_item, material_id, quantity, uom, vendor, planned_date, confirmed_date, lot_number, vendor_batch, status,
                                    updated_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (po_number, po_item) DO UPDATE SET
         material_id = excluded.material_id,
         quantity = coalesce(excluded.quantity, quantity),
         uom = coalesce(excluded.uom, uom),
         vendor = coalesce(excluded.vendor, vendor),
         planned_date = coalesce(excluded.planned_date, planned_date),
         confirmed_date = coalesce(excluded.confirmed_date, confirmed_date),
         lot_number = coalesce(excluded.lot_number, lot_number),
         vendor_batch = coalesce(excluded.vendor_batch, vendor_batch),
         status = coalesce(excluded.status, status),
         updated_at = excluded.updated_at,
         submission_id = excluded.submission_id, line = excluded.line, mapping_hash = excluded.mapping_hash, partner = excluded.partner`,
    )
    .run(
      f.poNumber,
      f.poItem,
      f.materialId,
      f.quantity ?? null,
      f.uom ?? null,
      f.vendor ?? null,
      f.plannedDate ?? null,
      f.confirmedDate ?? null,
      f.lotNumber ?? null,
      f.vendorBatch ?? null,
      f.status ?? null,
      sql.now(),
      ...provArgs(prov),
    );
}

export function getPurchaseOrder(sql: Sql, poNumber: string, poItem: string): PurchaseOrderDbRow | undefined {
  return sql.q('SELECT * FROM purchase_orders WHERE po_number = ? AND po_item = ?').get(poNumber, poItem) as PurchaseOrderDbRow | undefined;
}

/** Open lines of a PO that belong to this vendor (all items, or the one named). */
export function openPoLines(sql: Sql, vendor: string, poNumber: string, poItem?: string): PurchaseOrderDbRow[] {
  return sql
    .q(
      `SELECT * FROM purchase_orders
       WHERE po_number = ? AND (? IS NULL OR po_item = ?) AND vendor = ? AND (status IS NULL OR status = 'open')
       ORDER BY po_item`,
    )
    .all(poNumber, poItem ?? null, poItem ?? null, vendor) as PurchaseOrderDbRow[];
}

export function upsertLot(sql: Sql, materialId: string, lotNumber: string, f: LotFields, prov: Prov): { lotId: number; created: boolean } {
  sql.tx.lotsChanged();
  const existing = sql.q('SELECT id FROM lots WHERE material_id = ? AND lot_number = ?').get(materialId, lotNumber) as { id: number } | undefined;
  const now = sql.now();
  const values = [
    f.expiryDate ?? null,
    f.manufactureDate ?? null,
    f.quantity ?? null,
    f.uom ?? null,
    f.site ?? null,
    f.vendor ?? null,
    f.qualityState ?? null,
    f.poNumber ?? null,
    f.poItem ?? null,
  ];
  if (existing) {
    sql
      .q(
        `UPDATE lots SET
           expiry_date = coalesce(?, expiry_date), manufacture_date = coalesce(?, manufacture_date),
           quantity = coalesce(?, quantity), uom = coalesce(?, uom), site = coalesce(?, site),
           vendor = coalesce(?, vendor), quality_state = coalesce(?, quality_state),
           po_number = coalesce(?, po_number), po_item = coalesce(?, po_item),
           updated_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
         WHERE id = ?`,
      )
      .run(...values, now, ...provArgs(prov), existing.id);
    return { lotId: existing.id, created: false };
  }
  const info = sql
    .q(
      `INSERT INTO lots (material_id, lot_number, expiry_date, manufacture_date, quantity, uom, site, vendor, quality_state, po_number, po_item,
                         created_at, updated_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(materialId, lotNumber, ...values, now, now, ...provArgs(prov));
  return { lotId: Number(info.lastInsertRowid), created: true };
}

/** Attributes a partner reports about a lot it does not own the key of (no vendor change). */
export function updateLotAttributes(sql: Sql, lotId: number, f: LotFields, prov: Prov): void {
  sql.tx.lotsChanged();
  sql
    .q(
      `UPDATE lots SET
         expiry_date = coalesce(?, expiry_date), manufacture_date = coalesce(?, manufacture_date),
         quantity = coalesce(?, quantity), uom = coalesce(?, uom), site = coalesce(?, site),
         quality_state = coalesce(?, quality_state),
         po_number = coalesce(po_number, ?), po_item = coalesce(po_item, ?),
         updated_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
       WHERE id = ?`,
    )
    .run(
      f.expiryDate ?? null,
      f.manufactureDate ?? null,
      f.quantity ?? null,
      f.uom ?? null,
      f.site ?? null,
      f.qualityState ?? null,
      f.poNumber ?? null,
      f.poItem ?? null,
      sql.now(),
      ...provArgs(prov),
      lotId,
    );
}

/** Links a lot to the PO line it fulfils, unless it is linked already. */
export function linkLotToPo(sql: Sql, lotId: number, poNumber: string, poItem: string): void {
  sql.tx.lotsChanged();
  sql.q('UPDATE lots SET po_number = ?, po_item = ? WHERE id = ? AND po_number IS NULL').run(poNumber, poItem, lotId);
}

export function getLot(sql: Sql, lotId: number): LotDbRow | undefined {
  return sql.q('SELECT * FROM lots WHERE id = ?').get(lotId) as LotDbRow | undefined;
}

/** The key columns of a lot (lotKeysByNumber's shape), remembered for the open ingest transaction. */
export function getLotKey(sql: Sql, lotId: number): LotKeyDbRow | undefined {
  const cache = sql.tx.active ? sql.tx.lotsById : undefined;
  const hit = cache?.get(lotId);
  if (hit !== undefined) return hit;
  const lot = sql.q('SELECT id, material_id, lot_number, vendor, po_number, po_item FROM lots WHERE id = ?').get(lotId) as LotKeyDbRow | undefined;
  if (lot && cache) cache.set(lotId, lot);
  return lot;
}

export function getLotRow(sql: Sql, lotId: number) {
  const r = getLot(sql, lotId);
  return r && toLot(r);
}

export function lotsByNumber(sql: Sql, lotNumber: string, materialId?: string): LotDbRow[] {
  // Two statements rather than "(? IS NULL OR …)": this is on the per-row path, and each one
  // is a plain index search.
  if (materialId !== undefined) {
    const lot = sql.q('SELECT * FROM lots WHERE material_id = ? AND lot_number = ?').get(materialId, lotNumber) as LotDbRow | undefined;
    return lot ? [lot] : [];
  }
  // Sorted here, not by ORDER BY: the index is on lot_number alone and the result is tiny.
  const lots = sql.q('SELECT * FROM lots WHERE lot_number = ?').all(lotNumber) as LotDbRow[];
  return lots.length > 1 ? lots.sort((a, b) => (a.material_id < b.material_id ? -1 : a.material_id > b.material_id ? 1 : 0)) : lots;
}

/**
 * The lot key columns of the lots with this number (of this material when given), sorted by
 * material: what resolution needs, remembered for the open ingest transaction.
 */
export function lotKeysByNumber(sql: Sql, lotNumber: string, materialId?: string): LotKeyDbRow[] {
  const cache = sql.tx.active ? sql.tx.lotsByNumber : undefined;
  const key = cache && lotNumberKey(lotNumber, materialId);
  const hit = key === undefined ? undefined : cache!.get(key);
  if (hit !== undefined) return hit;
  let lots: LotKeyDbRow[];
  if (materialId !== undefined) {
    const lot = sql
      .q('SELECT id, material_id, lot_number, vendor, po_number, po_item FROM lots WHERE material_id = ? AND lot_number = ?')
      .get(materialId, lotNumber) as LotKeyDbRow | undefined;
    lots = lot ? [lot] : [];
  } else {
    lots = sql.q('SELECT id, material_id, lot_number, vendor, po_number, po_item FROM lots WHERE lot_number = ?').all(lotNumber) as LotKeyDbRow[];
    if (lots.length > 1) lots.sort((a, b) => (a.material_id < b.material_id ? -1 : a.material_id > b.material_id ? 1 : 0));
  }
  if (key !== undefined) cache!.set(key, lots);
  return lots;
}

/** Lots an identifier of this issuer points at (usually one; more is a conflict). Ascending ids. */
export function lotIdsByIdentifier(sql: Sql, ref: IdRef, issuer: string): number[] {
  const cache = sql.tx.active ? sql.tx.lotIdsByIdentifier : undefined;
  const key = cache && identifierKey(ref, issuer);
  const hit = key === undefined ? undefined : cache!.get(key);
  // A copy: callers own what they get.
  if (hit !== undefined) return hit.slice();
  const ids = (
    sql.q('SELECT lot_id FROM lot_identifiers WHERE scheme = ? AND value = ? AND issuer = ? ORDER BY lot_id').all(ref.scheme, ref.value, issuer) as { lot_id: number }[]
  ).map((r) => r.lot_id);
  // Only hits are kept: a file's row-unique ids (sample numbers) miss once and would only push
  // the ids that do repeat (batch numbers) out of the cache. addIdentifier adds to kept entries.
  if (key !== undefined && ids.length > 0) cache!.set(key, ids.slice());
  return ids;
}

/**
 * Records scheme:value (issued by `issuer`) as naming this lot. Returns false when already
 * recorded (then it is only credited to the earliest submission that sent it).
 */
export function addIdentifier(sql: Sql, lotId: number, ref: IdRef, issuer: string, prov: Prov): boolean {
  // Insert first: on the ingest path the identifier is usually new, and then one statement does.
  const info = sql
    .q(
      `INSERT INTO lot_identifiers (lot_id, scheme, value, issuer, created_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (scheme, value, issuer, lot_id) DO NOTHING`,
    )
    .run(lotId, ref.scheme, ref.value, issuer, sql.now(), ...provArgs(prov));
  if (info.changes === 1) {
    if (sql.tx.active) sql.tx.identifierAdded(identifierKey(ref, issuer), lotId);
    return true;
  }
  if (prov.submissionId != null) {
    sql
      .q(
        `UPDATE lot_identifiers SET submission_id = ?, line = ?, mapping_hash = ?, partner = ?
         WHERE scheme = ? AND value = ? AND issuer = ? AND lot_id = ? AND (submission_id IS NULL OR submission_id > ?)`,
      )
      .run(...provArgs(prov), ref.scheme, ref.value, issuer, lotId, prov.submissionId);
  }
  return false;
}

/** Lots whose key or PO link matches this PO line: their planned receipt just changed. */
export function lotIdsForPoLine(sql: Sql, poNumber: string, poItem: string): number[] {
  return (
    sql
      .q(
        `SELECT l.id FROM lots l WHERE l.po_number = ? AND l.po_item = ?
         UNION
         SELECT l.id FROM lots l JOIN purchase_orders p ON p.material_id = l.material_id AND p.lot_number = l.lot_number
         WHERE p.po_number = ? AND p.po_item = ?`,
      )
      .all(poNumber, poItem, poNumber, poItem) as { id: number }[]
  ).map((r) => r.id);
}

/** Lots of a material (a material master change may change their rule set). */
export function lotIdsForMaterial(sql: Sql, materialId: string): number[] {
  return (sql.q('SELECT id FROM lots WHERE material_id = ? ORDER BY id').all(materialId) as { id: number }[]).map((r) => r.id);
}

/** The vendor of a lot: its own, else that of the PO line it fulfils. */
export function effectiveVendor(sql: Sql, lot: LotKeyDbRow): string | null {
  if (lot.vendor) return lot.vendor;
  const po = plannedReceiptOf(sql, lot);
  return po?.vendor ?? null;
}

/** The PO line a lot fulfils: its explicit link first, else a line naming its lot number. */
export function plannedReceiptOf(sql: Sql, lot: LotKeyDbRow): PurchaseOrderDbRow | undefined {
  if (lot.po_number && lot.po_item) {
    const linked = getPurchaseOrder(sql, lot.po_number, lot.po_item);
    if (linked) return linked;
  }
  return sql
    .q(
      `SELECT * FROM purchase_orders WHERE material_id = ? AND lot_number = ?
       ORDER BY (coalesce(status, 'open') = 'open') DESC, po_number, po_item LIMIT 1`,
    )
    .get(lot.material_id, lot.lot_number) as PurchaseOrderDbRow | undefined;
}
